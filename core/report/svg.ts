/**
 * Small, dependency-free SVG chart helpers for the self-contained HTML report. Every function returns one
 * `<svg>` element as a string, sized by a viewBox so it scales to its container. All text is escaped here;
 * callers pass plain strings.
 */

export const COLORS = {
  population: '#7f93b5',
  customers: '#e8743b',
  over: '#1f9d55',
  under: '#c0392b',
  neutral: '#8a909a',
  accent: '#3b5bdb',
  accentSoft: '#b9c6f3',
  muted: '#c5cad3',
  grid: '#e9ecf1',
  axis: '#6b7280',
  text: '#1f2933',
  subtle: '#6b7280',
  highlight: '#d6336c',
  highlightSoft: '#fdecef',
} as const;

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

/** Escapes text for HTML/SVG text nodes and attribute values. */
export function esc(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Rounds coordinates so the markup stays small and never prints "1e-7". */
function r(x: number): string {
  if (!Number.isFinite(x)) return '0';
  return String(Math.round(x * 100) / 100);
}

// ---- number formatting ---------------------------------------------------------------------------------------

export function formatPercent(share: number, digits = 1): string {
  if (!Number.isFinite(share)) return '–';
  return `${(share * 100).toFixed(digits)}\u00a0%`;
}

/** Compact numbers for ticks: 1200 -> "1.2k", 44012534 -> "44M", 0.25 -> "0.25". */
export function formatCompact(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const trim = (x: number, d: number) => String(Number(x.toFixed(d)));
  if (abs >= 1e9) return `${trim(value / 1e9, abs >= 1e10 ? 0 : 1)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6, abs >= 1e7 ? 0 : 1)}M`;
  if (abs >= 1e4) return `${trim(value / 1e3, abs >= 1e5 ? 0 : 1)}k`;
  if (abs >= 100 || abs === 0) return trim(value, 0);
  if (abs >= 1) return trim(value, 2);
  if (abs >= 0.001) return trim(value, 4);
  return value.toExponential(1);
}

/** A step of 1, 2 or 5 times a power of ten giving about `count` intervals over `span`. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  const step = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return step * magnitude;
}

/** Round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep(max - min, count);
  const ticks: number[] = [];
  const start = Math.ceil(min / step - 1e-9);
  for (let i = start; i * step <= max + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** [min, max] widened to round tick values. */
export function niceDomain(min: number, max: number, count = 5): [number, number] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return [min - pad, max + pad];
  }
  const step = niceStep(max - min, count);
  const round = (v: number) => Number(v.toPrecision(12));
  return [round(Math.floor(min / step + 1e-9) * step), round(Math.ceil(max / step - 1e-9) * step)];
}

// ---- scales ------------------------------------------------------------------------------------------------------

export type ScaleKind = 'linear' | 'sqrt' | 'log';

export interface Scale {
  (value: number): number;
  kind: ScaleKind;
  domain: [number, number];
  ticks(count?: number): number[];
}

