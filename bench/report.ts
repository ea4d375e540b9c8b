/** The bench's printed tables: one size (median of its repetitions) and the scaling summary with a linear fit. */
import type { RunFigures } from './run';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Least squares y = intercept + slope · x, with R². */
export function linearFit(xs: number[], ys: number[]): { slope: number; intercept: number; r2: number } {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx, r2: syy > 0 ? (sxy * sxy) / (sxx * syy) : 1 };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const gib = (bytes: number | null | undefined) => (bytes == null ? '—' : `${(bytes / 2 ** 30).toFixed(2)} GiB`);
const secs = (s: number | null | undefined) => (s == null ? '—' : s.toFixed(1));
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');

export interface SizeSummary {
  populationRows: number;
  customerRows: number;
  runs: RunFigures[];
  totalSeconds: number;
  steps: {
    name: string;
    seconds: number;
    wallSeconds: number | null;
    peakRss: number | null;
    maxStallMs: number | null;
    /** Median of the runs' floors for the step, and the median step time as a multiple of it. */
    floorSeconds: number | null;
    timesFloor: number | null;
    floorBasis: string | null;
  }[];
}

/** Medians over repetitions, step by step and for the total. */
export function summarise(runs: RunFigures[]): SizeSummary {
  const first = runs[0];
  return {
    populationRows: first.populationRows,
    customerRows: first.customerRows,
    runs,
    totalSeconds: median(runs.map((r) => r.totalSeconds)),
    steps: first.steps.map((step, i) => {
      const walls = runs.map((r) => r.steps[i].wallSeconds).filter((w): w is number => w !== null);
      const peaks = runs.map((r) => r.steps[i].peakRss).filter((p): p is number => p !== null);
      const stalls = runs.map((r) => r.steps[i].maxStallMs).filter((p): p is number => p !== null);
      const floors = runs.map((r) => r.steps[i].floorSeconds).filter((f): f is number => f !== null);
      const seconds = median(runs.map((r) => r.steps[i].seconds));
      const floorSeconds = floors.length ? median(floors) : null;
      return {
        name: step.name,
        seconds,
        floorSeconds,
        timesFloor: floorSeconds !== null && floorSeconds > 0 ? seconds / floorSeconds : null,
        floorBasis: first.floors?.steps[step.name]?.basis ?? null,
        wallSeconds: walls.length ? median(walls) : null,
        peakRss: peaks.length ? Math.max(...peaks) : null,
        maxStallMs: stalls.length ? Math.max(...stalls) : null,
      };
    }),
  };
}

