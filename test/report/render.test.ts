import { ResultsSchema, type Results } from '../../schemas/results';
import { clusterLabel, formatP, renderReport, renderSummaryTable } from '../../core/report/render';
import { buildResultsFixture, REPORT_CHART_TITLES } from './fixture';

const EVIL = '<script>alert("x")</script>';

function fixture(extraFeature?: string): Results {
  return ResultsSchema.parse(buildResultsFixture({ extraFeature }));
}

/** The <svg>…</svg> elements of a page. */
function svgs(html: string): string[] {
  return html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
}

/** Checks that start and end tags nest properly (void elements and self-closing tags aside). */
function unbalancedTags(markup: string): string[] {
  const voids = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);
  const stack: string[] = [];
  const problems: string[] = [];
  const tag = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(\/?)>/g;
  for (const m of markup.replace(/<!DOCTYPE[^>]*>/i, '').matchAll(tag)) {
    const [, closing, rawName, selfClosing] = m;
    const name = rawName.toLowerCase();
    if (selfClosing || voids.has(name)) continue;
    if (!closing) stack.push(name);
    else if (stack.pop() !== name) problems.push(`unexpected </${name}> at ${m.index}`);
  }
  return [...problems, ...stack.map((name) => `unclosed <${name}>`)];
}

describe('renderReport', () => {
  const results = fixture(EVIL);
  const html = renderReport(results, { varianceTarget: 0.9, maxColumnMissingShare: 0.3, alpha: 0.05 });

  it('is one self-contained HTML page', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link\b|<img\b|@import|url\(|src=/i);
    // The only URL is the SVG namespace.
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:\/\//);
  });

  it('has balanced markup', () => {
    expect(unbalancedTags(html)).toEqual([]);
  });

  it('draws every chart as an inline SVG, once for wide screens and once for phones', () => {
    const titles = REPORT_CHART_TITLES;
    const labels = svgs(html).map((svg) => /aria-label="([^"]*)"/.exec(svg)?.[1]);
    expect(labels).toEqual(titles.flatMap((title) => [title, title]));
    const figures = html.match(/<figure>[\s\S]*?<\/figure>/g) ?? [];
    expect(figures).toHaveLength(titles.length);
    for (const figure of figures) {
      expect(figure).toMatch(/^<figure><div class="chart chart-wide"><svg [^>]*viewBox="0 0 (\d+) /);
      expect(figure).toContain('<div class="chart chart-narrow"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 340 ');
    }
    for (const svg of svgs(html)) expect(svg).not.toMatch(/NaN|Infinity|undefined|__MIN_WIDTH__/);
  });

  it('puts every table in a scroll box, so a wide table scrolls inside its card', () => {
    const tables = html.match(/<table>/g) ?? [];
    expect(tables.length).toBeGreaterThan(5);
    expect(html.match(/<div class="table-scroll"><table>/g)).toHaveLength(tables.length);
  });

  it('escapes text everywhere: a feature named <script> is shown, never executed', () => {
    expect(html).not.toContain(EVIL);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    // It appears in the profile table, the PCA table, the missingness chart and the divergence chart.
    expect(html.split('&lt;script&gt;').length - 1).toBeGreaterThanOrEqual(4);
  });

  it('names every cluster, including the heavy-missing group', () => {
    for (const cluster of results.clusters) {
      expect(html).toContain(`<b>${clusterLabel(cluster.id)}</b>`);
    }
    expect(html).toContain('heavy-missing');
  });

  it('lists the clusters by lift in the summary table with shares, interval, p-value and verdict', () => {
    const table = html.slice(html.indexOf('id="summary"'), html.indexOf('id="profiles"'));
    const order = [...table.matchAll(/<tr><td><b>([^<]+)<\/b>/g)].map((m) => m[1]);
    expect(order).toEqual(['cluster 9', 'heavy-missing', 'cluster 6', 'cluster 7', 'cluster 4', 'cluster 1', 'cluster 5', 'cluster 11', 'cluster 2', 'cluster 10', 'cluster 8', 'cluster 3', 'cluster 0']);
    expect(table).toContain('24.87\u00a0%');
    expect(table).toContain('6.55\u00a0%');
    expect(table).toContain('<b>3.80</b>');
    expect(table).toContain('<span class="badge over">over</span>');
    expect(table).toContain('<span class="badge under">under</span>');
  });

  it('marks the thresholds it was given and the chosen k and component count', () => {
    expect(html).toContain('drop threshold 30\u00a0%');
    expect(html).toContain('target 90\u00a0%');
    expect(html).toContain(`kept ${results.pca.keptComponents}`);
    expect(html).toContain('k = 12');
    expect(html).toContain(`heavy-missing: more than ${results.missingness.maxRowMissing}`);
    for (const column of results.droppedColumns) expect(html).toContain(`<span class="chip">${column}</span>`);
  });

  it('draws the thresholds from the run\'s own settings', () => {
    const plain = renderReport(results);
    expect(plain).toContain('drop threshold 30');
    expect(plain).toContain('target 90');
    const other = renderReport({ ...results, settings: { ...results.settings, maxColumnMissingShare: 0.2 } });
    expect(other).toContain('drop threshold 20');
  });

  it('shows profiles of over- and under-represented clusters with their descriptions', () => {
    const profiles = html.slice(html.indexOf('id="profiles"'), html.indexOf('id="missing"'));
    const over = results.clusters.find((c) => c.id === 9)!;
    expect(profiles).toContain(over.profile[0].description.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'));
    expect(profiles).toContain('cluster 0');
    expect(profiles).toContain('The heavy-missing group has no centroid');
  });

  it('shows the interpreted components and the step timings', () => {
    expect(html).toContain('PC1');
    expect(html).toContain('PC3');
    expect(html).toContain('PLZ8_ANTG3');
    expect(html).toContain('k-sweep');
    expect(html).toContain('<span class="tag">reused</span>');
  });

  it('copes with empty sections', () => {
    const raw = buildResultsFixture() as Record<string, any>;
    raw.clusters = [];
    raw.overRepresented = [];
    raw.underRepresented = [];
    raw.steps = [];
    raw.kSweep = raw.kSweep.map((p: { k: number; sse: number }) => ({ ...p, silhouette: null }));
    raw.heavyMissing.divergence = [];
    raw.pca.components = [];
    const page = renderReport(ResultsSchema.parse(raw));
    expect(unbalancedTags(page)).toEqual([]);
    expect(page).toContain('No clusters in the results.');
    expect(page).toContain('Silhouette scores were not computed.');
    expect(page).toContain('No step timings recorded.');
    expect(page).not.toMatch(/NaN/);
  });
});