export function makeScale(kind: ScaleKind, domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const t = (v: number) => {
    if (kind === 'sqrt') return Math.sqrt(Math.max(0, v));
    if (kind === 'log') return Math.log10(Math.max(v, Number.MIN_VALUE));
    return v;
  };
  const t0 = t(d0);
  const t1 = t(d1);
  const span = t1 - t0 || 1;
  const scale = ((value: number) => r0 + ((t(value) - t0) / span) * (r1 - r0)) as Scale;
  scale.kind = kind;
  scale.domain = [d0, d1];
  scale.ticks = (count = 5) => {
    if (kind === 'log') return logTicks(d0, d1);
    if (kind === 'sqrt') return sqrtTicks(d0, d1, count);
    return niceTicks(d0, d1, count).filter((v) => v >= d0 - 1e-12 && v <= d1 + 1e-12);
  };
  return scale;
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const decades = hi - lo;
  const mantissas = decades <= 2 ? [1, 2, 5] : decades <= 4 ? [1, 3] : [1];
  for (let e = lo; e <= hi; e++) {
    for (const m of mantissas) {
      const v = Number((m * 10 ** e).toPrecision(6));
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks;
}

/** Ticks that are evenly spread on a square-root axis, rounded to one or two significant digits. */
function sqrtTicks(min: number, max: number, count: number): number[] {
  const out = new Set<number>([Math.max(0, min)]);
  const s0 = Math.sqrt(Math.max(0, min));
  const s1 = Math.sqrt(max);
  for (let i = 1; i <= count; i++) {
    const raw = (s0 + ((s1 - s0) * i) / count) ** 2;
    const magnitude = 10 ** Math.floor(Math.log10(raw));
    const norm = raw / magnitude;
    const rounded = (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * magnitude;
    const candidate = Number(rounded.toPrecision(6));
    if (candidate <= max * (1 + 1e-9)) out.add(candidate);
  }
  return [...out].sort((a, b) => a - b);
}

// ---- shared pieces -------------------------------------------------------------------------------------------------

export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface RefLine {
  value: number;
  label: string;
  color?: string;
  dashed?: boolean;
}

export interface LegendItem {
  name: string;
  color: string;
  kind?: 'box' | 'line';
  dashed?: boolean;
}

/** The smallest text a chart may be shown at, in CSS pixels: a chart is never scaled below this. */
export const MIN_TEXT_PX = 9;

const MIN_WIDTH_SLOT = '__MIN_WIDTH__';

function svgOpen(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" ` +
    `role="img" aria-label="${esc(title)}" font-family="${esc(FONT)}" font-size="12" fill="${COLORS.text}" ` +
    `style="max-width:100%;min-width:${MIN_WIDTH_SLOT}px;height:auto">` +
    `<title>${esc(title)}</title>`
  );
}

/** The smallest font size used in a chart's markup (the root's 12 included). */
export function smallestFontSize(svg: string): number {
  let smallest = 12;
  for (const m of svg.matchAll(/font-size="([\d.]+)"/g)) smallest = Math.min(smallest, Number(m[1]));
  return smallest;
}

/**
 * Closes a chart. The viewBox lets it shrink with its container, but only so far that its smallest text stays
 * at least MIN_TEXT_PX on screen: below that width it keeps its size (its container scrolls instead).
 */
function closeSvg(parts: string[], width: number): string {
  const svg = parts.join('') + '</svg>';
  const minWidth = Math.ceil((width * MIN_TEXT_PX) / smallestFontSize(svg));
  return svg.replace(MIN_WIDTH_SLOT, String(minWidth));
}

/** Approximate rendered width of text (no layout engine here). */
export function textWidth(text: string, fontSize = 12): number {
  let em = 0;
  for (const ch of text) em += charWidth(ch);
  return em * fontSize;
}

/** Rough advance widths in em of a sans-serif face (wide enough for DejaVu Sans, the usual Linux fallback). */
function charWidth(ch: string): number {
  if ('MWmw@'.includes(ch)) return 0.9;
  if (/[A-Z]/.test(ch)) return 0.7;
  if (/[0-9]/.test(ch)) return 0.64;
  if ("iljI.,:;|!' ".includes(ch)) return 0.3;
  if ('ftr-()[]'.includes(ch)) return 0.4;
  if (/[a-z_]/.test(ch)) return 0.6;
  return 0.64;
}

function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, Math.max(1, maxChars - 1))}…`;
}

const LEGEND_ROW = 18;

function legendItemWidth(item: LegendItem): number {
  return textWidth(item.name, 12) + 18 + 16;
}

/** Legend items split into right-aligned rows that fit `available` wide (one item per row at the least). */
function legendRows(items: ReadonlyArray<LegendItem>, available: number): LegendItem[][] {
  const rows: LegendItem[][] = [];
  let used = Infinity;
  for (const item of items) {
    const w = legendItemWidth(item);
    if (used + w > available) {
      rows.push([]);
      used = 0;
    }
    rows[rows.length - 1].push(item);
    used += w;
  }
  return rows;
}

/** Height the legend takes above the plot (0 without items). */
function legendHeight(items: ReadonlyArray<LegendItem>, available: number): number {
  return legendRows(items, available).length * LEGEND_ROW;
}

/** The legend, right-aligned at `right`, its first row centred on `y`, wrapped to rows within `available`. */
function legend(items: ReadonlyArray<LegendItem>, right: number, y: number, available = Infinity): string {
  if (items.length === 0) return '';
  const parts: string[] = [];
  legendRows(items, available).forEach((row, ri) => {
    const rowY = y + ri * LEGEND_ROW;
    let x = right;
    for (let i = row.length - 1; i >= 0; i--) {
      const item = row[i];
      x -= textWidth(item.name, 12);
      parts.push(`<text x="${r(x)}" y="${r(rowY + 4)}" fill="${COLORS.text}">${esc(item.name)}</text>`);
      x -= 18;
      if (item.kind === 'line') {
        parts.push(
          `<line x1="${r(x)}" x2="${r(x + 14)}" y1="${r(rowY)}" y2="${r(rowY)}" stroke="${esc(item.color)}" stroke-width="2.5"` +
            `${item.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
        );
      } else {
        parts.push(`<rect x="${r(x)}" y="${r(rowY - 6)}" width="12" height="12" rx="2" fill="${esc(item.color)}"/>`);
      }
      x -= 16;
    }
  });
  return `<g class="legend">${parts.join('')}</g>`;
}

/** A font size (12 down to 10) at which `text` fits `available`; the text is shortened when even 10 is too wide. */
function fitText(text: string, available: number): { text: string; fontSize: number } {
  for (const fontSize of [12, 11, 10]) if (textWidth(text, fontSize) <= available) return { text, fontSize };
  return { text: truncate(text, Math.max(4, Math.floor(available / (10 * 0.58)))), fontSize: 10 };
}

/** An axis title: `<text>` centred on cx, kept inside [0, width]. */
function axisTitle(text: string, cx: number, y: number, width: number): string {
  const fit = fitText(text, width - 8);
  const half = textWidth(fit.text, fit.fontSize) / 2;
  const x = Math.min(width - 4 - half, Math.max(4 + half, cx));
  const size = fit.fontSize === 12 ? '' : ` font-size="${fit.fontSize}"`;
  const full = fit.text === text ? '' : `<title>${esc(text)}</title>`;
  return `<text x="${r(x)}" y="${r(y)}" text-anchor="middle" fill="${COLORS.subtle}"${size}>${full}${esc(fit.text)}</text>`;
}

function yAxis(scale: Scale, left: number, right: number, format: (v: number) => string, tickCount = 5): string {
  return scale
    .ticks(tickCount)
    .map((v) => {
      const y = scale(v);
      return (
        `<line x1="${r(left)}" x2="${r(right)}" y1="${r(y)}" y2="${r(y)}" stroke="${COLORS.grid}"/>` +
        `<text x="${r(left - 6)}" y="${r(y + 4)}" text-anchor="end" fill="${COLORS.subtle}" font-size="11">${esc(format(v))}</text>`
      );
    })
    .join('');
}

