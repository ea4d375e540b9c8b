import { esc, forestPlot, formatCompact, groupedBarChart, histogram, horizontalBarChart, lineChart, makeScale, niceDomain, niceTicks } from '../../core/report/svg';

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
});
