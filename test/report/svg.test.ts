import {
  MIN_TEXT_PX,
  esc,
  forestPlot,
  formatCompact,
  groupedBarChart,
  histogram,
  horizontalBarChart,
  lineChart,
  makeScale,
  niceDomain,
  niceTicks,
  smallestFontSize,
  textWidth,
} from '../../core/report/svg';

describe('ticks and scales', () => {
  it('picks round ticks', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 0.53, 5)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(niceTicks(94_917_301, 124_475_855, 5)).toEqual([95e6, 100e6, 105e6, 110e6, 115e6, 120e6]);
    expect(niceDomain(0, 0.53)).toEqual([0, 0.6]);
    expect(niceTicks(3, 3)).toEqual(expect.arrayContaining([3]));
  });

  it('maps linear, sqrt and log scales', () => {
    const lin = makeScale('linear', [0, 10], [100, 0]);
    expect(lin(0)).toBe(100);
    expect(lin(5)).toBe(50);
    const sqrt = makeScale('sqrt', [0, 100], [0, 10]);
    expect(sqrt(25)).toBeCloseTo(5, 12);
    const log = makeScale('log', [0.1, 10], [0, 200]);
    expect(log(1)).toBeCloseTo(100, 12);
    expect(log.ticks()).toEqual([0.1, 0.2, 0.5, 1, 2, 5, 10]);
  });

  it('formats compact numbers and escapes', () => {
    expect(formatCompact(44_012_534)).toBe('44M');
    expect(formatCompact(1_500)).toBe('1500');
    expect(formatCompact(12_345)).toBe('12.3k');
    expect(formatCompact(0.25)).toBe('0.25');
    expect(esc(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  });
});