function xAxisNumeric(scale: Scale, top: number, bottom: number, format: (v: number) => string, tickCount = 6, ticks?: number[]): string {
  return (ticks ?? scale.ticks(tickCount))
    .map((v) => {
      const x = scale(v);
      return (
        `<line x1="${r(x)}" x2="${r(x)}" y1="${r(top)}" y2="${r(bottom)}" stroke="${COLORS.grid}"/>` +
        `<text x="${r(x)}" y="${r(bottom + 16)}" text-anchor="middle" fill="${COLORS.subtle}" font-size="11">${esc(format(v))}</text>`
      );
    })
    .join('');
}

function axisTitles(opts: { xLabel?: string; yLabel?: string }, width: number, height: number, m: Margins): string {
  let out = '';
  if (opts.xLabel) out += axisTitle(opts.xLabel, m.left + (width - m.left - m.right) / 2, height - 6, width);
  if (opts.yLabel) {
    const plotH = height - m.top - m.bottom;
    const cy = m.top + plotH / 2;
    const fit = fitText(opts.yLabel, Math.max(plotH + m.bottom / 2, 40));
    const size = fit.fontSize === 12 ? '' : ` font-size="${fit.fontSize}"`;
    out += `<text transform="translate(14 ${r(cy)}) rotate(-90)" text-anchor="middle" fill="${COLORS.subtle}"${size}>${esc(fit.text)}</text>`;
  }
  return out;
}

function horizontalRefLine(line: RefLine, scale: Scale, left: number, right: number): string {
  const y = scale(line.value);
  const color = line.color ?? COLORS.highlight;
  return (
    `<line x1="${r(left)}" x2="${r(right)}" y1="${r(y)}" y2="${r(y)}" stroke="${esc(color)}" stroke-width="1.5"` +
    `${line.dashed === false ? '' : ' stroke-dasharray="6 4"'}/>` +
    `<text x="${r(right - 4)}" y="${r(y - 5)}" text-anchor="end" fill="${esc(color)}" font-size="11" font-weight="600" ` +
    `paint-order="stroke" stroke="#fff" stroke-width="3">${esc(line.label)}</text>`
  );
}

function verticalRefLine(
  x: number,
  label: string,
  top: number,
  bottom: number,
  color: string = COLORS.highlight,
  anchor: 'start' | 'end' = 'start',
  at: 'top' | 'bottom' = 'top',
): string {
  const dx = anchor === 'start' ? 5 : -5;
  const ty = at === 'top' ? top + 12 : bottom - 6;
  return (
    `<line x1="${r(x)}" x2="${r(x)}" y1="${r(top)}" y2="${r(bottom)}" stroke="${esc(color)}" stroke-width="1.5" stroke-dasharray="6 4"/>` +
    `<text x="${r(x + dx)}" y="${r(ty)}" text-anchor="${anchor}" fill="${esc(color)}" font-size="11" font-weight="600" ` +
    `paint-order="stroke" stroke="#fff" stroke-width="3">${esc(label)}</text>`
  );
}

// ---- grouped (and plain) vertical bar chart ------------------------------------------------------------------------

export interface BarSeries {
  name: string;
  values: ReadonlyArray<number>;
  color: string;
  /** Per-category colour overrides. */
  colors?: ReadonlyArray<string | undefined>;
}

export interface GroupedBarOptions {
  title: string;
  categories: ReadonlyArray<string>;
  series: ReadonlyArray<BarSeries>;
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  yFormat?: (v: number) => string;
  yScale?: 'linear' | 'sqrt';
  /** Upper end of the y axis; default: the data maximum, rounded up. */
  yMax?: number;
  /** Rotate category labels by -90 degrees (for many or long labels). Default: automatic. */
  rotateLabels?: boolean;
  /** Show only every n-th category label (histograms). */
  labelEvery?: number;
  labelColors?: ReadonlyArray<string | undefined>;
  /** Bold category labels. */
  labelBold?: ReadonlyArray<boolean>;
  /** Shade a category's band. */
  bandColors?: ReadonlyArray<string | undefined>;
  /** Text above each group, e.g. "×3.8". */
  annotations?: ReadonlyArray<{ text: string; color?: string } | undefined>;
  /** Second line under each category label. */
  sublabels?: ReadonlyArray<{ text: string; color?: string } | undefined>;
  hLines?: ReadonlyArray<RefLine>;
  /** A shaded horizontal band between two y values. */
  hBand?: { from: number; to: number; label: string; color?: string };
  /** Vertical lines at category positions (0 = left edge of the first category, 1.5 = middle of the second). */
  vLines?: ReadonlyArray<{ at: number; label: string; color?: string; anchor?: 'start' | 'end' }>;
  /** Extra legend entries (besides the series). */
  legendExtra?: ReadonlyArray<LegendItem>;
  showLegend?: boolean;
  /** List the series in the legend (default true; false leaves only `legendExtra`). */
  legendSeries?: boolean;
  /** Tooltip for one bar. */
  barTitle?: (seriesIndex: number, categoryIndex: number) => string;
}

