import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { renderReport } from '../../core/report/render';
import { MIN_TEXT_PX } from '../../core/report/svg';
import { ResultsSchema, type Results } from '../../schemas/results';
import { findChromium, launchChromium, type HeadlessChromium } from '../support/browser';
import { buildResultsFixture, REPORT_CHART_TITLES } from './fixture';

/**
 * report.html in a real browser (Debian's chromium, headless) at a desktop and a phone width: no console errors,
 * no horizontal page overflow, every chart drawn with its title and no chart text below MIN_TEXT_PX, tables
 * scrolling inside their card. Set REPORT_SCREENSHOTS=<dir> to keep full-page screenshots of each width.
 */

const CHART_TITLES = REPORT_CHART_TITLES;

const WIDTHS = [1280, 390] as const;

/** The fixture as a monthly re-run, with a hostile feature name. */
function typicalResults(): Results {
  const results = ResultsSchema.parse(buildResultsFixture({ extraFeature: '<img src=x onerror=alert(1)>' }));
  const previousOutDir = '/srv/segments/2026-01/output';
  results.continuity = {
    previousOutDir,
    previousCreatedAt: '2026-01-01T03:00:00.000Z',
    maxDistance: 0.25,
    kFromPrevious: false,
    warmStart: 'off',
    segments: results.clusters.map((c, i) => ({
      id: c.id,
      status: i === 3 ? 'new' : 'continued',
      previousId: i === 3 ? null : c.id,
      distance: i === 3 ? 0.62 : 0.01 * i,
      populationShareChange: i === 3 ? c.populationShare : 0.001 * (i - 5),
      customerShareChange: i === 3 ? c.customerShare : -0.002 * (i - 4),
      previousLift: i === 3 ? null : c.lift * 0.97,
    })),
    gone: [{ id: 12, nearestDistance: 0.55, previousPopulationShare: 0.031, previousCustomerShare: 0.012, previousLift: 0.39, previousPersona: 'younger, <script>alert(1)</script>' }],
  };
  results.valueChecks = VALUE_CHECKS;
  return results;
}

/** What the recode step found: out-of-domain codes and an extreme magnitude, treated as missing. */
const VALUE_CHECKS: NonNullable<Results['valueChecks']> = {
  policy: 'missing',
  maxAbsValue: 1e9,
  domainSource: 'built-in Arvato domains',
  columns: [
    { column: 'SEMIO_SOZ', domain: '1..7', population: { outOfDomain: 1204, extreme: 0 }, customers: { outOfDomain: 17, extreme: 0 }, range: '-5 .. 99' },
    { column: 'ANZ_PERSONEN', domain: 'any number', population: { outOfDomain: 0, extreme: 3 }, customers: { outOfDomain: 0, extreme: 0 }, range: '1e+308 .. 1e+308' },
    { column: 'ALTERSKATEGORIE_GROB', domain: '1, 2, 3, 4', population: { outOfDomain: 88, extreme: 0 }, customers: { outOfDomain: 2, extreme: 0 }, range: '7 .. 8' },
  ],
};