export function sizeTable(summary: SizeSummary): string {
  const { runs } = summary;
  const last = runs[runs.length - 1];
  const rows = summary.populationRows + summary.customerRows;
  const lines: string[] = [];
  lines.push(`${int(summary.populationRows)} population + ${int(summary.customerRows)} customer rows — median of ${runs.length} run(s)`);
  for (const [i, r] of runs.entries()) {
    lines.push(`  run ${i + 1}: ${r.totalSeconds.toFixed(1)} s, load average ${load(r.loadAverage.start)} → ${load(r.loadAverage.end)}`);
  }
  lines.push('');
  lines.push(`  ${'step'.padEnd(12)} ${'step s'.padStart(8)} ${'wall s'.padStart(8)} ${'% wall'.padStart(7)} ${'floor s'.padStart(8)} ${'× floor'.padStart(8)} ${'peak RSS'.padStart(10)} ${'stall s'.padStart(8)}  activities`);
  for (const [i, step] of summary.steps.entries()) {
    const share = step.wallSeconds !== null ? `${((100 * step.wallSeconds) / summary.totalSeconds).toFixed(1)}%` : '';
    const activities = last.steps[i].activities;
    const note = step.name === 'sweep' ? `  ${activities} (step s = sum over the k activities)` : activities !== 1 ? `  ${activities}` : '';
    const floor = step.floorSeconds === null ? '—' : step.floorSeconds.toFixed(2);
    const times = step.timesFloor === null ? '—' : `${step.timesFloor.toFixed(1)}×`;
    lines.push(`  ${step.name.padEnd(12)} ${secs(step.seconds).padStart(8)} ${secs(step.wallSeconds).padStart(8)} ${share.padStart(7)} ${floor.padStart(8)} ${times.padStart(8)} ${gib(step.peakRss).padStart(10)} ${(step.maxStallMs === null ? '—' : (step.maxStallMs / 1000).toFixed(2)).padStart(8)}${note}`);
  }
  lines.push(`  ${'total'.padEnd(12)} ${''.padStart(8)} ${secs(summary.totalSeconds).padStart(8)}   (start → result, measured by the bench)`);
  lines.push('  step s: the step\'s own time (progress query); wall s: first activity scheduled → last completed (history);');
  lines.push('  peak RSS, stall s: bench process (in-process worker) while the step ran; stall = longest event-loop block');
  lines.push('  floor s: the least the step\'s work needs, measured on the same data in this run (× floor = step s / floor s):');
  for (const step of summary.steps) if (step.floorBasis) lines.push(`    ${step.name.padEnd(12)} ${step.floorBasis}`);
  const f = last.floors;
  if (f) {
    lines.push(`    kernel: ${f.kernelGflops.toFixed(2)} GFLOP/s; one assignment pass (s) at k ${Object.entries(f.lloydPassSeconds).map(([k, s]) => `${k}:${s.toFixed(3)}`).join(' ')}`);
  }
  lines.push('');
  lines.push(`  throughput   ${int(rows)} rows / ${summary.totalSeconds.toFixed(1)} s = ${int(rows / summary.totalSeconds)} rows/s`);
  const maxOf = (f: (r: RunFigures) => number | null) => Math.max(...runs.map((r) => f(r) ?? 0));
  lines.push(
    `  peak RSS     bench process (in-process worker) ${gib(maxOf((r) => r.memory.vmHwm))} VmHWM, ${gib(maxOf((r) => r.memory.sampledMaxRss))} sampled` +
      (last.memory.hwmReset ? '' : ' (VmHWM not resettable: process lifetime peak)'),
  );
  for (const [i, child] of last.memory.children.entries()) {
    lines.push(`               worker process ${child.pid}: ${gib(Math.max(...runs.map((r) => r.memory.children[i]?.vmHwm ?? 0)))} VmHWM`);
  }
  const loop = last.eventLoopDelayMs;
  lines.push(`  event loop   bench process: delay max ${(loop.max / 1000).toFixed(2)} s, p99 ${loop.p99.toFixed(0)} ms, mean ${loop.mean.toFixed(0)} ms`);
  const workers = Object.entries(last.activitiesByWorker)
    .map(([id, n]) => `${id}: ${n.all} (${n.sweep} sweep)`)
    .join(', ');
  lines.push(`  activities   ${workers}`);
  lines.push(`  sweep per k  ${last.sweep.map((a) => `${a.k}:${a.seconds.toFixed(1)}`).join(' ')} (s, started → completed)`);
  const q = last.quality;
  lines.push('');
  lines.push(`  quality      PCA keeps ${q.keptComponents} components, explained variance ${(100 * q.explainedVariance).toFixed(2)} %`);
  lines.push(`               k = ${q.k}, final SSE ${q.finalSse.toExponential(6)}`);
  const aris = [...new Set(runs.map((r) => r.quality.ari.toFixed(4)))];
  lines.push(`               ARI vs planted segments ${aris.join(' / ')} over ${int(q.ariRows)} clean rows; heavy split matches truth on ${(100 * q.heavyAgreement).toFixed(2)} % of rows`);
  const l = q.lloyd;
  lines.push(
    `  Lloyd check  k = ${l.k}, seed ${l.seed}, same init: ${l.pruned.algorithm} SSE ${l.pruned.sse.toExponential(9)} (${l.pruned.iterations} it, ${l.pruned.seconds.toFixed(1)} s), ` +
      `lloyd to its fixed point SSE ${l.lloyd.sse.toExponential(9)} (${l.lloyd.iterations} it, ${l.lloyd.seconds.toFixed(1)} s)`,
  );
  lines.push(
    `               relative difference ${l.relativeDifference.toExponential(2)} → ${l.withinTolerance ? 'within' : 'NOT within'} 0.1 %; ` +
      `assignments ${l.sameAssignments ? 'identical' : 'differ'}; pipeline final SSE (best of its inits) ${q.finalSse.toExponential(9)}`,
  );
  return lines.join('\n');
}