// long because: an SVG layout computed top to bottom (label sizes -> margins -> scales -> axes -> bars -> legend), each from the measurements before it
export function groupedBarChart(opts: GroupedBarOptions): string {
  const width = opts.width ?? 1080;
  const height = opts.height ?? 360;
  const n = opts.categories.length;
  const yFormat = opts.yFormat ?? formatCompact;
  const longest = opts.categories.reduce(
    (mx, c, i) => (opts.labelEvery && i % opts.labelEvery !== 0 ? mx : Math.max(mx, ...c.split('\n').map((line) => line.length))),
    0,
  );
  const plotGuess = width - 80;
  const step0 = n > 0 ? plotGuess / n : plotGuess;
  const rotate = opts.rotateLabels ?? textWidth('x'.repeat(longest), 11) > step0 * (opts.labelEvery ?? 1) - 4;
  const labelFont = rotate && step0 < 13 ? 9.5 : 11;
  const maxLabelChars = 30;
  const labelLines = rotate ? 1 : Math.max(1, ...opts.categories.map((c) => c.split('\n').length));
  const widestLabel = Math.max(0, ...opts.categories.map((c, i) => (opts.labelEvery && i % opts.labelEvery !== 0 ? 0 : textWidth(truncate(c, maxLabelChars), labelFont))));
  const labelSpace = rotate ? widestLabel * (opts.labelBold ? 1.1 : 1) + 14 : 22 + 13 * (labelLines - 1);
  const legendItems: LegendItem[] = [];
  const showLegend = opts.showLegend ?? (opts.series.length > 1 || (opts.legendExtra?.length ?? 0) > 0);
  if (showLegend) {
    if (opts.legendSeries ?? true) for (const s of opts.series) legendItems.push({ name: s.name, color: s.color });
    for (const extra of opts.legendExtra ?? []) legendItems.push(extra);
  }
  const m: Margins = {
    top: (showLegend ? 12 + legendHeight(legendItems, width - 16) : 12) + (opts.annotations ? 16 : 0),
    right: 16,
    bottom: labelSpace + (opts.sublabels ? 16 : 0) + (opts.xLabel ? 22 : 6),
    left: 62,
  };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const dataMax = Math.max(0, ...opts.series.flatMap((s) => s.values.filter(Number.isFinite)), ...(opts.hLines ?? []).map((l) => l.value), opts.hBand?.to ?? 0);
  const yTop = opts.yMax ?? niceDomain(0, dataMax || 1)[1];
  const y = makeScale(opts.yScale ?? 'linear', [0, yTop], [m.top + plotH, m.top]);
  const step = n > 0 ? plotW / n : plotW;
  const groupPad = Math.min(step * 0.2, 10);
  const barW = Math.max(0.5, (step - groupPad) / Math.max(1, opts.series.length));

  const parts: string[] = [svgOpen(width, height, opts.title)];
  // bands
  opts.bandColors?.forEach((color, i) => {
    if (color) parts.push(`<rect x="${r(m.left + i * step)}" y="${r(m.top)}" width="${r(step)}" height="${r(plotH)}" fill="${esc(color)}"/>`);
  });
  if (opts.hBand) {
    const y0 = y(opts.hBand.to);
    const y1 = y(opts.hBand.from);
    const color = opts.hBand.color ?? COLORS.highlight;
    parts.push(
      `<rect x="${r(m.left)}" y="${r(y0)}" width="${r(plotW)}" height="${r(Math.max(1, y1 - y0))}" fill="${esc(color)}" fill-opacity="0.12"/>` +
        `<text x="${r(m.left + plotW - 4)}" y="${r(y0 - 4)}" text-anchor="end" fill="${esc(color)}" font-size="11" font-weight="600">${esc(opts.hBand.label)}</text>`,
    );
  }
  parts.push(yAxis(y, m.left, m.left + plotW, yFormat));
  // bars
  opts.series.forEach((s, si) => {
    s.values.forEach((v, ci) => {
      if (!Number.isFinite(v) || v <= 0) return;
      const x = m.left + ci * step + groupPad / 2 + si * barW;
      const top = y(Math.min(v, yTop));
      const color = s.colors?.[ci] ?? s.color;
      const tip = opts.barTitle ? `<title>${esc(opts.barTitle(si, ci))}</title>` : '';
      parts.push(
        `<rect x="${r(x)}" y="${r(top)}" width="${r(Math.max(0.5, barW - (barW > 4 ? 1 : 0)))}" height="${r(Math.max(0, m.top + plotH - top))}" fill="${esc(color)}">${tip}</rect>`,
      );
    });
  });
  // baseline
  parts.push(`<line x1="${r(m.left)}" x2="${r(m.left + plotW)}" y1="${r(m.top + plotH)}" y2="${r(m.top + plotH)}" stroke="${COLORS.axis}"/>`);
  // annotations above groups
  opts.annotations?.forEach((a, ci) => {
    if (!a) return;
    const groupMax = Math.max(0, ...opts.series.map((s) => s.values[ci] ?? 0).filter(Number.isFinite));
    const yy = Math.max(m.top - 2, y(Math.min(groupMax, yTop)) - 5);
    parts.push(
      `<text x="${r(m.left + (ci + 0.5) * step)}" y="${r(yy)}" text-anchor="middle" font-size="${step < 46 ? 9.5 : 11}" font-weight="700" fill="${esc(a.color ?? COLORS.text)}">${esc(a.text)}</text>`,
    );
  });
  // category labels
  opts.categories.forEach((label, ci) => {
    if (opts.labelEvery && ci % opts.labelEvery !== 0) return;
    const cx = m.left + (ci + 0.5) * step;
    const color = opts.labelColors?.[ci] ?? COLORS.subtle;
    const weight = opts.labelBold?.[ci] ? ' font-weight="700"' : '';
    const text = esc(truncate(label, maxLabelChars));
    const full = label.length > maxLabelChars ? `<title>${esc(label)}</title>` : '';
    if (rotate) {
      parts.push(
        `<text transform="translate(${r(cx + labelFont * 0.35)} ${r(m.top + plotH + 6)}) rotate(-90)" text-anchor="end" font-size="${labelFont}" fill="${esc(color)}"${weight}>${full}${text}</text>`,
      );
    } else {
      const lines = label.split('\n').map((line) => esc(truncate(line, maxLabelChars)));
      const body = lines.map((line, li) => `<tspan x="${r(cx)}" dy="${li === 0 ? 0 : 13}">${line}</tspan>`).join('');
      parts.push(`<text x="${r(cx)}" y="${r(m.top + plotH + 15)}" text-anchor="middle" font-size="${labelFont}" fill="${esc(color)}"${weight}>${full}${body}</text>`);
    }
    const sub = opts.sublabels?.[ci];
    if (sub) {
      parts.push(
        `<text x="${r(cx)}" y="${r(m.top + plotH + labelSpace + 12)}" text-anchor="middle" font-size="10" fill="${esc(sub.color ?? COLORS.subtle)}">${esc(sub.text)}</text>`,
      );
    }
  });
  for (const line of opts.hLines ?? []) parts.push(horizontalRefLine(line, y, m.left, m.left + plotW));
  for (const v of opts.vLines ?? []) {
    parts.push(verticalRefLine(m.left + v.at * step, v.label, m.top, m.top + plotH, v.color, v.anchor));
  }
  parts.push(axisTitles(opts, width, height, m));
  if (showLegend) parts.push(legend(legendItems, width - m.right, 14, width - 16));
  return closeSvg(parts, width);
}