describe('charts', () => {
  it('grouped bars: one rect per positive value, escaped labels, legend', () => {
    const svg = groupedBarChart({
      title: 'T <1>',
      categories: ['a<b', 'c'],
      series: [
        { name: 'pop', values: [0.1, 0.2], color: '#111' },
        { name: 'cust', values: [0.3, 0], color: '#222' },
      ],
      hLines: [{ value: 0.25, label: 'limit' }],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('aria-label="T &lt;1&gt;"');
    expect(svg).toContain('a&lt;b');
    expect(svg).not.toContain('a<b');
    expect(svg.match(/fill="#111"/g)).toHaveLength(2 + 1); // two bars + legend swatch
    expect(svg.match(/fill="#222"/g)).toHaveLength(1 + 1); // the zero bar is not drawn
    expect(svg).toContain('limit');
  });

  it('bar heights are proportional to the values', () => {
    const svg = groupedBarChart({ title: 't', categories: ['a', 'b'], series: [{ name: 's', values: [1, 2], color: '#123456' }], yMax: 2 });
    const heights = [...svg.matchAll(/<rect [^>]*height="([\d.]+)" fill="#123456"/g)].map((m) => Number(m[1]));
    expect(heights).toHaveLength(2);
    expect(heights[1] / heights[0]).toBeCloseTo(2, 2);
  });

  it('handles all-zero data without NaN', () => {
    const svg = groupedBarChart({ title: 't', categories: ['a'], series: [{ name: 's', values: [0], color: '#000' }] });
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('histogram normalises each series to shares and draws the split line', () => {
    const svg = histogram({
      title: 'h',
      series: [
        { name: 'pop', counts: [6, 2, 2], color: '#aaa' },
        { name: 'cust', counts: [1, 1], color: '#bbb' },
      ],
      splitAfter: { value: 1, label: 'heavy: more than 1' },
    });
    expect(svg).toContain('pop, 0: 60.00\u00a0%');
    expect(svg).toContain('cust, 1: 50.00\u00a0%');
    expect(svg).toContain('heavy: more than 1');
  });

  it('line chart breaks the line at missing points and marks highlights', () => {
    const svg = lineChart({
      title: 'l',
      series: [{ name: 's', points: [{ x: 1, y: 1 }, { x: 2, y: 2 }, { x: 3, y: null }, { x: 4, y: 1 }, { x: 5, y: 3 }], color: '#00f' }],
      highlights: [{ x: 4, y: 1, label: 'chosen' }],
      vLines: [{ x: 4, label: 'k = 4' }],
      integerX: true,
    });
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/<circle [^>]*r="3.2"/g)).toHaveLength(4);
    expect(svg).toContain('chosen');
    expect(svg).toContain('k = 4');
  });

  it('horizontal bars label every row', () => {
    const svg = horizontalBarChart({ title: 'hb', categories: ['x', 'y'], series: [{ name: 'js', values: [0.5, 0.1], color: '#0a0' }], valueLabels: ['A', 'B'] });
    expect(svg).toContain('>x</text>');
    expect(svg).toContain('>B</text>');
  });

  it('forest plot draws an arrow for an interval reaching 0 and no marker for a zero estimate', () => {
    const svg = forestPlot({
      title: 'f',
      rows: [
        { label: 'a', estimate: 2, lo: 1.5, hi: 2.5, color: '#0f0' },
        { label: 'b', estimate: 0, lo: 0, hi: 0.05, color: '#f00' },
      ],
    });
    expect(svg.match(/<path d="M[^"]*" fill="#f00"/g)).toHaveLength(1);
    expect(svg.match(/transform="rotate\(45/g)).toHaveLength(1);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('never lets a chart shrink below legible text: min-width = width × MIN_TEXT_PX / smallest font', () => {
    const wide = groupedBarChart({ title: 't', categories: ['a', 'b'], series: [{ name: 's', values: [1, 2], color: '#000' }], width: 1080 });
    expect(smallestFontSize(wide)).toBe(11);
    expect(wide).toContain(`min-width:${Math.ceil((1080 * MIN_TEXT_PX) / 11)}px`);
    // Crowded rotated labels use 9.5: the chart must stay wider.
    const crowded = groupedBarChart({ title: 't', categories: Array.from({ length: 120 }, (_, i) => `COLUMN_${i}`), series: [{ name: 's', values: Array(120).fill(0.5), color: '#000' }], width: 1080 });
    expect(smallestFontSize(crowded)).toBe(9.5);
    expect(crowded).toContain(`min-width:${Math.ceil((1080 * MIN_TEXT_PX) / 9.5)}px`);
  });

  it('wraps a legend that does not fit into rows inside the chart', () => {
    const series = ['a long series name number one', 'a long series name number two', 'third'].map((name, i) => ({ name, values: [0.2, 0.4], color: `#00${i}` }));
    const narrow = horizontalBarChart({ title: 'h', categories: ['x', 'y'], series, width: 340 });
    const legendTexts = [...(narrow.match(/<g class="legend">([\s\S]*?)<\/g>/)?.[1] ?? '').matchAll(/<text x="([\d.-]+)" y="([\d.-]+)"[^>]*>([^<]*)</g)];
    expect(legendTexts.map((m) => m[3])).toEqual(expect.arrayContaining(series.map((s) => s.name)));
    const rows = new Set(legendTexts.map((m) => m[2]));
    expect(rows.size).toBeGreaterThan(1);
    for (const [, x, , name] of legendTexts) {
      expect(Number(x)).toBeGreaterThanOrEqual(0);
      expect(Number(x) + textWidth(name, 12)).toBeLessThanOrEqual(340);
    }
  });

  it('keeps tick labels of a narrow line chart apart and axis titles inside the chart', () => {
    const svg = lineChart({
      title: 'l',
      series: [{ name: 's', points: Array.from({ length: 39 }, (_, i) => ({ x: i + 2, y: 100 - i })), color: '#00f' }],
      integerX: true,
      width: 340,
      xLabel: 'a rather long axis title that would not fit a phone-sized chart at twelve pixels',
    });
    const ticks = [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" fill="#6b7280" font-size="11">(\d+)</g)].map((m) => Number(m[1]));
    expect(ticks.length).toBeGreaterThan(3);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i] - ticks[i - 1]).toBeGreaterThanOrEqual(25);
    const title = /<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" fill="#6b7280"(?: font-size="(\d+)")?>(?:<title>([^<]*)<\/title>)?(a rather[^<]*)</.exec(svg);
    expect(title).not.toBeNull();
    const [, x, size, full, shown] = title!;
    expect(full).toBe('a rather long axis title that would not fit a phone-sized chart at twelve pixels');
    expect(Number(size ?? 12)).toBeGreaterThanOrEqual(10);
    const half = textWidth(shown, Number(size ?? 12)) / 2;
    expect(Number(x) - half).toBeGreaterThanOrEqual(0);
    expect(Number(x) + half).toBeLessThanOrEqual(340);
  });
});
