import type { ClusterResult, Results } from '../../schemas/results';
import { featureGloss } from '../stats/describe';
import {
  COLORS,
  barChart,
  esc,
  forestPlot,
  formatCompact,
  formatPercent,
  groupedBarChart,
  histogram,
  horizontalBarChart,
  lineChart,
} from './svg';

/**
 * The run's report: one self-contained HTML page (inline CSS and SVG, no scripts, fonts or external resources).
 * Everything shown comes from results.json; thresholds that results.json does not carry can be passed in
 * `options` (without them the charts show where the threshold must lie instead of a line).
 */
export interface ReportOptions {
  /** Page title; default "Customer segments — <dataset>". */
  title?: string;
  /** The PCA variance target (config pca.varianceTarget), drawn on the cumulative variance chart. */
  varianceTarget?: number;
  /** The column-drop threshold (config maxColumnMissingShare), drawn on the missingness chart. */
  maxColumnMissingShare?: number;
  /** Significance level used for the verdicts, for the captions. */
  alpha?: number;
  /** How many over- and how many under-represented clusters get a profile. Default 3 each. */
  profileClusters?: number;
  /** Features per profile. Default 12. */
  profileFeatures?: number;
  /** Columns in the heavy-vs-clean divergence chart. Default 20. */
  divergenceTop?: number;
}

export const HEAVY_MISSING_ID = -1;

export function clusterLabel(id: number): string {
  return id === HEAVY_MISSING_ID ? 'heavy-missing' : `cluster ${id}`;
}

function shortLabel(id: number): string {
  return id === HEAVY_MISSING_ID ? 'heavy-missing' : String(id);
}

const VERDICT_COLOR: Record<ClusterResult['representation'], string> = {
  over: COLORS.over,
  under: COLORS.under,
  neutral: COLORS.neutral,
};

const VERDICT_TEXT: Record<ClusterResult['representation'], string> = {
  over: 'over-represented',
  under: 'under-represented',
  neutral: 'neutral',
};

/** Clusters by lift, largest first (ties: smaller id first). */
export function sortByLift(clusters: ReadonlyArray<ClusterResult>): ClusterResult[] {
  return [...clusters].sort((a, b) => b.lift - a.lift || a.id - b.id);
}

function formatLift(lift: number): string {
  if (!Number.isFinite(lift)) return '–';
  if (lift === 0) return '0';
  if (lift < 0.01) return String(Number(lift.toPrecision(2)));
  return lift >= 100 ? lift.toFixed(0) : lift >= 10 ? lift.toFixed(1) : lift.toFixed(2);
}

export function formatP(p: number): string {
  if (!Number.isFinite(p)) return '–';
  if (p < 1e-300) return '< 1e-300';
  if (p < 1e-3) {
    const [mantissa, exponent] = p.toExponential(1).split('e');
    return `${mantissa}e${exponent}`;
  }
  return p.toFixed(3);
}

function formatNumber(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return '–';
  const abs = Math.abs(x);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return x.toExponential(2);
  return x.toLocaleString('en-US', { maximumFractionDigits: abs >= 100 ? 1 : digits, minimumFractionDigits: abs >= 100 ? 0 : Math.min(digits, 2) });
}

function formatInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '–';
  if (s < 1) return `${(s * 1000).toFixed(0)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  const minutes = Math.floor(s / 60);
  return `${minutes} min ${Math.round(s - minutes * 60)} s`;
}

function verdictBadge(v: ClusterResult['representation']): string {
  return `<span class="badge ${v}">${esc(v)}</span>`;
}

// ---- plain-text table for the CLI -----------------------------------------------------------------------------------

function plainPercent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(2)} %` : '–';
}

/**
 * A fixed-width table of the clusters by lift: cluster (its stable segment ID), population share, customer share,
 * lift, verdict, and the persona (who the segment is, in plain words; last, so long personas do not push the
 * numbers apart).
 */