export interface BarChartOptions extends Omit<GroupedBarOptions, 'series'> {
  values: ReadonlyArray<number>;
  color?: string;
  colors?: ReadonlyArray<string | undefined>;
  seriesName?: string;
}

/** A single-series bar chart. */
export function barChart(opts: BarChartOptions): string {
  const { values, color, colors, seriesName, ...rest } = opts;
  return groupedBarChart({
    ...rest,
    series: [{ name: seriesName ?? opts.title, values, color: color ?? COLORS.accent, colors }],
    showLegend: opts.showLegend ?? (opts.legendExtra?.length ?? 0) > 0,
    legendSeries: opts.legendSeries ?? seriesName !== undefined,
  });
}

// ---- histogram --------------------------------------------------------------------------------------------------------

export interface HistogramOptions {
  title: string;
  /** One array of counts per series; bin i covers value i (integer bins starting at `start`). */
  series: ReadonlyArray<{ name: string; counts: ReadonlyArray<number>; color: string }>;
  /** Divide each series by its total so series of different sizes compare. Default true. */
  normalise?: boolean;
  start?: number;
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  yScale?: 'linear' | 'sqrt';
  /** A vertical split line after this bin value (e.g. rows missing more than N are "heavy"). */
  splitAfter?: { value: number; label: string };
}

export function histogram(opts: HistogramOptions): string {
  const start = opts.start ?? 0;
  const bins = Math.max(1, ...opts.series.map((s) => s.counts.length));
  const categories = Array.from({ length: bins }, (_, i) => String(start + i));
  const normalise = opts.normalise ?? true;
  const series: BarSeries[] = opts.series.map((s) => {
    const total = s.counts.reduce((a, b) => a + b, 0);
    const values = Array.from({ length: bins }, (_, i) => {
      const c = s.counts[i] ?? 0;
      return normalise ? (total > 0 ? c / total : 0) : c;
    });
    return { name: s.name, values, color: s.color };
  });
  const labelEvery = bins <= 25 ? 1 : bins <= 60 ? 5 : 10;
  const vLines = opts.splitAfter
    ? [{ at: opts.splitAfter.value - start + 1, label: opts.splitAfter.label, anchor: (opts.splitAfter.value - start + 1 > bins * 0.75 ? 'end' : 'start') as 'start' | 'end' }]
    : undefined;
  return groupedBarChart({
    title: opts.title,
    categories,
    series,
    width: opts.width,
    height: opts.height,
    xLabel: opts.xLabel,
    yLabel: opts.yLabel ?? (normalise ? 'share of rows' : 'rows'),
    yFormat: normalise ? (v) => formatPercent(v, v > 0 && v < 0.01 ? 1 : 0) : formatCompact,
    yScale: opts.yScale,
    labelEvery,
    rotateLabels: false,
    vLines,
    barTitle: (si, ci) =>
      `${series[si].name}, ${categories[ci]}: ${normalise ? formatPercent(series[si].values[ci], 2) : formatCompact(series[si].values[ci])}`,
  });
}

// ---- horizontal (grouped) bars ------------------------------------------------------------------------------------

export interface HorizontalBarOptions {
  title: string;
  categories: ReadonlyArray<string>;
  series: ReadonlyArray<BarSeries>;
  width?: number;
  /** Height of one category row. */
  rowHeight?: number;
  xLabel?: string;
  xFormat?: (v: number) => string;
  xMax?: number;
  /** Width reserved for category labels; default from the longest label. */
  labelWidth?: number;
  /** Text right of each row's bars. */
  valueLabels?: ReadonlyArray<string | undefined>;
  /** Colour of each row's value label (default muted). */
  valueColors?: ReadonlyArray<string | undefined>;
  /** Width reserved right of the plot for the value labels; default 70 with labels. */
  valueWidth?: number;
  /** Longer category labels are shortened (the full text stays in a tooltip). Default 40. */
  maxLabelChars?: number;
  labelColors?: ReadonlyArray<string | undefined>;
  labelBold?: ReadonlyArray<boolean>;
  /** Shade a category's row. */
  bandColors?: ReadonlyArray<string | undefined>;
  /** Vertical reference lines at x values (e.g. a threshold). */
  vLines?: ReadonlyArray<{ x: number; label: string; color?: string }>;
  /** Extra legend entries (besides the series). */
  legendExtra?: ReadonlyArray<LegendItem>;
  showLegend?: boolean;
}

