/**
 * What this process may use of the machine, for every default that sizes itself from it: worker threads,
 * concurrent activities, DuckDB's threads and memory limit. Node sees CPU affinity (os.availableParallelism)
 * and the machine's memory (os.totalmem), but not a cgroup's limits (`docker run --cpus/--memory`, compose
 * `cpus:`/`mem_limit:`, k8s limits), so those are read here too. On a shared machine more threads than cores
 * only add context switches (each thread's slice shrinks while the work stays the same), so no default exceeds
 * the cores.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The cgroup CPU quota in cores (2.5 = 250 ms per 100 ms), undefined when unlimited or not in a cgroup. */
export function cgroupCpuQuota(): number | undefined {
  // cgroup v2: "<quota> <period>" or "max <period>".
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2) {
    const [quota, period] = v2.split(/\s+/);
    const q = Number(quota);
    const p = Number(period);
    return quota !== 'max' && q > 0 && p > 0 ? q / p : undefined;
  }
  // cgroup v1: quota -1 = unlimited.
  const q = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const p = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return q > 0 && p > 0 ? q / p : undefined;
}

/** The cgroup memory limit in bytes, undefined when unlimited or not in a cgroup. */
export function cgroupMemoryLimit(): number | undefined {
  const v2 = read('/sys/fs/cgroup/memory.max');
  if (v2 !== undefined) return v2 === 'max' ? undefined : Number(v2) || undefined;
  const v1 = Number(read('/sys/fs/cgroup/memory/memory.limit_in_bytes'));
  // v1 reports "unlimited" as a huge page-rounded number.
  return v1 > 0 && v1 < 2 ** 60 ? v1 : undefined;
}

/**
 * How many CPUs this process may use: os.availableParallelism() (CPU affinity) capped by a cgroup CPU quota;
 * SEGMENTS_THREADS (a whole number ≥ 1) overrides both.
 */
export function cpuBudget(): number {
  const override = process.env.SEGMENTS_THREADS;
  if (override !== undefined && override !== '') {
    const n = Number(override);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`SEGMENTS_THREADS must be a whole number ≥ 1, got "${override}"`);
    return n;
  }
  const cores = Math.max(1, availableParallelism());
  const quota = cgroupCpuQuota();
  return quota === undefined ? cores : Math.max(1, Math.min(cores, Math.ceil(quota)));
}

/** Memory this process may use: the machine's, capped by a cgroup limit. */
export function memoryBudget(): number {
  const limit = cgroupMemoryLimit();
  return limit === undefined ? totalmem() : Math.min(totalmem(), limit);
}

const MIB = 2 ** 20;

/**
 * DuckDB's settings from the machine: one thread per usable core, and a memory limit of a quarter of the
 * usable memory between 256 MiB and 4 GiB (beyond the limit DuckDB spills to its temp directory). A quarter,
 * because the worker also holds matrices and scores and runs several activities at once. SEGMENTS_DUCKDB_MEMORY
 * (DuckDB's syntax, e.g. `2GB`) overrides the limit.
 */
export function duckDbMachineSettings(): { threads: number; memoryLimit: string } {
  const override = process.env.SEGMENTS_DUCKDB_MEMORY;
  const mib = Math.floor(Math.min(4096, Math.max(256, memoryBudget() / 4 / MIB)));
  return { threads: cpuBudget(), memoryLimit: override && override.trim() ? override.trim() : `${mib}MB` };
}