export interface ScalingFit {
  total: { slope: number; intercept: number; r2: number };
  steps: { name: string; slope: number; intercept: number; r2: number }[];
}

/** Time against total rows (population + customers): per-size cost per row and a least-squares line. */
export function scalingTable(sizes: SizeSummary[]): { text: string; fit: ScalingFit } {
  const xs = sizes.map((s) => s.populationRows + s.customerRows);
  const total = linearFit(xs, sizes.map((s) => s.totalSeconds));
  const steps = sizes[0].steps.map((step, i) => ({
    name: step.name,
    ...linearFit(xs, sizes.map((s) => s.steps[i].wallSeconds ?? s.steps[i].seconds)),
  }));
  const width = 10;
  const header = `  ${'step (wall s)'.padEnd(14)}${sizes.map((s) => int(s.populationRows).padStart(width)).join('')}  ${'µs/row fit'.padStart(10)} ${'R²'.padStart(6)}`;
  const lines = ['scaling: wall time vs rows (population rows on top; fit over population + customer rows)', '', header];
  for (const [i, step] of steps.entries()) {
    const cells = sizes.map((s) => secs(s.steps[i].wallSeconds ?? s.steps[i].seconds).padStart(width)).join('');
    lines.push(`  ${step.name.padEnd(14)}${cells}  ${(step.slope * 1e6).toFixed(2).padStart(10)} ${step.r2.toFixed(3).padStart(6)}`);
  }
  lines.push(`  ${'total'.padEnd(14)}${sizes.map((s) => secs(s.totalSeconds).padStart(width)).join('')}  ${(total.slope * 1e6).toFixed(2).padStart(10)} ${total.r2.toFixed(3).padStart(6)}`);
  lines.push(`  ${'µs per row'.padEnd(14)}${sizes.map((s, i) => ((1e6 * s.totalSeconds) / xs[i]).toFixed(1).padStart(width)).join('')}`);
  lines.push('');
  lines.push(`  total ≈ ${total.intercept.toFixed(1)} s ${total.slope < 0 ? '−' : '+'} ${Math.abs(total.slope * 1e6).toFixed(2)} µs × rows (R² ${total.r2.toFixed(4)}); linear growth shows as a flat µs-per-row line`);
  return { text: lines.join('\n'), fit: { total, steps } };
}

/** Busy / quiet, step by step and in total (medians of the interleaved repetitions). */
export function slowdownTable(quiet: SizeSummary, busy: SizeSummary, loops: number): string {
  const lines = [`slowdown with ${loops} busy loop(s): step s with / without (median of ${quiet.runs.length} interleaved pair(s))`, ''];
  lines.push(`  ${'step'.padEnd(12)} ${'quiet s'.padStart(8)} ${'busy s'.padStart(8)} ${'× quiet'.padStart(8)} ${'× floor'.padStart(8)}`);
  for (const [i, step] of quiet.steps.entries()) {
    const other = busy.steps[i];
    const ratio = step.seconds > 0 ? `${(other.seconds / step.seconds).toFixed(2)}×` : '—';
    const floor = other.timesFloor === null ? '—' : `${other.timesFloor.toFixed(1)}×`;
    lines.push(`  ${step.name.padEnd(12)} ${secs(step.seconds).padStart(8)} ${secs(other.seconds).padStart(8)} ${ratio.padStart(8)} ${floor.padStart(8)}`);
  }
  lines.push(`  ${'total'.padEnd(12)} ${secs(quiet.totalSeconds).padStart(8)} ${secs(busy.totalSeconds).padStart(8)} ${`${(busy.totalSeconds / quiet.totalSeconds).toFixed(2)}×`.padStart(8)}`);
  lines.push('  × floor: the busy run\'s step time over its own floor, measured beside the same busy loops');
  return lines.join('\n');
}