export function horizontalBarChart(opts: HorizontalBarOptions): string {
  const width = opts.width ?? 1080;
  const n = opts.categories.length;
  const rowH = opts.rowHeight ?? Math.max(14, 8 + 9 * opts.series.length);
  const showLegend = opts.showLegend ?? (opts.series.length > 1 || (opts.legendExtra?.length ?? 0) > 0);
  const legendItems: LegendItem[] = showLegend ? [...opts.series.map((s) => ({ name: s.name, color: s.color })), ...(opts.legendExtra ?? [])] : [];
  const maxChars = opts.maxLabelChars ?? 40;
  const labelW = opts.labelWidth ?? Math.min(320, Math.max(0, ...opts.categories.map((c) => textWidth(truncate(c, maxChars), 11) * (opts.labelBold ? 1.1 : 1))) + 16);
  // Without value labels the right margin still holds half of the last tick label ("100 %").
  const valueW = opts.valueWidth ?? (opts.valueLabels ? 70 : 22);
  const vLineSpace = opts.vLines?.length ? 16 : 0;
  const m: Margins = { top: (showLegend ? 12 + legendHeight(legendItems, width - 12) : 10) + vLineSpace, right: valueW, bottom: opts.xLabel ? 44 : 26, left: labelW };
  const height = m.top + m.bottom + n * rowH;
  const plotW = width - m.left - m.right;
  const dataMax = Math.max(0, ...opts.series.flatMap((s) => s.values.filter(Number.isFinite)));
  const xTop = opts.xMax ?? niceDomain(0, dataMax || 1)[1];
  const x = makeScale('linear', [0, xTop], [m.left, m.left + plotW]);
  const xFormat = opts.xFormat ?? formatCompact;
  const parts: string[] = [svgOpen(width, height, opts.title)];
  // Tick labels at least ~50 units apart ("100 %" must not touch its neighbour).
  parts.push(xAxisNumeric(x, m.top, m.top + n * rowH, xFormat, Math.max(2, Math.min(6, Math.floor(plotW / 50)))));
  const barH = Math.max(3, (rowH - 5) / Math.max(1, opts.series.length));
  opts.bandColors?.forEach((color, ci) => {
    if (color) parts.push(`<rect x="0" y="${r(m.top + ci * rowH)}" width="${r(width)}" height="${r(rowH)}" fill="${esc(color)}"/>`);
  });
  opts.categories.forEach((label, ci) => {
    const y0 = m.top + ci * rowH;
    const full = label.length > maxChars ? `<title>${esc(label)}</title>` : '';
    const weight = opts.labelBold?.[ci] ? ' font-weight="700"' : '';
    parts.push(
      `<text x="${r(m.left - 8)}" y="${r(y0 + rowH / 2 + 4)}" text-anchor="end" font-size="11" fill="${esc(opts.labelColors?.[ci] ?? COLORS.text)}"${weight}>${full}${esc(truncate(label, maxChars))}</text>`,
    );
    opts.series.forEach((s, si) => {
      const v = s.values[ci];
      if (!Number.isFinite(v) || v <= 0) return;
      const w = x(Math.min(v, xTop)) - m.left;
      const color = s.colors?.[ci] ?? s.color;
      parts.push(
        `<rect x="${r(m.left)}" y="${r(y0 + 2.5 + si * barH)}" width="${r(Math.max(0.5, w))}" height="${r(barH - 1)}" fill="${esc(color)}"><title>${esc(`${label} — ${s.name}: ${xFormat(v)}`)}</title></rect>`,
      );
    });
    const valueLabel = opts.valueLabels?.[ci];
    if (valueLabel) {
      const maxV = Math.max(0, ...opts.series.map((s) => s.values[ci] ?? 0).filter(Number.isFinite));
      parts.push(
        `<text x="${r(x(Math.min(maxV, xTop)) + 5)}" y="${r(y0 + rowH / 2 + 4)}" font-size="11" fill="${esc(opts.valueColors?.[ci] ?? COLORS.subtle)}">${esc(valueLabel)}</text>`,
      );
    }
  });
  parts.push(`<line x1="${r(m.left)}" x2="${r(m.left)}" y1="${r(m.top)}" y2="${r(m.top + n * rowH)}" stroke="${COLORS.axis}"/>`);
  for (const v of opts.vLines ?? []) {
    const vx = x(Math.min(v.x, xTop));
    const color = v.color ?? COLORS.highlight;
    const anchor = vx + 4 + textWidth(v.label, 11) * 1.05 > width - 2 ? 'end' : 'start';
    parts.push(
      `<line x1="${r(vx)}" x2="${r(vx)}" y1="${r(m.top - 4)}" y2="${r(m.top + n * rowH)}" stroke="${esc(color)}" stroke-width="1.5" stroke-dasharray="6 4"/>` +
        `<text x="${r(vx + (anchor === 'start' ? 4 : -4))}" y="${r(m.top - 6)}" text-anchor="${anchor}" fill="${esc(color)}" font-size="11" font-weight="600">${esc(v.label)}</text>`,
    );
  }
  if (opts.xLabel) parts.push(axisTitle(opts.xLabel, m.left + plotW / 2, height - 6, width));
  if (showLegend) parts.push(legend(legendItems, width - 12, 14, width - 12));
  return closeSvg(parts, width);
}

// ---- line chart ---------------------------------------------------------------------------------------------------------

export interface LineSeries {
  name: string;
  /** Points with y = null leave a gap. */
  points: ReadonlyArray<{ x: number; y: number | null }>;
  color: string;
  dashed?: boolean;
  /** Draw a dot at each point (default: when there are at most 60 points). */
  markers?: boolean;
}