export function renderSummaryTable(results: Results): string {
  const header = ['cluster', 'population', 'customers', 'lift', 'verdict', 'persona'];
  const rows = sortByLift(results.clusters).map((c) => [
    shortLabel(c.id),
    plainPercent(c.populationShare),
    plainPercent(c.customerShare),
    formatLift(c.lift),
    c.representation,
    c.persona,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const textColumns = new Set([0, 4, 5]);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (textColumns.has(i) ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

// ---- HTML pieces --------------------------------------------------------------------------------------------------

/** viewBox width of the charts drawn for phones (about the card's inner width on a 390 px screen). */
const NARROW = 340;

/** Narrow screens get the phone drawing of each chart (see the CSS); the page width at which they switch. */
const NARROW_SCREEN_PX = 760;

const CSS = `
:root { --text:#1f2933; --muted:#6b7280; --line:#e5e7eb; --bg:#f3f4f7; --card:#fff; --over:${COLORS.over}; --under:${COLORS.under};
  --neutral:${COLORS.neutral}; --pop:${COLORS.population}; --cust:${COLORS.customers}; --accent:${COLORS.accent}; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text); font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif; }
main { max-width:1160px; margin:0 auto; padding:28px 24px 60px; }
header.top { margin-bottom:18px; }
h1 { font-size:26px; margin:0 0 4px; letter-spacing:-0.01em; }
h2 { font-size:19px; margin:0 0 4px; }
h3 { font-size:15px; margin:18px 0 6px; }
p { margin:6px 0; }
.sub { color:var(--muted); }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:18px 20px; margin:18px 0; box-shadow:0 1px 2px rgba(16,24,40,.04); }
.caption { color:var(--muted); font-size:12.5px; margin:6px 0 0; }
.stats { display:grid; grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); gap:10px; margin:14px 0 4px; }
.stat { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:10px 14px; }
.stat .v { font-size:20px; font-weight:700; font-variant-numeric:tabular-nums; }
.stat .l { color:var(--muted); font-size:12px; }
nav.toc { font-size:13px; color:var(--muted); display:flex; flex-wrap:wrap; gap:2px 14px; }
nav.toc a { color:var(--accent); text-decoration:none; white-space:nowrap; }
ul.findings { margin:8px 0 0; padding-left:20px; }
ul.findings li { margin:4px 0; }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:18px; }
.grid2 > div { min-width:0; }
@media (max-width: 1000px) { .grid2 { grid-template-columns:1fr; } }
figure { margin:10px 0 0; min-width:0; }
.chart { overflow-x:auto; }
.chart svg { display:block; width:100%; height:auto; }
.chart-narrow { display:none; }
.chart-narrow svg { max-width:520px; margin:0 auto; }
.table-scroll { overflow-x:auto; max-width:100%; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { padding:5px 8px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
th { font-weight:600; color:var(--muted); font-size:12px; background:#fafbfc; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
th.group { text-align:center; }
td.desc { min-width:220px; }
tbody tr:hover { background:#fafbff; }
code, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12px; }
.badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:11.5px; font-weight:600; color:#fff; }
.badge.over { background:var(--over); } .badge.under { background:var(--under); } .badge.neutral { background:var(--neutral); }
.chip { display:inline-block; padding:1px 7px; margin:2px 3px 2px 0; border-radius:5px; background:#fdecef; color:#a61e4d; font-size:12px; font-family:ui-monospace,Menlo,Consolas,monospace; }
.tag { display:inline-block; padding:0 6px; border-radius:4px; background:#eef2ff; color:var(--accent); font-size:11px; }
.bar { position:relative; display:inline-block; width:110px; height:10px; background:#f1f3f6; border-radius:2px; vertical-align:middle; }
.bar > span { position:absolute; top:0; bottom:0; border-radius:2px; }
.bar.div::after { content:''; position:absolute; left:50%; top:-2px; bottom:-2px; border-left:1px solid #9aa1ab; }
.bar .pos { left:50%; background:#4c6ef5; } .bar .neg { right:50%; background:#ae3ec9; }
.bar .fill { left:0; background:var(--accent); }
.comp { display:grid; grid-template-columns:1fr 1fr; gap:18px; }
.comp > div { min-width:0; }
.comp h4 { margin:6px 0; font-size:13px; color:var(--muted); font-weight:600; }
.profile-head { display:flex; flex-wrap:wrap; align-items:baseline; gap:10px; }
.legend-inline span { display:inline-block; width:10px; height:10px; border-radius:2px; margin:0 4px 0 10px; vertical-align:-1px; }
.empty { color:var(--muted); font-style:italic; }
.notice { background:#fff8e6; border-left:3px solid #f0b429; padding:6px 10px; border-radius:4px; }
footer { color:var(--muted); font-size:12px; margin-top:30px; }
.chip, code, p, li, figcaption { overflow-wrap:anywhere; }
td code { overflow-wrap:normal; }
@media (max-width: ${NARROW_SCREEN_PX - 1}px) {
  main { padding:16px 10px 40px; }
  .card { padding:14px 12px; margin:12px 0; }
  h1 { font-size:22px; }
  .comp { grid-template-columns:1fr; }
  .chart-wide { display:none; }
  .chart-narrow { display:block; }
}
`;

function section(id: string, title: string, body: string, intro?: string): string {
  return `<section class="card" id="${esc(id)}"><h2>${esc(title)}</h2>${intro ? `<p class="sub">${intro}</p>` : ''}${body}</section>`;
}

/** Most rows the phone drawing of the per-column missingness chart shows. */
const NARROW_MISSING_ROWS = 30;

/** A chart drawn for both wide and narrow screens; the CSS shows the one that fits. */
interface Chart {
  wide: string;
  narrow: string;
  /** A note shown under the phone drawing only (e.g. that it leaves some rows out). */
  narrowNote?: string;
}

/** The same chart drawn at its wide size and at the phone width. */
function drawnTwice(draw: (narrow: boolean) => string): Chart {
  return { wide: draw(false), narrow: draw(true) };
}

function figure(chart: Chart, caption?: string): string {
  const note = chart.narrowNote ? `<figcaption class="caption chart-narrow">${chart.narrowNote}</figcaption>` : '';
  return (
    `<figure><div class="chart chart-wide">${chart.wide}</div><div class="chart chart-narrow">${chart.narrow}</div>` +
    `${caption ? `<figcaption class="caption">${caption}</figcaption>` : ''}${note}</figure>`
  );
}

/** Label every n-th of `count` categories so labels are at least ~30 units apart on a plot `plotWidth` wide. */
function labelStride(count: number, plotWidth: number): number {
  const step = plotWidth / Math.max(1, count);
  return [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000].find((every) => every * step >= 30) ?? Math.ceil(count / 5);
}

function divergingBar(value: number, maxAbs: number): string {
  if (!Number.isFinite(value) || !(maxAbs > 0)) return '<span class="bar div"></span>';
  const pct = Math.min(50, (Math.abs(value) / maxAbs) * 50);
  return `<span class="bar div"><span class="${value >= 0 ? 'pos' : 'neg'}" style="width:${pct.toFixed(1)}%"></span></span>`;
}

function fillBar(value: number, max: number): string {
  const pct = max > 0 && Number.isFinite(value) ? Math.min(100, (value / max) * 100) : 0;
  return `<span class="bar"><span class="fill" style="width:${pct.toFixed(1)}%"></span></span>`;
}

// ---- sections ---------------------------------------------------------------------------------------------------------

function headerBlock(results: Results, title: string): string {
  const pca = results.pca;
  const kept = pca.keptComponents;
  const reached = pca.cumulativeVarianceRatio[kept - 1];
  const stats: Array<[string, string]> = [
    [formatInt(results.inputs.population.rows), 'population rows'],
    [formatInt(results.inputs.customers.rows), 'customer rows'],
    [formatInt(results.features.length), 'features after encoding'],
    [`${kept}${reached !== undefined ? ` · ${formatPercent(reached, 0)}` : ''}`, 'PCA components kept · variance'],
    [`k = ${results.k}`, K_CHOSEN_BY[results.kChosenBy]],
    [formatPercent(results.heavyMissing.customerShare), `of customers are heavy-missing rows (population: ${formatPercent(results.heavyMissing.populationShare)})`],
  ];
  const toc = [
    ['key-figure', 'Key figure'],
    ['summary', 'All clusters'],
    ['profiles', 'Segment profiles'],
    ['missing', 'Missing data'],
    ...(results.valueChecks ? [['value-checks', 'Unexpected values']] : []),
    ['pca', 'PCA'],
    ['kmeans', 'k-means'],
    ['run', 'Run'],
  ]
    .map(([id, label]) => `<a href="#${id}">${esc(label)}</a>`)
    .join('');
  return (
    `<header class="top"><h1>${esc(title)}</h1>` +
    `<p class="sub">Which segments of the general population do the customers come from? Generated ${esc(results.createdAt)} · data set <b>${esc(results.dataset)}</b></p>` +
    `<div class="stats">${stats.map(([v, l]) => `<div class="stat"><div class="v">${esc(v)}</div><div class="l">${esc(l)}</div></div>`).join('')}</div>` +
    `<nav class="toc">${toc}</nav></header>`
  );
}

function findingsBlock(results: Results): string {
  const byId = new Map(results.clusters.map((c) => [c.id, c]));
  const describe = (c: ClusterResult) =>
    `<b>${esc(clusterLabel(c.id))}</b>${personaQuote(c.persona)}: ${esc(formatPercent(c.customerShare))} of customers vs ${esc(formatPercent(c.populationShare))} of the population ` +
    `(lift ×${esc(formatLift(c.lift))}, CI ${esc(formatLift(c.liftCi[0]))}–${esc(formatLift(c.liftCi[1]))})`;
  const pick = (ids: number[]) => ids.map((id) => byId.get(id)).filter((c): c is ClusterResult => c !== undefined);
  const over = sortByLift(pick(results.overRepresented));
  const under = sortByLift(pick(results.underRepresented)).reverse();
  const items: string[] = [];
  if (over.length) items.push(`Over-represented among customers: ${over.slice(0, 3).map(describe).join('; ')}.`);
  else items.push('No group is significantly over-represented among customers.');
  if (under.length) items.push(`Under-represented: ${under.slice(0, 3).map(describe).join('; ')}.`);
  else items.push('No group is significantly under-represented among customers.');
  items.push(...continuityFindings(results));
  const hm = results.heavyMissing;
  items.push(
    `Rows missing more than ${esc(results.missingness.maxRowMissing)} values form the heavy-missing group: ${esc(formatPercent(hm.customerShare))} of customers ` +
      `(${esc(formatInt(hm.customerRows))} rows) vs ${esc(formatPercent(hm.populationShare))} of the population (${esc(formatInt(hm.populationRows))} rows).`,
  );
  const reached = results.pca.cumulativeVarianceRatio[results.pca.keptComponents - 1];
  items.push(
    `${esc(results.droppedColumns.length)} sparse column(s) dropped; ${esc(results.features.length)} features → ${esc(results.pca.keptComponents)} principal components` +
      `${reached !== undefined ? ` (${esc(formatPercent(reached))} of the variance)` : ''} → k-means with k = ${esc(results.k)}.`,
  );
  const unseen = results.unseenCustomerLevels;
  if (unseen.length) {
    const rows = unseen.reduce((sum, u) => sum + u.rows, 0);
    items.push(
      `${esc(formatInt(rows))} customer row(s) hold values that do not occur in the population, in ${esc(unseen.length)} column(s); they encode as unknown: ` +
        `${unseen.slice(0, 3).map((u) => `<code>${esc(u.column)}</code>`).join(', ')}${unseen.length > 3 ? ', …' : ''} (<a href="#unseen">details</a>).`,
    );
  }
  const checks = results.valueChecks;
  if (checks?.columns.length) {
    const cells = checks.columns.reduce((sum, c) => sum + c.population.outOfDomain + c.population.extreme + c.customers.outOfDomain + c.customers.extreme, 0);
    items.push(
      `${esc(formatInt(cells))} cell(s) in ${esc(checks.columns.length)} column(s) hold a value outside the column's domain or of extreme magnitude; ` +
        `${checks.policy === 'missing' ? 'they were treated as missing' : 'policy: fail'} (<a href="#value-checks">details</a>).`,
    );
  }
  const note = results.heavyMissing.comparison?.note;
  if (note) items.push(`Heavy-missing vs clean rows: ${esc(note)}`);
  return section('findings', 'Key findings', `<ul class="findings">${items.map((i) => `<li>${i}</li>`).join('')}</ul>`);
}

/** ` “older, wealthy, …”` after a segment's label (nothing for results without personas). */
function personaQuote(persona: string | undefined): string {
  return persona ? ` <i>“${esc(persona)}”</i>` : '';
}

function signedPoints(change: number): string {
  return `${change >= 0 ? '+' : '−'}${Math.abs(change * 100).toFixed(1)} pts`;
}

/** Key findings on month-to-month continuity: continued, new and gone segments with their share changes. */
function continuityFindings(results: Results): string[] {
  const continuity = results.continuity;
  if (!continuity) return [];
  const byId = new Map(results.clusters.map((c) => [c.id, c]));
  const segments = continuity.segments.filter((s) => s.id !== HEAVY_MISSING_ID);
  const continued = segments.filter((s) => s.status === 'continued');
  const fresh = segments.filter((s) => s.status === 'new');
  const items: string[] = [];
  const since = `Since the previous run (${esc(continuity.previousCreatedAt.slice(0, 10))})`;
  const changes = [...continued].sort((a, b) => Math.abs(b.customerShareChange) - Math.abs(a.customerShareChange) || a.id - b.id);
  items.push(
    `${since}: ${esc(continued.length)} segment(s) continued (same ID, centroid within ${esc(continuity.maxDistance)} sd)` +
      (changes.length
        ? `; largest customer share changes: ${changes
            .slice(0, 3)
            .map((s) => `${esc(clusterLabel(s.id))} ${esc(signedPoints(s.customerShareChange))} (population ${esc(signedPoints(s.populationShareChange))})`)
            .join(', ')}`
        : '') +
      (continuity.kFromPrevious ? `; k kept from the previous run (warm start ${esc(continuity.warmStart)})` : '') +
      '.',
  );
  items.push(
    fresh.length
      ? `New segment(s): ${fresh
          .map((s) => {
            const c = byId.get(s.id);
            return `<b>${esc(clusterLabel(s.id))}</b>${personaQuote(c?.persona)}, ${esc(formatPercent(c?.customerShare ?? 0))} of customers and ${esc(formatPercent(c?.populationShare ?? 0))} of the population`;
          })
          .join('; ')}.`
      : 'No new segment.',
  );
  items.push(
    continuity.gone.length
      ? `Gone: ${continuity.gone
          .map(
            (g) =>
              `<b>${esc(clusterLabel(g.id))}</b>${personaQuote(g.previousPersona)}, which held ${esc(formatPercent(g.previousCustomerShare))} of customers and ${esc(formatPercent(g.previousPopulationShare))} of the population`,
          )
          .join('; ')}.`
      : 'No segment of the previous run is gone.',
  );
  return items;
}

function keyFigure(results: Results, options: ReportOptions): string {
  const clusters = sortByLift(results.clusters);
  if (clusters.length === 0) return section('key-figure', 'Population vs customers by cluster', '<p class="empty">No clusters in the results.</p>');
  // Narrow groups: break "heavy-missing" over two lines.
  const categories = clusters.map((c) => (c.id === HEAVY_MISSING_ID && clusters.length > 12 ? 'heavy-\nmissing' : shortLabel(c.id)));
  const shareSeries = [
    { name: 'general population', values: clusters.map((c) => c.populationShare), color: COLORS.population },
    { name: 'customers', values: clusters.map((c) => c.customerShare), color: COLORS.customers },
  ];
  const barsTitle = 'Share of population and customers per cluster, sorted by lift';
  const wideBars = groupedBarChart({
    title: barsTitle,
    categories,
    series: [
      { name: 'general population', values: clusters.map((c) => c.populationShare), color: COLORS.population },
      { name: 'customers', values: clusters.map((c) => c.customerShare), color: COLORS.customers },
    ],
    height: 390,
    yLabel: 'share of all rows',
    xLabel: 'cluster (sorted by lift = customer share / population share)',
    yFormat: (v) => formatPercent(v, 0),
    labelBold: clusters.map((c) => c.id === HEAVY_MISSING_ID),
    bandColors: clusters.map((c) => (c.id === HEAVY_MISSING_ID ? '#f1f2f5' : undefined)),
    annotations: clusters.map((c) => ({ text: `×${formatLift(c.lift)}`, color: VERDICT_COLOR[c.representation] })),
    sublabels: clusters.map((c) => ({ text: c.representation === 'neutral' ? '–' : c.representation, color: VERDICT_COLOR[c.representation] })),
    rotateLabels: false,
    barTitle: (si, ci) => {
      const c = clusters[ci];
      return si === 0
        ? `${clusterLabel(c.id)}: ${formatPercent(c.populationShare, 2)} of the population (${formatInt(c.populationCount)} rows)`
        : `${clusterLabel(c.id)}: ${formatPercent(c.customerShare, 2)} of customers (${formatInt(c.customerCount)} rows)`;
    },
  });
  // On a phone the clusters become rows: the page grows downwards, the labels keep their size.
  const narrowBars = horizontalBarChart({
    title: barsTitle,
    categories: clusters.map((c) => clusterLabel(c.id)),
    series: shareSeries,
    width: NARROW,
    xLabel: 'share of all rows',
    xFormat: (v) => formatPercent(v, 0),
    labelBold: clusters.map((c) => c.id === HEAVY_MISSING_ID),
    bandColors: clusters.map((c) => (c.id === HEAVY_MISSING_ID ? '#f1f2f5' : undefined)),
    valueLabels: clusters.map((c) => `×${formatLift(c.lift)}`),
    valueColors: clusters.map((c) => VERDICT_COLOR[c.representation]),
    valueWidth: 48,
    maxLabelChars: 14,
  });
  const forestTitle = 'Lift per cluster with confidence interval (log scale)';
  const forestRows = clusters.map((c) => ({
    label: clusterLabel(c.id),
    estimate: c.lift,
    lo: c.liftCi[0],
    hi: c.liftCi[1],
    color: VERDICT_COLOR[c.representation],
    bold: c.id === HEAVY_MISSING_ID,
    note: `×${formatLift(c.lift)}  [${formatLift(c.liftCi[0])}, ${formatLift(c.liftCi[1])}]  ${c.representation}`,
  }));
  const forest: Chart = {
    wide: forestPlot({ title: forestTitle, rows: forestRows, xLabel: 'lift (customer share / population share), log scale; 1 = same share', reference: 1 }),
    // The phone drawing leaves the numbers to the table below.
    narrow: forestPlot({ title: forestTitle, rows: forestRows.map(({ note: _note, ...row }) => row), width: NARROW, xLabel: 'lift, log scale; 1 = same share', reference: 1 }),
  };
  const alpha = options.alpha !== undefined ? ` at α = ${esc(options.alpha)}` : '';
  const legend =
    `<span class="legend-inline"><span style="background:${COLORS.over}"></span>over-represented` +
    `<span style="background:${COLORS.under}"></span>under-represented<span style="background:${COLORS.neutral}"></span>not significant</span>`;
  return section(
    'key-figure',
    'Population vs customers by cluster',
    figure(
      { wide: wideBars, narrow: narrowBars },
      `Shares are of all rows of each file, so each colour sums to 100 %; the heavy-missing group (rows with too many missing values to cluster) is included. ` +
        `The number by each pair is the lift; its colour is the verdict: ${legend}.`,
    ) +
      `<h3>Lift and its confidence interval</h3>` +
      figure(forest, `Verdicts come from a two-proportion z-test with a Bonferroni correction over all ${esc(clusters.length)} groups${alpha}; "over" needs the interval above 1, "under" below 1.`),
  );
}

function summarySection(results: Results): string {
  const rows = sortByLift(results.clusters)
    .map(
      (c) =>
        `<tr><td><b>${esc(clusterLabel(c.id))}</b></td><td>${esc(c.persona)}</td>` +
        `<td class="num">${esc(formatInt(c.populationCount))}</td><td class="num">${esc(formatPercent(c.populationShare, 2))}</td>` +
        `<td class="num">${esc(formatInt(c.customerCount))}</td><td class="num">${esc(formatPercent(c.customerShare, 2))}</td>` +
        `<td class="num"><b>${esc(formatLift(c.lift))}</b></td><td class="num">${esc(formatLift(c.liftCi[0]))} – ${esc(formatLift(c.liftCi[1]))}</td>` +
        `<td class="num">${esc(formatP(c.pValue))}</td><td>${verdictBadge(c.representation)}</td></tr>`,
    )
    .join('');
  const totals = results.clusters.reduce(
    (acc, c) => ({ p: acc.p + c.populationCount, c: acc.c + c.customerCount, ps: acc.ps + c.populationShare, cs: acc.cs + c.customerShare }),
    { p: 0, c: 0, ps: 0, cs: 0 },
  );
  const table =
    `<div class="table-scroll"><table><thead><tr><th>group</th><th>persona</th><th class="num">population rows</th><th class="num">population share</th>` +
    `<th class="num">customer rows</th><th class="num">customer share</th><th class="num">lift</th><th class="num">lift CI</th>` +
    `<th class="num">p-value</th><th>verdict</th></tr></thead><tbody>${rows}</tbody>` +
    `<tfoot><tr><th>total</th><th></th><th class="num">${esc(formatInt(totals.p))}</th><th class="num">${esc(formatPercent(totals.ps, 1))}</th>` +
    `<th class="num">${esc(formatInt(totals.c))}</th><th class="num">${esc(formatPercent(totals.cs, 1))}</th><th colspan="4"></th></tr></tfoot></table></div>`;
  return section('summary', 'All clusters', table);
}

function profileTable(cluster: ClusterResult, limit: number): string {
  if (cluster.id === HEAVY_MISSING_ID) {
    return '<p class="empty">The heavy-missing group has no centroid (its rows were not clustered); see “Heavy-missing vs clean rows” below for how it differs.</p>';
  }
  if (cluster.profile.length === 0) return '<p class="empty">No profile features recorded for this cluster.</p>';
  const features = cluster.profile.slice(0, limit);
  const maxAbs = Math.max(1, ...features.map((f) => Math.abs(f.zScore)).filter(Number.isFinite));
  const rows = features
    .map(
      (f) =>
        `<tr><td><code>${esc(f.feature)}</code></td><td class="num">${esc(formatNumber(f.value))}</td>` +
        `<td class="num">${esc(formatNumber(f.populationMean))}</td>` +
        `<td class="num">${esc(f.zScore >= 0 ? '+' : '')}${esc(formatNumber(f.zScore, 2))} ${divergingBar(f.zScore, maxAbs)}</td>` +
        `<td class="desc">${esc(f.description)}</td></tr>`,
    )
    .join('');
  return (
    `<div class="table-scroll"><table><thead><tr><th>feature</th><th class="num">centroid</th><th class="num">population mean</th><th class="num">z (sd)</th>` +
    `<th>what it means</th></tr></thead><tbody>${rows}</tbody></table></div>`
  );
}

function profilesSection(results: Results, options: ReportOptions): string {
  const perSide = options.profileClusters ?? 3;
  const limit = options.profileFeatures ?? 12;
  const byId = new Map(results.clusters.map((c) => [c.id, c]));
  const pick = (ids: number[]) => ids.map((id) => byId.get(id)).filter((c): c is ClusterResult => c !== undefined);
  const over = sortByLift(pick(results.overRepresented)).slice(0, perSide);
  const under = sortByLift(pick(results.underRepresented)).reverse().slice(0, perSide);
  const block = (c: ClusterResult) =>
    `<div class="profile"><h3 class="profile-head">${esc(clusterLabel(c.id))}${personaQuote(c.persona)} ${verdictBadge(c.representation)}` +
    `<span class="sub" style="font-weight:400;font-size:13px">${esc(formatPercent(c.customerShare))} of customers vs ${esc(formatPercent(c.populationShare))} of the population · lift ×${esc(formatLift(c.lift))}</span></h3>` +
    profileTable(c, limit) +
    `</div>`;
  const body =
    `<h3 style="color:${COLORS.over}">Over-represented (customer-like) segments</h3>` +
    (over.length ? over.map(block).join('') : '<p class="empty">None is significantly over-represented.</p>') +
    `<h3 style="color:${COLORS.under};margin-top:26px">Under-represented segments</h3>` +
    (under.length ? under.map(block).join('') : '<p class="empty">None is significantly under-represented.</p>');
  return section(
    'profiles',
    'Segment profiles',
    body,
    'Centroids mapped back to the original units, compared with the population mean; z is the difference in population standard deviations. Many Arvato scales run backwards (1 = highest), so read the description column.',
  );
}

function missingSection(results: Results, options: ReportOptions): string {
  const parts = [...columnMissingParts(results, options), ...rowMissingParts(results), ...heavyComparisonParts(results, options)];
  return section('missing', 'Missing data', parts.join(''));
}

/** The missing share per column (a bar chart wide, a row chart on phones) and the dropped columns. */
function columnMissingParts(results: Results, options: ReportOptions): string[] {
  const parts: string[] = [];
  const { columns } = results.missingness;
  const shown = columns
    .filter((c) => c.populationShare > 0 || c.customerShare > 0 || c.dropped)
    .sort((a, b) => b.populationShare - a.populationShare || b.customerShare - a.customerShare || a.column.localeCompare(b.column));
  const complete = columns.length - shown.length;
  if (shown.length) {
    const threshold = options.maxColumnMissingShare;
    const dropped = shown.filter((c) => c.dropped);
    const kept = shown.filter((c) => !c.dropped);
    let hLines;
    let hBand;
    if (threshold !== undefined) {
      hLines = [{ value: threshold, label: `drop threshold ${formatPercent(threshold, 0)}` }];
    } else if (dropped.length) {
      const from = Math.max(0, ...kept.map((c) => c.populationShare));
      const to = Math.min(...dropped.map((c) => c.populationShare));
      if (to > from) hBand = { from, to, label: 'the drop threshold lies in this band' };
    }
    const missingTitle = 'Missing share per column, population vs customers';
    const missingSeries = (columnsShown: typeof shown) => [
      { name: 'general population', values: columnsShown.map((c) => c.populationShare), color: COLORS.population },
      { name: 'customers', values: columnsShown.map((c) => c.customerShare), color: COLORS.customers },
    ];
    // A phone shows the columns as rows, the most-missing first, at most NARROW_MISSING_ROWS of them.
    const narrowShown = shown.slice(0, NARROW_MISSING_ROWS);
    const narrow = horizontalBarChart({
      title: missingTitle,
      categories: narrowShown.map((c) => c.column),
      series: missingSeries(narrowShown),
      width: NARROW,
      xMax: 1,
      xFormat: (v) => formatPercent(v, 0),
      xLabel: 'share of rows missing',
      labelColors: narrowShown.map((c) => (c.dropped ? COLORS.highlight : undefined)),
      labelBold: narrowShown.map((c) => c.dropped),
      bandColors: narrowShown.map((c) => (c.dropped ? COLORS.highlightSoft : undefined)),
      legendExtra: [{ name: 'dropped column', color: COLORS.highlightSoft }],
      vLines: threshold !== undefined ? [{ x: threshold, label: `drop threshold ${formatPercent(threshold, 0)}` }] : [],
      maxLabelChars: 18,
    });
    const narrowNote =
      narrowShown.length < shown.length ? `On a narrow screen the ${esc(narrowShown.length)} columns with the most missing values (of ${esc(shown.length)}) are shown.` : undefined;
    const wide = groupedBarChart({
      title: missingTitle,
      categories: shown.map((c) => c.column),
      series: missingSeries(shown),
      height: 440,
      yLabel: 'share of rows missing',
      yFormat: (v) => formatPercent(v, 0),
      yMax: 1,
      rotateLabels: true,
      labelColors: shown.map((c) => (c.dropped ? COLORS.highlight : undefined)),
      labelBold: shown.map((c) => c.dropped),
      bandColors: shown.map((c) => (c.dropped ? COLORS.highlightSoft : undefined)),
      legendExtra: [{ name: 'dropped column', color: COLORS.highlightSoft }],
      hLines,
      hBand,
      barTitle: (si, ci) => `${shown[ci].column}: ${formatPercent(si === 0 ? shown[ci].populationShare : shown[ci].customerShare, 2)} missing (${si === 0 ? 'population' : 'customers'})${shown[ci].dropped ? ', dropped' : ''}`,
    });
    parts.push(
      figure(
        { wide, narrow, narrowNote },
        `Columns sorted by their missing share in the general population (after missing codes are turned into nulls); ` +
          `${esc(dropped.length)} highlighted column(s) were dropped.` +
          (complete > 0 ? ` ${esc(complete)} column(s) with no missing value in either file are not shown.` : ''),
      ),
    );
  } else {
    parts.push('<p class="empty">No column has missing values.</p>');
  }
  if (results.droppedColumns.length) {
    parts.push(`<p><b>Dropped:</b> ${results.droppedColumns.map((c) => `<span class="chip">${esc(c)}</span>`).join('')}</p>`);
  }
  return parts;
}

/** How many values each row misses, both files, with the heavy-missing cut. */
function rowMissingParts(results: Results): string[] {
  const parts: string[] = [];
  const { columns, rowHistogram, maxRowMissing } = results.missingness;
  parts.push('<h3>Missing values per row</h3>');
  const keptColumns = columns.length - results.droppedColumns.length;
  parts.push(
    figure(
      drawnTwice((narrow) =>
        histogram({
          title: 'Rows by number of missing values, population vs customers',
          series: [
            { name: 'general population', counts: rowHistogram.population, color: COLORS.population },
            { name: 'customers', counts: rowHistogram.customers, color: COLORS.customers },
          ],
          width: narrow ? NARROW : undefined,
          height: narrow ? 300 : 330,
          xLabel: narrow ? `missing values per row (of ${keptColumns})` : `missing values in the row (of ${keptColumns} kept columns)`,
          yLabel: narrow ? 'share of rows (sqrt scale)' : 'share of rows (square-root scale)',
          yScale: 'sqrt',
          splitAfter: { value: maxRowMissing, label: narrow ? `heavy: > ${maxRowMissing}` : `heavy-missing: more than ${maxRowMissing}` },
        }),
      ),
      `Each file normalised to its own row count. Rows right of the line go to the heavy-missing group: ` +
        `${esc(formatPercent(results.heavyMissing.populationShare))} of the population, ${esc(formatPercent(results.heavyMissing.customerShare))} of customers.`,
    ),
  );
  return parts;
}

/** How the heavy-missing rows differ from the clean ones, per column. */
function heavyComparisonParts(results: Results, options: ReportOptions): string[] {
  const parts: string[] = [];
  parts.push('<h3>Heavy-missing vs clean rows</h3>');
  const comparison = results.heavyMissing.comparison;
  if (comparison?.note) parts.push(`<p class="notice">${esc(comparison.note)}</p>`);
  const top = options.divergenceTop ?? 20;
  const divergence = [...results.heavyMissing.divergence].sort((a, b) => b.jensenShannon - a.jensenShannon || a.column.localeCompare(b.column)).slice(0, top);
  if (divergence.length) {
    parts.push(
      figure(
        drawnTwice((narrow) =>
          horizontalBarChart({
            title: 'Distribution differences between heavy-missing and clean rows per column',
            categories: divergence.map((d) => d.column),
            series: [
              { name: 'Jensen–Shannon divergence (bits)', values: divergence.map((d) => d.jensenShannon), color: COLORS.accent },
              { name: 'total variation distance', values: divergence.map((d) => d.totalVariation), color: COLORS.accentSoft },
            ],
            width: narrow ? NARROW : undefined,
            xFormat: (v) => formatCompact(v),
            xLabel: narrow ? 'divergence (0 = same, 1 = disjoint)' : 'divergence (0 = same distribution, 1 = disjoint)',
            xMax: Math.min(1, Math.max(0.05, ...divergence.flatMap((d) => [d.jensenShannon, d.totalVariation])) * 1.1),
            valueLabels: divergence.map((d) => (narrow ? d.jensenShannon.toFixed(3) : `JS ${d.jensenShannon.toFixed(3)}`)),
            valueWidth: narrow ? 44 : undefined,
            maxLabelChars: narrow ? 18 : undefined,
          }),
        ),
        `The ${esc(divergence.length)} columns (of ${esc(results.heavyMissing.divergence.length)} compared${esc(comparedHow(comparison))}) whose value distribution differs most between the two groups of the general population, ` +
          `over the values each group has. A large difference means the heavy-missing rows are a segment of their own, not a random subset.`,
      ),
    );
  } else {
    if (!comparison?.note) parts.push('<p class="empty">No divergence computed.</p>');
  }
  return parts;
}

/**
 * Values the recode step found outside their column's domain or beyond the magnitude limit, per column and file,
 * with the policy that handled them: users must see that such values were there and what became of them.
 */
function valueChecksSection(results: Results): string {
  const checks = results.valueChecks;
  if (!checks) return '';
  const limit = Number.isInteger(checks.maxAbsValue) ? formatInt(checks.maxAbsValue) : formatNumber(checks.maxAbsValue);
  const policy =
    checks.policy === 'missing'
      ? `<b>Policy: treated as missing</b> (<code>valueChecks.policy</code> = <code>missing</code>): each such value became a null, as a missing code does, and counts towards the missing shares above.`
      : `<b>Policy: fail</b> (<code>valueChecks.policy</code> = <code>fail</code>): the run stops at the first such value, naming its file, column and line.`;
  const intro =
    `Cells outside the column's documented domain (domains: ${esc(checks.domainSource)}) or with a magnitude beyond ±${esc(limit)}. ` + policy;
  if (checks.columns.length === 0) {
    return section('value-checks', 'Unexpected values', `<p class="empty">None found: every value is inside its column's domain and within ±${esc(limit)}.</p>`, intro);
  }
  const total = (key: 'outOfDomain' | 'extreme', file: 'population' | 'customers') => checks.columns.reduce((sum, c) => sum + c[file][key], 0);
  const count = (n: number) => (n > 0 ? `<b>${esc(formatInt(n))}</b>` : '0');
  const rows = checks.columns
    .map(
      (c) =>
        `<tr><td><code>${esc(c.column)}</code></td><td>${esc(c.domain)}</td>` +
        `<td class="num">${count(c.population.outOfDomain)}</td><td class="num">${count(c.population.extreme)}</td>` +
        `<td class="num">${count(c.customers.outOfDomain)}</td><td class="num">${count(c.customers.extreme)}</td><td>${esc(c.range)}</td></tr>`,
    )
    .join('');
  const table =
    `<div class="table-scroll"><table class="value-checks"><thead>` +
    `<tr><th rowspan="2">column</th><th rowspan="2">domain</th><th colspan="2" class="group">population</th><th colspan="2" class="group">customers</th><th rowspan="2">values found</th></tr>` +
    `<tr><th class="num">out of domain</th><th class="num">extreme</th><th class="num">out of domain</th><th class="num">extreme</th></tr></thead>` +
    `<tbody>${rows}</tbody><tfoot><tr><th colspan="2">total</th><th class="num">${esc(formatInt(total('outOfDomain', 'population')))}</th>` +
    `<th class="num">${esc(formatInt(total('extreme', 'population')))}</th><th class="num">${esc(formatInt(total('outOfDomain', 'customers')))}</th>` +
    `<th class="num">${esc(formatInt(total('extreme', 'customers')))}</th><th></th></tr></tfoot></table></div>`;
  return section(
    'value-checks',
    'Unexpected values',
    table + `<p class="caption">Only columns where something was found are listed; counts are cells (rows) per file, from results.json's <code>valueChecks</code>.</p>`,
    intro,
  );
}

function comparedHow(comparison: Results['heavyMissing']['comparison']): string {
  if (!comparison) return '';
  if (comparison.selection === 'threshold') return `: the columns missing at most ${formatPercent(comparison.maxMissingShare, 0)} of the population`;
  if (comparison.selection === 'least-missing') return `: the least-missing columns, as none misses at most ${formatPercent(comparison.maxMissingShare, 0)}`;
  return '';
}

function componentTable(component: Results['pca']['components'][number]): string {
  const maxAbs = Math.max(1e-12, ...component.top.map((w) => Math.abs(w.weight)), ...component.bottom.map((w) => Math.abs(w.weight)));
  const rows = (weights: Array<{ feature: string; weight: number }>) =>
    weights.length
      ? weights
          .map((w) => {
            const gloss = featureGloss(w.feature);
            return (
              `<tr><td><code>${esc(w.feature)}</code>${gloss ? `<div class="sub" style="font-size:11.5px">${esc(gloss)}</div>` : ''}</td>` +
              `<td class="num">${esc(w.weight >= 0 ? '+' : '')}${esc(w.weight.toFixed(3))} ${divergingBar(w.weight, maxAbs)}</td></tr>`
            );
          })
          .join('')
      : '<tr><td colspan="2" class="empty">none</td></tr>';
  const head = '<thead><tr><th>feature</th><th class="num">weight</th></tr></thead>';
  return (
    `<h3>PC${esc(component.index + 1)} <span class="sub" style="font-weight:400">· ${esc(formatPercent(component.explainedVarianceRatio))} of the variance</span></h3>` +
    `<div class="comp"><div><h4>largest positive weights</h4><div class="table-scroll"><table>${head}<tbody>${rows(component.top)}</tbody></table></div></div>` +
    `<div><h4>largest negative weights</h4><div class="table-scroll"><table>${head}<tbody>${rows(component.bottom)}</tbody></table></div></div></div>`
  );
}

function pcaSection(results: Results, options: ReportOptions): string {
  const { explainedVarianceRatio: evr, cumulativeVarianceRatio: cum, keptComponents: kept } = results.pca;
  const n = evr.length;
  const scree = drawnTwice((narrow) => {
    const width = narrow ? NARROW : 540;
    const every = labelStride(n, width - 78);
    return barChart({
      title: 'Explained variance per principal component',
      categories: evr.map((_, i) => (i === 0 || (i + 1) % every === 0 ? String(i + 1) : '')),
      values: evr,
      colors: evr.map((_, i) => (i < kept ? COLORS.accent : COLORS.muted)),
      width,
      height: narrow ? 280 : 320,
      xLabel: 'component',
      yLabel: 'explained variance ratio',
      yFormat: (v) => formatPercent(v, v < 0.1 ? 1 : 0),
      rotateLabels: false,
      legendExtra: [
        { name: `kept (${kept})`, color: COLORS.accent },
        { name: 'not kept', color: COLORS.muted },
      ],
      barTitle: (_, ci) => `PC${ci + 1}: ${formatPercent(evr[ci], 2)}`,
    });
  });
  const reached = cum[kept - 1];
  const hLines = options.varianceTarget !== undefined ? [{ value: options.varianceTarget, label: `target ${formatPercent(options.varianceTarget, 0)}` }] : [];
  const cumulative = drawnTwice((narrow) =>
    lineChart({
      title: 'Cumulative explained variance',
      series: [{ name: 'cumulative variance', points: cum.map((y, i) => ({ x: i + 1, y })), color: COLORS.accent }],
      width: narrow ? NARROW : 540,
      height: narrow ? 280 : 320,
      xLabel: 'number of components',
      yLabel: 'cumulative explained variance',
      yDomain: [0, 1],
      yFormat: (v) => formatPercent(v, 0),
      integerX: n <= 40,
      hLines,
      vLines: kept > 0 ? [{ x: kept, label: `kept ${kept}`, color: COLORS.subtle, anchor: kept > n * 0.75 ? 'end' : 'start', labelAt: 'bottom' }] : [],
      highlights: reached !== undefined ? [{ x: kept, y: reached, label: formatPercent(reached, 1) }] : [],
    }),
  );
  const target = options.varianceTarget !== undefined ? `; the target was ${esc(formatPercent(options.varianceTarget, 0))}` : '';
  const components = results.pca.components.length
    ? results.pca.components.map(componentTable).join('')
    : '<p class="empty">No components interpreted.</p>';
  return section(
    'pca',
    'Principal components',
    `<div class="grid2"><div>${figure(scree, 'Scree plot: variance explained by each component (kept ones in blue).')}</div>` +
      `<div>${figure(cumulative, `${esc(kept)} of ${esc(n)} components kept, explaining ${esc(reached !== undefined ? formatPercent(reached) : '–')} of the variance${target}.`)}</div></div>` +
      `<h3 style="margin-top:22px">What the first components mean</h3>` +
      `<p class="sub">Weights of the standardised features; a feature's sign only matters relative to the others on the same component.</p>` +
      components,
  );
}

const K_CHOSEN_BY: Record<Results['kChosenBy'], string> = {
  rule: 'clusters, by SSE knee and stability',
  knee: 'clusters, chosen at the SSE knee',
  fixed: 'clusters, fixed in the config',
  previous: 'clusters, kept from the previous run',
};

/** The stability per k (the k rule's evidence) as a chart, with the threshold the rule uses. */
function stabilityChart(results: Results, sweep: Results['kSweep']): Chart | undefined {
  const choice = results.kChoice;
  const points = sweep.filter((p) => p.stability !== undefined && p.stability !== null).map((p) => ({ x: p.k, y: p.stability as number }));
  if (!choice || points.length === 0) return undefined;
  const chosen = points.find((p) => p.x === results.k);
  return drawnTwice((narrow) =>
    lineChart({
      title: 'Stability vs k (agreement of fits on subsample pairs)',
      series: [
        { name: 'stability', points, color: COLORS.customers },
        { name: `threshold ${choice.minStability}`, points: points.map((p) => ({ x: p.x, y: choice.minStability })), color: COLORS.highlight },
      ],
      width: narrow ? NARROW : 540,
      height: narrow ? 280 : 320,
      xLabel: 'k (number of clusters)',
      yLabel: 'median ARI between subsample fits',
      integerX: true,
      yFormat: (v) => v.toFixed(2),
      vLines: [{ x: results.k, label: `k = ${results.k}`, color: COLORS.highlight, anchor: sweep.length && results.k > sweep[Math.floor(sweep.length * 0.7)]?.k ? 'end' : 'start' }],
      highlights: chosen ? [{ x: chosen.x, y: chosen.y }] : [],
    }),
  );
}

/** Why this k, in words: the rule's reason, or how k was set. */
function whyThisK(results: Results): string {
  const choice = results.kChoice;
  if (results.kChosenBy === 'fixed') return `k = ${results.k} was fixed in the configuration.`;
  if (results.kChosenBy === 'previous') return `k = ${results.k} was kept from the previous run (continuity.keepPreviousK: same data shape, k in range).`;
  if (!choice) return `k = ${results.k} was picked at the knee of the SSE curve.`;
  const knee = choice.knee === null ? 'The SSE curve has no knee (kneedle)' : `The knee of the SSE curve (kneedle) is at k = ${choice.knee}`;
  const eligible = choice.eligible.length ? `stable k (median ARI ≥ ${choice.minStability}, no cluster below ${formatInt(choice.minClusterSize)} rows): ${choice.eligible.join(', ')}` : `no k is stable (median ARI ≥ ${choice.minStability} with no cluster below ${formatInt(choice.minClusterSize)} rows)`;
  // Stability is measured only where the rule needs it (nearest the knee first, up to the first stable k).
  const measured = results.kSweep.filter((p) => p.stability !== undefined && p.stability !== null).map((p) => p.k);
  const where = measured.length && measured.length < results.kSweep.length ? `stability measured at k = ${measured.join(', ')}, where the rule needed it (nearest the knee first); ` : '';
  const verdict = choice.stable ? `k = ${results.k}: ${choice.reason}.` : `k = ${results.k} is the knee, but the partition is not reproducible: treat the segments with care.`;
  // The sweep's fit at k passed the minimum; the final fit (more inits) is checked again here.
  const small = results.clusters.filter((c) => c.id >= 0 && c.populationCount < choice.minClusterSize);
  const sizes = small.length
    ? ` The final fit left ${small.map((c) => `${clusterLabel(c.id)} with ${formatInt(c.populationCount)} rows`).join(', ')}, below the minimum of ${formatInt(choice.minClusterSize)}: do not act on ${small.length === 1 ? 'it' : 'them'}.`
    : '';
  return `${knee}; ${where}${eligible}. ${verdict}${sizes}${refinedPoints(results.kSweep)}`;
}

/** " Refined near the knee …": the sweep points fitted with more inits than the rest, so the knee is the optimum curve's. */
function refinedPoints(sweep: Results['kSweep']): string {
  const least = Math.min(...sweep.map((p) => p.inits ?? Infinity));
  const refined = sweep.filter((p) => p.inits !== undefined && p.inits > least).sort((a, b) => a.k - b.k);
  if (!refined.length) return '';
  // Grouped by inits: the knee's neighbours get refineInits, the rule's k the final fit's inits.
  const byInits = new Map<number, number[]>();
  for (const p of refined) byInits.set(p.inits!, [...(byInits.get(p.inits!) ?? []), p.k]);
  const groups = [...byInits].sort((a, b) => a[0] - b[0]).map(([inits, ks]) => `k = ${ks.join(', ')} with the best of ${inits} inits`);
  return ` Refined near the knee (instead of ${least} init${least === 1 ? '' : 's'}): ${groups.join('; ')}.`;
}

function kmeansSection(results: Results): string {
  const sweep = [...results.kSweep].sort((a, b) => a.k - b.k);
  const chosen = sweep.find((p) => p.k === results.k);
  const by = { fixed: 'fixed', rule: 'chosen', previous: 'previous run', knee: 'knee' }[results.kChosenBy];
  const sse = drawnTwice((narrow) =>
    lineChart({
      title: 'Within-cluster sum of squares (SSE) vs k',
      series: [{ name: 'SSE', points: sweep.map((p) => ({ x: p.k, y: p.sse })), color: COLORS.accent }],
      width: narrow ? NARROW : 540,
      height: narrow ? 280 : 320,
      xLabel: 'k (number of clusters)',
      yLabel: 'SSE (sum of squared distances)',
      integerX: true,
      vLines: [{ x: results.k, label: `k = ${results.k}`, color: COLORS.highlight, anchor: sweep.length && results.k > sweep[Math.floor(sweep.length * 0.7)]?.k ? 'end' : 'start' }],
      highlights: chosen ? [{ x: chosen.k, y: chosen.sse, label: `${by}` }] : [],
    }),
  );
  const silPoints = sweep.map((p) => ({ x: p.k, y: p.silhouette }));
  const hasSil = silPoints.some((p) => p.y !== null);
  const silhouette = hasSil
    ? drawnTwice((narrow) =>
        lineChart({
          title: 'Silhouette score vs k',
          series: [{ name: 'silhouette', points: silPoints, color: COLORS.customers }],
          width: narrow ? NARROW : 540,
          height: narrow ? 280 : 320,
          xLabel: 'k (number of clusters)',
          yLabel: 'mean silhouette (sample)',
          integerX: true,
          yFormat: (v) => v.toFixed(2),
          vLines: [{ x: results.k, label: `k = ${results.k}`, color: COLORS.highlight, anchor: sweep.length && results.k > sweep[Math.floor(sweep.length * 0.7)]?.k ? 'end' : 'start' }],
          highlights: chosen && chosen.silhouette !== null ? [{ x: chosen.k, y: chosen.silhouette }] : [],
        }),
      )
    : undefined;
  // With the k rule, stability is the evidence shown next to the SSE curve; the silhouette on a small sample
  // says little about k (it peaks at k = 2 on every data set tried) and is not shown then.
  const stability = stabilityChart(results, sweep);
  const right = stability
    ? figure(stability, 'Median adjusted Rand index, over the replicates, between k-means fits on pairs of fixed subsamples labelling the same evaluation rows: 1 = the partition at this k is reproduced exactly.')
    : silhouette
      ? figure(silhouette, 'Mean silhouette on a sample of rows (higher = better separated clusters).')
      : '<p class="empty">Silhouette scores were not computed.</p>';
  return section(
    'kmeans',
    'Choosing k',
    `<p>${esc(whyThisK(results))}</p>` +
      `<div class="grid2"><div>${figure(sse, `k-means SSE for each k in the sweep (best of the sweep's seeded inits). Final fit SSE: ${esc(formatInt(results.finalSse))}.`)}</div>` +
      `<div>${right}</div></div>`,
  );
}

/** Month to month: every segment's status (continued / new / gone), centroid distance and share changes. */
function continuitySection(results: Results): string {
  const continuity = results.continuity;
  if (!continuity) return '';
  const byId = new Map(results.clusters.map((c) => [c.id, c]));
  const points = (change: number | null) => (change === null ? '–' : `${change >= 0 ? '+' : ''}${(change * 100).toFixed(2)} pts`);
  const distance = (d: number | null) => (d === null ? '–' : d.toFixed(3));
  const rows = [...continuity.segments]
    .sort((a, b) => a.id - b.id)
    .map(
      (s) =>
        `<tr class="segment-${esc(s.status)}"><td><b>${esc(clusterLabel(s.id))}</b></td><td>${esc(byId.get(s.id)?.persona ?? '')}</td><td>${esc(s.status)}</td>` +
        `<td class="num">${esc(distance(s.distance))}</td><td class="num">${esc(points(s.populationShareChange))}</td>` +
        `<td class="num">${esc(points(s.customerShareChange))}</td><td class="num">${esc(s.previousLift === null ? '–' : formatLift(s.previousLift))}</td></tr>`,
    )
    .concat(
      continuity.gone.map(
        (g) =>
          `<tr class="segment-gone"><td><b>${esc(clusterLabel(g.id))}</b></td><td>${esc(g.previousPersona)}</td><td>gone</td><td class="num">${esc(distance(g.nearestDistance))}</td>` +
          `<td class="num">${esc(points(-g.previousPopulationShare))}</td><td class="num">${esc(points(-g.previousCustomerShare))}</td>` +
          `<td class="num">${esc(formatLift(g.previousLift))}</td></tr>`,
      ),
    )
    .join('');
  return section(
    'previous',
    'Compared with the previous run',
    `<div class="table-scroll"><table><thead><tr><th>segment</th><th>persona</th><th>status</th><th class="num">centroid distance (sd)</th><th class="num">population share change</th>` +
      `<th class="num">customer share change</th><th class="num">previous lift</th></tr></thead><tbody>${rows}</tbody></table></div>`,
    `Segments matched to <code>${esc(continuity.previousOutDir)}</code> (${esc(continuity.previousCreatedAt)}): a segment keeps its ID when its centroid is within ` +
      `${esc(continuity.maxDistance)} sd of a previous segment's (root-mean-square difference over the standardised encoded features; pairs chosen by a ` +
      `minimum-cost assignment). For a new segment the distance is to the nearest previous segment, for a gone one to the nearest segment of this run.`,
  );
}

function runSection(results: Results): string {
  const inputs = results.inputs;
  const inputRows = [
    ['general population', inputs.population.path, formatInt(inputs.population.rows), inputs.population.sha256],
    ['customers', inputs.customers.path, formatInt(inputs.customers.rows), inputs.customers.sha256],
    ['feature summary', inputs.featureSummary.path, '', inputs.featureSummary.sha256],
  ]
    .map(
      ([what, path, rows, sha]) =>
        `<tr><td>${esc(what)}</td><td><code>${esc(path)}</code></td><td class="num">${esc(rows)}</td><td><code title="${esc(sha)}">${esc(sha.slice(0, 16))}${sha.length > 16 ? '…' : ''}</code></td></tr>`,
    )
    .join('');
  const total = results.steps.reduce((s, step) => s + (Number.isFinite(step.seconds) ? step.seconds : 0), 0);
  const maxStep = Math.max(0, ...results.steps.map((s) => s.seconds).filter(Number.isFinite));
  const stepRows = results.steps
    .map(
      (s) =>
        `<tr><td>${esc(s.name)}${s.reused ? ' <span class="tag">reused</span>' : ''}</td><td class="num">${esc(formatSeconds(s.seconds))}</td>` +
        `<td class="num">${esc(total > 0 ? formatPercent(s.seconds / total, 0) : '–')}</td><td>${fillBar(s.seconds, maxStep)}</td></tr>`,
    )
    .join('');
  const unseen = results.unseenCustomerLevels;
  const unseenRows = unseen
    .map(
      (u) =>
        `<tr><td><code>${esc(u.column)}</code></td><td class="num">${esc(formatInt(u.rows))}</td>` +
        `<td>${u.values.slice(0, 10).map((v) => `<span class="chip">${esc(v)}</span>`).join('')}${u.values.length > 10 ? ' …' : ''}</td></tr>`,
    )
    .join('');
  const unseenBlock =
    `<h3 id="unseen">Customer values the population has not seen</h3>` +
    (unseen.length
      ? `<div class="table-scroll"><table><thead><tr><th>column</th><th class="num">customer rows</th><th>values</th></tr></thead><tbody>${unseenRows}</tbody></table></div>` +
        `<p class="caption">Counted over the customer rows that are clustered (heavy-missing rows are not encoded). The encoding is fitted on the population; these values have no level there, so they encode as unknown (no one-hot level set, or missing for binary and derived features, then imputed).</p>`
      : '<p class="sub">None: every customer value of an encoded column is one the population fit knows.</p>');
  return section(
    'run',
    'Run',
    `<h3>Inputs</h3><div class="table-scroll"><table><thead><tr><th>file</th><th>path</th><th class="num">rows</th><th>sha256</th></tr></thead><tbody>${inputRows}</tbody></table></div>` +
      `<h3>Step timings</h3>` +
      (results.steps.length
        ? `<div class="table-scroll"><table><thead><tr><th>step</th><th class="num">time</th><th class="num">share</th><th></th></tr></thead><tbody>${stepRows}</tbody>` +
          `<tfoot><tr><th>total</th><th class="num">${esc(formatSeconds(total))}</th><th colspan="2"></th></tr></tfoot></table></div>` +
          `<p class="caption">"reused" steps came from an earlier run's cached output.</p>`
        : '<p class="empty">No step timings recorded.</p>') +
      unseenBlock,
  );
}

/** The whole report page. */
export function renderReport(results: Results, reportOptions: ReportOptions = {}): string {
  // The run's own settings draw the thresholds unless the caller overrides them.
  const options: ReportOptions = { ...results.settings, ...reportOptions };
  const title = options.title ?? `Customer segments — ${results.dataset}`;
  const body = [
    headerBlock(results, title),
    findingsBlock(results),
    keyFigure(results, options),
    summarySection(results),
    profilesSection(results, options),
    missingSection(results, options),
    valueChecksSection(results),
    pcaSection(results, options),
    kmeansSection(results),
    continuitySection(results),
    runSection(results),
    `<footer>customer-segments · results.json version ${esc(results.version)} · self-contained report (no scripts or external resources)</footer>`,
  ].join('\n');
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${esc(title)}</title><style>${CSS}</style></head>\n<body><main>\n${body}\n</main></body></html>\n`
  );
}