/** Harder to lay out: long column names and paths, a long k sweep, many components. */
function wideDataResults(): Results {
  const raw = buildResultsFixture() as Record<string, any>;
  const long = (name: string) => `${name}_WITH_A_VERY_LONG_GENERATED_SUFFIX_FROM_A_GENERIC_SOURCE`;
  raw.missingness.columns = raw.missingness.columns.map((c: { column: string }) => ({ ...c, column: long(c.column) }));
  raw.droppedColumns = raw.droppedColumns.map(long);
  raw.heavyMissing.divergence = raw.heavyMissing.divergence.map((d: { column: string }) => ({ ...d, column: long(d.column) }));
  raw.kSweep = Array.from({ length: 39 }, (_, i) => ({ k: i + 2, sse: 1e8 / Math.sqrt(i + 2), silhouette: 0.2 - i * 0.003 }));
  raw.inputs.population.path = `/data/${'nested/'.repeat(12)}population_with_a_long_name.csv`;
  raw.valueChecks = {
    ...VALUE_CHECKS,
    domainSource: `/data/${'nested/'.repeat(12)}domains.json`,
    columns: Array.from({ length: 14 }, (_, i) => ({
      column: long(`COLUMN_${i}`),
      domain: `${i}, ${i + 1}, ${i + 2}, ${i + 3}, ${i + 4}, ${i + 5}, ${i + 6}, ${i + 7}, ${i + 8}, ${i + 9}`,
      population: { outOfDomain: 1000 * i, extreme: i % 3 },
      customers: { outOfDomain: 100 * i, extreme: 0 },
      range: `-1.7976931348623157e+308 .. 1.7976931348623157e+308`,
    })),
  };
  return ResultsSchema.parse(raw);
}

/** Measured in the page (a string: the test's TypeScript has no DOM types). */
const MEASURE = `(() => {
  const shown = (el) => el.getClientRects().length > 0;
  const cardOf = (el) => el.closest('section.card, header.top') ?? document.body;
  const charts = [...document.querySelectorAll('figure svg')].filter(shown).map((svg) => {
    const box = svg.getBoundingClientRect();
    const scale = box.width / svg.viewBox.baseVal.width;
    let smallestPx = Infinity;
    let smallestText = '';
    for (const text of svg.querySelectorAll('text')) {
      const content = (text.textContent || '').trim();
      if (!content) continue;
      const px = parseFloat(getComputedStyle(text).fontSize) * scale;
      if (px < smallestPx) { smallestPx = px; smallestText = content.slice(0, 40); }
    }
    return {
      title: (svg.querySelector(':scope > title')?.textContent || '').trim(),
      label: svg.getAttribute('aria-label') || '',
      width: box.width,
      height: box.height,
      fitsCard: box.right <= cardOf(svg).getBoundingClientRect().right + 0.5 && box.left >= cardOf(svg).getBoundingClientRect().left - 0.5,
      smallestPx,
      smallestText,
    };
  });
  const figures = [...document.querySelectorAll('figure')].filter(shown).map((f) => [...f.querySelectorAll('svg')].filter(shown).length);
  const tables = [...document.querySelectorAll('table')].map((table) => {
    const wrap = table.parentElement;
    const card = cardOf(table).getBoundingClientRect();
    const box = wrap.getBoundingClientRect();
    return {
      wrapped: wrap.classList.contains('table-scroll'),
      overflowX: getComputedStyle(wrap).overflowX,
      insideCard: box.left >= card.left - 0.5 && box.right <= card.right + 0.5,
      scrolls: wrap.scrollWidth > wrap.clientWidth,
    };
  });
  const doc = document.documentElement;
  return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, charts, figures, tables };
})()`;

interface Measured {
  scrollWidth: number;
  clientWidth: number;
  charts: Array<{ title: string; label: string; width: number; height: number; fitsCard: boolean; smallestPx: number; smallestText: string }>;
  figures: number[];
  tables: Array<{ wrapped: boolean; overflowX: string; insideCard: boolean; scrolls: boolean }>;
}

const chromiumPath = findChromium();
if (!chromiumPath) {
  // eslint-disable-next-line no-console
  console.warn(
    'SKIPPED test/report/browser.test.ts: no Chromium found (looked at CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/chromium-browser, /usr/bin/google-chrome). ' +
      'Install Debian\'s package: apt-get install chromium (.ci/run does this).',
  );
}
const describeWithChromium = chromiumPath ? describe : describe.skip;