export interface LineChartOptions {
  title: string;
  series: ReadonlyArray<LineSeries>;
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  xFormat?: (v: number) => string;
  yFormat?: (v: number) => string;
  /** Integer x ticks at every value when there are few (e.g. k). */
  integerX?: boolean;
  yDomain?: [number, number];
  /** Start the y axis at 0. */
  yZero?: boolean;
  hLines?: ReadonlyArray<RefLine>;
  vLines?: ReadonlyArray<{ x: number; label: string; color?: string; anchor?: 'start' | 'end'; labelAt?: 'top' | 'bottom' }>;
  /** Emphasised points (e.g. the chosen k). */
  highlights?: ReadonlyArray<{ x: number; y: number; label?: string; color?: string }>;
  showLegend?: boolean;
}

// long because: an SVG layout computed top to bottom (legend -> margins -> scales -> axes -> reference lines -> series -> highlights), each from the measurements before it
export function lineChart(opts: LineChartOptions): string {
  const width = opts.width ?? 540;
  const height = opts.height ?? 320;
  const showLegend = opts.showLegend ?? opts.series.length > 1;
  const legendItems: LegendItem[] = opts.series.map((s) => ({ name: s.name, color: s.color, kind: 'line' as const, dashed: s.dashed }));
  const m: Margins = { top: showLegend ? 12 + legendHeight(legendItems, width - 18) : 14, right: 18, bottom: opts.xLabel ? 46 : 28, left: 62 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const xs = opts.series.flatMap((s) => s.points.map((p) => p.x)).filter(Number.isFinite);
  const ys = opts.series.flatMap((s) => s.points.map((p) => p.y)).filter((v): v is number => v !== null && Number.isFinite(v));
  for (const l of opts.hLines ?? []) ys.push(l.value);
  for (const h of opts.highlights ?? []) ys.push(h.y);
  let xMin = xs.length ? Math.min(...xs) : 0;
  let xMax = xs.length ? Math.max(...xs) : 1;
  if (xMin === xMax) {
    xMin -= 1;
    xMax += 1;
  }
  let [yMin, yMax] = opts.yDomain ?? niceDomain(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1);
  if (!opts.yDomain && opts.yZero) yMin = Math.min(0, yMin);
  if (yMin === yMax) yMax = yMin + 1;
  const xPad = opts.integerX ? 0.5 : 0;
  const x = makeScale('linear', [xMin - xPad, xMax + xPad], [m.left, m.left + plotW]);
  const y = makeScale('linear', [yMin, yMax], [m.top + plotH, m.top]);
  const xFormat = opts.xFormat ?? formatCompact;
  const yFormat = opts.yFormat ?? formatCompact;
  let xTicks: number[] | undefined;
  // About one tick label per 30 units of plot width, so labels never run into each other on a narrow chart.
  const maxTicks = Math.max(2, Math.floor(plotW / 30));
  if (opts.integerX) {
    const span = xMax - xMin;
    let stepX = span <= 20 ? 1 : span <= 40 ? 2 : Math.max(1, Math.round(niceStep(span, 10)));
    while (span / stepX + 1 > maxTicks) stepX = stepX === 1 ? 2 : stepX === 2 ? 5 : stepX * 2;
    xTicks = [];
    for (let v = Math.ceil(xMin); v <= xMax; v += stepX) xTicks.push(v);
  } else {
    xTicks = niceTicks(xMin, xMax, Math.min(6, maxTicks)).filter((v) => v >= xMin && v <= xMax);
  }
  const parts: string[] = [svgOpen(width, height, opts.title)];
  parts.push(yAxis(y, m.left, m.left + plotW, yFormat));
  parts.push(xAxisNumeric(x, m.top, m.top + plotH, xFormat, 6, xTicks));
  parts.push(
    `<line x1="${r(m.left)}" x2="${r(m.left + plotW)}" y1="${r(m.top + plotH)}" y2="${r(m.top + plotH)}" stroke="${COLORS.axis}"/>` +
      `<line x1="${r(m.left)}" x2="${r(m.left)}" y1="${r(m.top)}" y2="${r(m.top + plotH)}" stroke="${COLORS.axis}"/>`,
  );
  for (const v of opts.vLines ?? []) parts.push(verticalRefLine(x(v.x), v.label, m.top, m.top + plotH, v.color, v.anchor, v.labelAt));
  for (const line of opts.hLines ?? []) parts.push(horizontalRefLine(line, y, m.left, m.left + plotW));
  for (const s of opts.series) {
    const segments: string[][] = [[]];
    for (const p of s.points) {
      if (p.y === null || !Number.isFinite(p.y) || !Number.isFinite(p.x)) {
        if (segments[segments.length - 1].length) segments.push([]);
        continue;
      }
      segments[segments.length - 1].push(`${r(x(p.x))},${r(y(p.y))}`);
    }
    for (const seg of segments) {
      if (seg.length === 0) continue;
      parts.push(
        `<polyline points="${seg.join(' ')}" fill="none" stroke="${esc(s.color)}" stroke-width="2" stroke-linejoin="round"` +
          `${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
    }
    const markers = s.markers ?? s.points.length <= 60;
    if (markers) {
      for (const p of s.points) {
        if (p.y === null || !Number.isFinite(p.y)) continue;
        parts.push(
          `<circle cx="${r(x(p.x))}" cy="${r(y(p.y))}" r="3.2" fill="#fff" stroke="${esc(s.color)}" stroke-width="1.8"><title>${esc(`${s.name}: ${xFormat(p.x)} → ${yFormat(p.y)}`)}</title></circle>`,
        );
      }
    }
  }
  for (const h of opts.highlights ?? []) {
    const color = h.color ?? COLORS.highlight;
    const cx = x(h.x);
    const cy = y(h.y);
    parts.push(`<circle cx="${r(cx)}" cy="${r(cy)}" r="6" fill="${esc(color)}" stroke="#fff" stroke-width="2"/>`);
    if (h.label) {
      const anchor = cx > m.left + plotW * 0.7 ? 'end' : 'start';
      const ty = cy < m.top + plotH * 0.25 ? cy + 20 : cy - 9;
      parts.push(
        `<text x="${r(cx + (anchor === 'start' ? 9 : -9))}" y="${r(ty)}" text-anchor="${anchor}" font-size="11" font-weight="700" fill="${esc(color)}" ` +
          `paint-order="stroke" stroke="#fff" stroke-width="3">${esc(h.label)}</text>`,
      );
    }
  }
  parts.push(axisTitles(opts, width, height, m));
  if (showLegend) parts.push(legend(legendItems, width - m.right, 14, width - 18));
  return closeSvg(parts, width);
}

// ---- forest plot (ratio estimates with intervals, log axis) --------------------------------------------------------

export interface ForestRow {
  label: string;
  estimate: number;
  lo: number;
  hi: number;
  color: string;
  /** Text at the right, e.g. "×3.80 [3.71, 3.89]". */
  note?: string;
  bold?: boolean;
}

export interface ForestOptions {
  title: string;
  rows: ReadonlyArray<ForestRow>;
  width?: number;
  rowHeight?: number;
  xLabel?: string;
  /** Reference value drawn as a line (1 for a ratio). */
  reference?: number;
}

export function forestPlot(opts: ForestOptions): string {
  const width = opts.width ?? 1080;
  const rowH = opts.rowHeight ?? 22;
  const n = opts.rows.length;
  const noteW = opts.rows.some((row) => row.note) ? 190 : 16;
  const m: Margins = { top: 10, right: noteW, bottom: opts.xLabel ? 46 : 28, left: Math.min(220, Math.max(0, ...opts.rows.map((row) => textWidth(row.label, 12) * (row.bold ? 1.1 : 1))) + 18) };
  const height = m.top + m.bottom + Math.max(1, n) * rowH;
  const plotW = width - m.left - m.right;
  const reference = opts.reference ?? 1;
  const positives = opts.rows.flatMap((row) => [row.lo, row.estimate, row.hi]).filter((v) => Number.isFinite(v) && v > 0);
  let lo = Math.min(reference, ...positives);
  let hi = Math.max(reference, ...positives);
  lo = 10 ** (Math.floor(Math.log10(lo) * 2) / 2);
  hi = 10 ** (Math.ceil(Math.log10(hi) * 2) / 2);
  if (lo === hi) {
    lo /= 10;
    hi *= 10;
  }
  const x = makeScale('log', [lo, hi], [m.left, m.left + plotW]);
  const clamp = (v: number) => (!(v > lo) ? m.left : v >= hi ? m.left + plotW : x(v));
  const fmt = (v: number) => (v >= 1 ? formatCompact(v) : String(Number(v.toPrecision(2))));
  const parts: string[] = [svgOpen(width, height, opts.title)];
  const plotBottom = m.top + n * rowH;
  opts.rows.forEach((row, i) => {
    if (i % 2 === 0) parts.push(`<rect x="${r(m.left)}" y="${r(m.top + i * rowH)}" width="${r(plotW)}" height="${r(rowH)}" fill="#f6f7f9"/>`);
  });
  parts.push(xAxisNumeric(x, m.top, plotBottom, fmt));
  parts.push(`<line x1="${r(x(reference))}" x2="${r(x(reference))}" y1="${r(m.top)}" y2="${r(plotBottom)}" stroke="${COLORS.axis}" stroke-width="1.5"/>`);
  opts.rows.forEach((row, i) => {
    const cy = m.top + i * rowH + rowH / 2;
    const weight = row.bold ? ' font-weight="700"' : '';
    parts.push(`<text x="${r(m.left - 8)}" y="${r(cy + 4)}" text-anchor="end"${weight}>${esc(row.label)}</text>`);
    const x0 = clamp(row.lo);
    const x1 = clamp(row.hi);
    parts.push(`<line x1="${r(x0)}" x2="${r(x1)}" y1="${r(cy)}" y2="${r(cy)}" stroke="${esc(row.color)}" stroke-width="2"/>`);
    if (!(row.lo >= lo)) parts.push(`<path d="M${r(x0)},${r(cy)} l6,-4 v8 z" fill="${esc(row.color)}"/>`);
    else parts.push(`<line x1="${r(x0)}" x2="${r(x0)}" y1="${r(cy - 4)}" y2="${r(cy + 4)}" stroke="${esc(row.color)}" stroke-width="2"/>`);
    if (!(row.hi <= hi)) parts.push(`<path d="M${r(x1)},${r(cy)} l-6,-4 v8 z" fill="${esc(row.color)}"/>`);
    else parts.push(`<line x1="${r(x1)}" x2="${r(x1)}" y1="${r(cy - 4)}" y2="${r(cy + 4)}" stroke="${esc(row.color)}" stroke-width="2"/>`);
    if (Number.isFinite(row.estimate) && row.estimate > 0) {
      parts.push(
        `<rect x="${r(clamp(row.estimate) - 5)}" y="${r(cy - 5)}" width="10" height="10" fill="${esc(row.color)}" transform="rotate(45 ${r(clamp(row.estimate))} ${r(cy)})"/>`,
      );
    }
    if (row.note) parts.push(`<text x="${r(width - m.right + 10)}" y="${r(cy + 4)}" font-size="11" fill="${COLORS.subtle}"${weight}>${esc(row.note)}</text>`);
  });
  if (opts.xLabel) parts.push(axisTitle(opts.xLabel, m.left + plotW / 2, height - 6, width));
  return closeSvg(parts, width);
}