describe('renderReport: unseen customer levels and the clean-vs-heavy comparison', () => {
  it('lists customer values the population has not seen, in the findings and the run section', () => {
    const results = fixture();
    results.unseenCustomerLevels = [
      { column: 'CAMEO_DEU_2015', rows: 1234, values: ['XX', '9Z'] },
      { column: 'OST_WEST_KZ', rows: 7, values: ['<Q>'] },
    ];
    const page = renderReport(results);
    const findings = page.slice(page.indexOf('id="findings"'), page.indexOf('id="key-figure"'));
    expect(findings).toContain('1,241 customer row(s) hold values that do not occur in the population, in 2 column(s)');
    const run = page.slice(page.indexOf('id="run"'));
    expect(run).toContain('Customer values the population has not seen');
    expect(run).toContain('<td><code>CAMEO_DEU_2015</code></td><td class="num">1,234</td>');
    expect(run).toContain('<span class="chip">9Z</span>');
    expect(run).toContain('<span class="chip">&lt;Q&gt;</span>');
    expect(unbalancedTags(page)).toEqual([]);
  });

  it('says so when no customer value is unseen', () => {
    const page = renderReport(fixture());
    expect(page).toContain('None: every customer value of an encoded column is one the population fit knows.');
    expect(page).not.toContain('customer row(s) hold values that do not occur');
  });

  it('shows why the comparison fell back to the least-missing columns', () => {
    const results = fixture();
    const note = 'no kept column misses at most 5 % of the population (the least-missing misses 12.0 %): compared the 10 least-missing columns instead';
    results.heavyMissing.comparison = { maxMissingShare: 0.05, columns: 10, selection: 'least-missing', note };
    const page = renderReport(results);
    const missing = page.slice(page.indexOf('id="missing"'), page.indexOf('id="pca"'));
    expect(missing).toContain(`<p class="notice">${note}</p>`);
    expect(missing).toContain('compared: the least-missing columns, as none misses at most 5\u00a0%');
    expect(page.slice(page.indexOf('id="findings"'), page.indexOf('id="key-figure"'))).toContain(note);
  });

  it('says why nothing was compared instead of a silent empty chart', () => {
    const results = fixture();
    results.heavyMissing.divergence = [];
    results.heavyMissing.comparison = { maxMissingShare: 0.05, columns: 0, selection: 'none', note: 'no population row is heavy-missing: nothing to compare' };
    const page = renderReport(results);
    expect(page).toContain('<p class="notice">no population row is heavy-missing: nothing to compare</p>');
    expect(page).not.toContain('No divergence computed.');
  });
});