describeWithChromium(`report.html in headless Chromium (${chromiumPath ?? 'no Chromium installed: skipped'})`, () => {
  let browser: HeadlessChromium;
  let dir: string;
  const screenshots = process.env.REPORT_SCREENSHOTS;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'segments-report-'));
    browser = await launchChromium(chromiumPath!);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Writes the report as report.html and opens it at a width; collects console errors and page errors. */
  async function open(results: Results, name: string, width: number): Promise<{ page: Page; errors: string[] }> {
    const folder = join(dir, name);
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'report.html');
    writeFileSync(file, renderReport(results));
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.setViewportSize({ width, height: 900 });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    return { page, errors };
  }

  for (const [name, build] of [
    ['typical', typicalResults],
    ['wide-data', wideDataResults],
  ] as const) {
    for (const width of WIDTHS) {
      it(`${name} report at ${width} px: no errors, no page overflow, every chart titled and legible, tables scroll in their card`, async () => {
        const { page, errors } = await open(build(), name, width);
        try {
          const measured = (await page.evaluate(MEASURE)) as Measured;
          if (screenshots) {
            mkdirSync(screenshots, { recursive: true });
            await page.screenshot({ path: join(screenshots, `report-${name}-${width}.png`), fullPage: true });
          }

          expect(errors).toEqual([]);
          // No horizontal page overflow.
          expect(measured.scrollWidth).toBeLessThanOrEqual(measured.clientWidth);
          expect(measured.clientWidth).toBe(width);

          // Every chart present once, with its title, drawn with a real size.
          expect(measured.charts.map((c) => c.title)).toEqual(CHART_TITLES);
          expect(measured.charts.map((c) => c.label)).toEqual(CHART_TITLES);
          expect(measured.figures.every((count) => count === 1)).toBe(true);
          for (const chart of measured.charts) {
            expect(chart.width).toBeGreaterThan(200);
            expect(chart.height).toBeGreaterThan(100);
            // Fits its card: a chart needs no sideways scrolling at these widths.
            expect({ title: chart.title, fitsCard: chart.fitsCard }).toEqual({ title: chart.title, fitsCard: true });
          }
          // Legible text: nothing rendered below MIN_TEXT_PX CSS pixels.
          const tooSmall = measured.charts.filter((c) => c.smallestPx < MIN_TEXT_PX - 0.01).map((c) => `${c.title}: "${c.smallestText}" at ${c.smallestPx.toFixed(1)} px`);
          expect(tooSmall).toEqual([]);

          // Tables scroll inside their card rather than widening the page.
          expect(measured.tables.length).toBeGreaterThan(5);
          for (const table of measured.tables) expect(table).toEqual({ wrapped: true, overflowX: 'auto', insideCard: true, scrolls: table.scrolls });
          if (width === 390) expect(measured.tables.some((t) => t.scrolls)).toBe(true);
        } finally {
          await page.close();
        }
      });
    }
  }

  for (const width of WIDTHS) {
    it(`the value checks card at ${width} px: the policy, each column's out-of-domain and extreme counts per file, inside its card`, async () => {
      const { page, errors } = await open(typicalResults(), 'value-checks', width);
      try {
        const card = (await page.evaluate(`(() => {
          const card = document.querySelector('section#value-checks');
          if (!card || card.getClientRects().length === 0) return null;
          const box = card.getBoundingClientRect();
          const wrap = card.querySelector('table').parentElement;
          return {
            title: card.querySelector('h2').textContent,
            intro: card.querySelector('p.sub').textContent,
            rows: [...card.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent.trim())),
            totals: [...card.querySelectorAll('tfoot th')].map((th) => th.textContent.trim()),
            fits: box.right <= document.documentElement.clientWidth + 0.5 && wrap.getBoundingClientRect().right <= box.right + 0.5,
            inToc: !!document.querySelector('nav.toc a[href="#value-checks"]'),
            inFindings: !!document.querySelector('#findings a[href="#value-checks"]'),
          };
        })()`)) as null | { title: string; intro: string; rows: string[][]; totals: string[]; fits: boolean; inToc: boolean; inFindings: boolean };
        expect(errors).toEqual([]);
        expect(card).not.toBeNull();
        expect(card!.title).toBe('Unexpected values');
        expect(card!.intro).toContain('Policy: treated as missing');
        expect(card!.intro).toContain('valueChecks.policy = missing');
        expect(card!.intro).toContain('±1,000,000,000');
        expect(card!.intro).toContain('built-in Arvato domains');
        expect(card!.rows).toEqual(VALUE_CHECKS.columns.map((c) => [c.column, c.domain, String(c.population.outOfDomain.toLocaleString('en-US')), String(c.population.extreme), String(c.customers.outOfDomain), String(c.customers.extreme), c.range]));
        expect(card!.totals).toEqual(['total', '1,292', '3', '19', '0', '']);
        expect(card!.fits).toBe(true);
        expect(card!.inToc).toBe(true);
        expect(card!.inFindings).toBe(true);
      } finally {
        await page.close();
      }
    });
  }

  it('shows month-to-month continuity and personas as a reader sees them: key findings, the continuity table, the clusters table', async () => {
    const results = typicalResults();
    const { page, errors } = await open(results, 'continuity', 1280);
    try {
      const seen = (await page.evaluate(`(() => {
        const text = (el) => (el ? el.innerText : '');
        const findings = [...document.querySelectorAll('ul.findings li')].map(text);
        const section = [...document.querySelectorAll('section')].find((s) => (s.querySelector('h2')?.textContent || '').includes('Compared with the previous run'));
        const rows = section ? [...section.querySelectorAll('tbody tr')].map((tr) => [...tr.cells].map((td) => td.innerText.trim())) : [];
        const summary = [...document.querySelectorAll('section')].find((s) => (s.querySelector('h2')?.textContent || '').includes('All clusters'));
        const headers = summary ? [...summary.querySelectorAll('thead th')].map(text) : [];
        const summaryRows = summary ? [...summary.querySelectorAll('tbody tr')].map((tr) => [...tr.cells].map((td) => td.innerText.trim())) : [];
        return { findings, rows, headers, summaryRows, scripts: document.querySelectorAll('script').length };
      })()`)) as { findings: string[]; rows: string[][]; headers: string[]; summaryRows: string[][]; scripts: number };
      expect(errors).toEqual([]);
      const continuity = results.continuity!;
      const fresh = continuity.segments.find((s) => s.status === 'new')!;
      const freshCluster = results.clusters.find((c) => c.id === fresh.id)!;
      const continued = continuity.segments.filter((s) => s.status === 'continued' && s.id !== -1).length;
      // Key findings: continued / new / gone, each new or gone segment with its persona.
      expect(seen.findings.some((f) => f.startsWith(`Since the previous run (2026-01-01): ${continued} segment(s) continued`))).toBe(true);
      expect(seen.findings.some((f) => f.startsWith(`New segment(s): cluster ${fresh.id} “${freshCluster.persona}”`))).toBe(true);
      expect(seen.findings.some((f) => f.startsWith('Gone: cluster 12 “younger, <script>alert(1)</script>”, which held'))).toBe(true);
      // The hostile persona is text, not markup.
      expect(seen.scripts).toBe(0);
      // The continuity table: one row per segment of this run plus the gone one, each with its status.
      expect(seen.rows).toHaveLength(continuity.segments.length + 1);
      expect(seen.rows.filter((r) => r[2] === 'new').map((r) => r[0])).toEqual([`cluster ${fresh.id}`]);
      expect(seen.rows.find((r) => r[2] === 'gone')).toEqual(['cluster 12', 'younger, <script>alert(1)</script>', 'gone', '0.550', '-3.10 pts', '-1.20 pts', expect.any(String)]);
      // Every cluster of the clusters table names its persona.
      expect(seen.headers.slice(0, 2)).toEqual(['group', 'persona']);
      expect(seen.summaryRows).toHaveLength(results.clusters.length);
      for (const row of seen.summaryRows) expect(row[1].length).toBeGreaterThan(0);
    } finally {
      await page.close();
    }
  });
});
