/**
 * Memory of the bench process (which hosts the in-process worker) and extra `segments worker` processes.
 * Peak RSS: process.memoryUsage().rss sampled every 100 ms, plus the kernel's high-water mark VmHWM
 * (/proc/<pid>/status), reset per repetition through /proc/<pid>/clear_refs where the kernel allows it. The gaps
 * between samples also show when the event loop (shared with the in-process worker) was blocked.
 */
import type { Connection } from '@temporalio/client';
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** VmHWM of a process in bytes (undefined when /proc is not readable, e.g. not Linux or the process is gone). */
export function vmHwmBytes(pid: number | 'self' = 'self'): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS ("5" > clear_refs, Linux ≥ 4.0); false when not allowed. */
export function resetHwm(pid: number | 'self' = 'self'): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** process.memoryUsage().rss sampled every `everyMs` on the event loop (with Date.now() times) until stop(). */
export class RssSampler {
  private readonly samples: [number, number][] = [];
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly everyMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }
  private sample(): void {
    this.samples.push([Date.now(), process.memoryUsage().rss]);
  }
  /** Stops sampling; returns the maximum. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.maxBetween(-Infinity, Infinity) ?? 0;
  }
  /** Largest sample taken between two Date.now() times (undefined when none fell in between). */
  maxBetween(fromMs: number, toMs: number): number | undefined {
    let max: number | undefined;
    for (const [t, rss] of this.samples) if (t >= fromMs && t <= toMs && (max === undefined || rss > max)) max = rss;
    return max;
  }
  /** Longest event-loop stall seen between two times: the largest gap between samples beyond the interval, in ms. */
  maxStallBetween(fromMs: number, toMs: number): number {
    let max = 0;
    for (let i = 1; i < this.samples.length; i++) {
      const t = this.samples[i][0];
      const prev = this.samples[i - 1][0];
      if (t >= fromMs && prev <= toMs) max = Math.max(max, t - prev - this.everyMs);
    }
    return max;
  }
}

export interface ChildWorker {
  pid: number;
  process: ChildProcess;
  /** Stops the worker (SIGINT: graceful) after reading its VmHWM; resolves with that VmHWM. */
  stop(): Promise<number | undefined>;
}

export interface ServerRef {
  connection: Connection;
  address: string;
  namespace: string;
  taskQueue: string;
}

/** Identities of the workers polling the task queue for activities. */
async function activityPollers(server: ServerRef): Promise<string[]> {
  const response = await server.connection.workflowService.describeTaskQueue({
    namespace: server.namespace,
    taskQueue: { name: server.taskQueue },
    taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY
  });
  return (response.pollers ?? []).map((p) => p.identity ?? '');
}

/**
 * Starts `node bin/segments.js worker` against the bench's Temporal server and waits until the server sees a
 * new activity poller (the worker bundles the workflow code first, which takes a few seconds).
 */
export async function startChildWorker(projectRoot: string, server: ServerRef, label: string, slots?: number): Promise<ChildWorker> {
  const { address, namespace } = server;
  const before = new Set(await activityPollers(server));
  const child = spawn(process.execPath, [join(projectRoot, 'bin', 'segments.js'), 'worker'], {
    cwd: projectRoot,
    env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, ...(slots ? { SEGMENTS_WORKER_ACTIVITIES: String(slots) } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) console.error(`[${label} ${child.pid}] ${line}`);
  });
  child.stdout!.resume();
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${label} exited before polling (code ${child.exitCode}, signal ${child.signalCode})`);
    if ((await activityPollers(server)).some((identity) => !before.has(identity))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${label} did not start polling within 120 s`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    pid: child.pid!,
    process: child,
    async stop() {
      const hwm = vmHwmBytes(child.pid!);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timer);
      }
      return hwm;
    },
  };
}

export interface BusyLoops {
  pids: number[];
  /** Kills the loops (by pid) and waits for them to exit. */
  stop(): Promise<void>;
}

/**
 * N processes that each spin one core (a plain `for (;;)` loop), started beside the pipeline to show how it
 * holds up on a machine shared with other CPU-bound work (`--busy N`). Processes, not threads: they do not
 * share the bench's event loop or heap, like an unrelated job on the same machine.
 */
export function startBusyLoops(n: number): BusyLoops {
  const children = Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return {
    pids: children.map((c) => c.pid!),
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}