describe('renderReport: value checks', () => {
  const base = { policy: 'missing' as const, maxAbsValue: 1e9, domainSource: 'built-in Arvato domains' };
  it('has no value-checks card when results.json has none (runs from before the checks)', () => {
    const html = renderReport(fixture());
    expect(html).not.toContain('id="value-checks"');
    expect(html).not.toContain('href="#value-checks"');
  });
  it('says none were found, with the policy, when every value passed', () => {
    const html = renderReport({ ...fixture(), valueChecks: { ...base, columns: [] } });
    expect(html).toContain('id="value-checks"');
    expect(html).toContain("None found: every value is inside its column's domain and within ±1,000,000,000.");
    expect(html).toContain('Policy: treated as missing');
    const findings = html.slice(html.indexOf('id="findings"'), html.indexOf('</section>', html.indexOf('id="findings"')));
    expect(findings).not.toContain('value-checks');
  });
  it('lists each column with its counts per file and escapes what it shows', () => {
    const html = renderReport({
      ...fixture(),
      valueChecks: { ...base, policy: 'fail', columns: [{ column: EVIL, domain: '1..5', population: { outOfDomain: 2, extreme: 0 }, customers: { outOfDomain: 0, extreme: 1 }, range: '-9 .. 1e+308' }] },
    });
    expect(html).not.toContain(EVIL);
    expect(html).toContain('Policy: fail');
    expect(html).toMatch(/<td class="num"><b>2<\/b><\/td><td class="num">0<\/td><td class="num">0<\/td><td class="num"><b>1<\/b><\/td><td>-9 \.\. 1e\+308<\/td>/);
    expect(html).toContain('3 cell(s) in 1 column(s) hold a value outside');
    expect(unbalancedTags(html)).toEqual([]);
  });
});

describe('renderReport: segments month to month', () => {
  /** The fixture as a second month: cluster 11 is new, last month's segment 12 is gone, the others continued. */
  function secondMonth(): Results {
    const results = fixture();
    const segments = results.clusters.map((c) => ({
      id: c.id,
      status: c.id === 11 ? ('new' as const) : ('continued' as const),
      previousId: c.id === 11 ? null : c.id,
      distance: c.id === 11 ? 0.61 : c.id === -1 ? null : 0.03,
      populationShareChange: c.id === 11 ? c.populationShare : 0.001,
      customerShareChange: c.id === 11 ? c.customerShare : c.id === 9 ? 0.042 : -0.004,
      previousLift: c.id === 11 ? null : c.lift,
    }));
    return ResultsSchema.parse({
      ...results,
      continuity: {
        previousOutDir: '/runs/2026-01',
        previousCreatedAt: '2026-01-01T02:00:00.000Z',
        maxDistance: 0.25,
        kFromPrevious: false,
        warmStart: 'off',
        segments,
        gone: [{ id: 12, nearestDistance: 0.55, previousPopulationShare: 0.031, previousCustomerShare: 0.012, previousLift: 0.39, previousPersona: 'younger, <b>poorer</b>' }],
      },
    });
  }

  it('lists continued, new and gone segments with their share changes in the key findings', () => {
    const results = secondMonth();
    const html = renderReport(results);
    const findings = html.slice(html.indexOf('Key findings'), html.indexOf('</ul>', html.indexOf('Key findings')));
    const continued = results.continuity!.segments.filter((s) => s.status === 'continued' && s.id !== -1).length;
    expect(findings).toContain(`Since the previous run (2026-01-01): ${continued} segment(s) continued`);
    // The largest customer share change first.
    expect(findings).toMatch(/largest customer share changes: cluster 9 \+4\.2 pts \(population \+0\.1 pts\), cluster 0 −0\.4 pts \(population \+0\.1 pts\), cluster 1 −0\.4 pts \(population \+0\.1 pts\)\./);
    const persona11 = results.clusters.find((c) => c.id === 11)!.persona;
    expect(findings).toContain(`New segment(s): <b>cluster 11</b> <i>“${persona11}”</i>`);
    expect(findings).toContain('Gone: <b>cluster 12</b> <i>“younger, &lt;b&gt;poorer&lt;/b&gt;”</i>, which held 1.2\u00a0% of customers and 3.1\u00a0% of the population');
    expect(unbalancedTags(html)).toEqual([]);
  });

  it('has a continuity table with every segment’s status, distance and share change, gone ones included', () => {
    const html = renderReport(secondMonth());
    const section = html.slice(html.indexOf('Compared with the previous run'), html.indexOf('</section>', html.indexOf('Compared with the previous run')));
    expect(section).toContain('within 0.25 sd');
    expect(section).toMatch(/<td><b>cluster 11<\/b><\/td><td>[^<]*<\/td><td>new<\/td><td class="num">0\.610<\/td>/);
    expect(section).toMatch(/<td><b>cluster 12<\/b><\/td><td>younger, &lt;b&gt;poorer&lt;\/b&gt;<\/td><td>gone<\/td><td class="num">0\.550<\/td><td class="num">-3\.10 pts<\/td>/);
    expect((section.match(/<td>continued<\/td>/g) ?? []).length).toBe(secondMonth().clusters.length - 1);
  });

  it('says nothing about continuity for a first run', () => {
    const html = renderReport(fixture());
    expect(html).not.toContain('Compared with the previous run');
    expect(html).not.toContain('Since the previous run');
  });
});

describe('renderSummaryTable', () => {
  const results = fixture();
  const text = renderSummaryTable(results);
  const lines = text.trimEnd().split('\n');

  it('has a header, a rule and one row per cluster, by lift, each with its persona', () => {
    expect(lines[0]).toMatch(/^cluster\s+population\s+customers\s+lift\s+verdict\s+persona$/);
    expect(lines[1]).toMatch(/^-+( +-+){5}$/);
    expect(lines).toHaveLength(results.clusters.length + 2);
    const personaOf = (id: number) => results.clusters.find((c) => c.id === id)!.persona;
    expect(personaOf(9).length).toBeGreaterThan(0);
    expect(lines[2]).toMatch(new RegExp(`^9\\s+6\\.55 %\\s+24\\.87 %\\s+3\\.80\\s+over\\s+${personaOf(9)}$`));
    expect(lines[3]).toMatch(/^heavy-missing\s+10\.45 %\s+26\.05 %\s+2\.49\s+over\s+too many missing values/);
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^0\\s+9\\.36 %\\s+0\\.73 %\\s+0\\.08\\s+under\\s+${personaOf(0)}$`));
  });

  it('aligns the numeric columns on the right', () => {
    // Shares of different widths (6.55 % and 10.45 %) end in the same column.
    const populationEnd = lines[0].indexOf('population') + 'population'.length;
    const customersEnd = lines[0].indexOf('customers') + 'customers'.length;
    const liftEnd = lines[0].indexOf('lift') + 'lift'.length;
    for (const line of lines.slice(2)) {
      expect(line.charAt(populationEnd - 1)).toBe('%');
      expect(line.charAt(customersEnd - 1)).toBe('%');
      expect(line.slice(0, liftEnd)).toMatch(/\d$/);
    }
  });
});

describe('formatP', () => {
  it('formats p-values for people', () => {
    expect(formatP(0)).toBe('< 1e-300');
    expect(formatP(1.2e-45)).toBe('1.2e-45');
    expect(formatP(0.0499958)).toBe('0.050');
    expect(formatP(1)).toBe('1.000');
  });
});

describe('renderReport: why this k (the k rule)', () => {
  function withRule(smallest = Infinity): Results {
    const base = fixture();
    const kSweep = base.kSweep.map((p) => ({ ...p, stability: p.k === base.k ? 0.996 : 0.9, smallestCluster: 500 }));
    const firstCluster = base.clusters.find((c) => c.id >= 0)!.id;
    const clusters = base.clusters.map((c) => (c.id === firstCluster && Number.isFinite(smallest) ? { ...c, populationCount: smallest } : c));
    const choice = { knee: base.k - 1, eligible: [base.k], run: [base.k], stable: true, reason: `the stable run ${base.k}..${base.k} is the nearest to the knee at ${base.k - 1}; its largest k`, minStability: 0.98, minClusterSize: 100 };
    return ResultsSchema.parse({ ...base, kSweep, clusters, kChosenBy: 'rule', kChoice: choice });
  }

  it('shows the stability per k instead of the silhouette, and the rule\'s reason', () => {
    const html = renderReport(withRule());
    expect(html).toContain('Stability vs k');
    expect(html).not.toContain('Silhouette score vs k');
    expect(html).toContain('The knee of the SSE curve (kneedle) is at k = ');
    expect(html).toContain('is the nearest to the knee');
    expect(html).toContain('by SSE knee and stability');
    expect(html).not.toContain('below the minimum of');
    expect(html).not.toContain('Refined near the knee');
    // Measured at every k: no note of where.
    expect(html).not.toContain('where the rule needed it');
  });

  it('says where stability was measured when the rule did not need it everywhere', () => {
    const base = withRule();
    const kSweep = base.kSweep.map((p) => ({ ...p, stability: Math.abs(p.k - base.k) <= 1 ? p.stability : null }));
    const measured = kSweep.filter((p) => p.stability !== null).map((p) => p.k).sort((a, b) => a - b);
    const html = renderReport({ ...base, kSweep });
    expect(html).toContain(`stability measured at k = ${measured.join(', ')}, where the rule needed it (nearest the knee first)`);
    expect(html).toContain('Stability vs k');
  });

  it('names the sweep points refined near the knee', () => {
    const base = withRule();
    const kSweep = base.kSweep.map((p) => ({ ...p, inits: p.k === base.k ? 10 : Math.abs(p.k - base.k) === 1 ? 5 : 1 }));
    const neighbours = kSweep.filter((p) => p.inits === 5).map((p) => p.k).sort((a, b) => a - b);
    expect(renderReport({ ...base, kSweep })).toContain(`Refined near the knee (instead of 1 init): k = ${neighbours.join(', ')} with the best of 5 inits; k = ${base.k} with the best of 10 inits.`);
  });

  it('says when the final fit left a cluster below the minimum size', () => {
    const results = withRule(12);
    const id = results.clusters.find((c) => c.id >= 0)!.id;
    expect(renderReport(results)).toContain(`${clusterLabel(id)} with 12 rows, below the minimum of 100`);
  });

  it('without the rule the report reads as before', () => {
    const html = renderReport(fixture());
    expect(html).not.toContain('Stability vs k');
    expect(html).toContain('picked at the knee of the SSE curve');
  });

  it('a k kept from the previous run (continuity.keepPreviousK) says so, with no rule evidence', () => {
    const base = fixture();
    const html = renderReport(ResultsSchema.parse({ ...base, kChosenBy: 'previous', kChoice: null }));
    expect(html).toContain(`k = ${base.k} was kept from the previous run`);
    expect(html).toContain('clusters, kept from the previous run');
    expect(html).not.toContain('Stability vs k');
    expect(html).not.toContain('picked at the knee');
  });
});
