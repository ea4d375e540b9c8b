/**
 * Spreading the chunks of each k-means step over helper threads, inside a thread that may block (a worker):
 * the helpers share every buffer (SharedArrayBuffer), claim chunks from a shared counter and accumulate into
 * their own slot. Because the cluster sums are exact fixed point and the final SSE is summed per chunk in
 * chunk order, the result is bit-identical to the single-thread run, whatever the timing.
 *
 * Control words (Int32Array over a SharedArrayBuffer):
 *   GEN   bumped by the driver to start a step (helpers Atomics.wait on it);
 *   CLAIM (generation mod 2^15) << 16 | next chunk; chunks are claimed by compare-and-swap, and only while the
 *         generation part matches the step the claimer woke up for, so a late helper can never take a chunk
 *         of the following step with stale buffers;
 *   DONE  chunks finished in this step (the driver waits until DONE = chunks);
 *   STOP  1 = helpers exit;  ERROR 1 = a helper threw (the driver rethrows).
 * A helper that has not started yet simply claims nothing: the driver does all the work meanwhile, so a slow
 * start (e.g. compiling TypeScript under jest) never blocks. When the driver moves to new buffers (the next
 * run of kmeansBestOf), it posts them on each helper's MessagePort before starting the step; helpers pick
 * them up synchronously with receiveMessageOnPort when they wake.
 */
import { MessageChannel, MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { ChunkRunner, KMeansBuffers, KMeansDriverHooks, processChunk } from '../linalg/kmeans';
import { sharedInt32 } from './shared';
import { spawnWorker } from './spawn';

export const C_GEN = 0, C_CLAIM = 1, C_DONE = 2, C_STOP = 3, C_ERROR = 4, C_LENGTH = 5;

/** Claims the next chunk of step `gen`, or returns −1 when none is left (or the step is over). */
function claim(control: Int32Array, gen: number, chunks: number): number {
  const tag = (gen & 0x7fff) << 16;
  for (;;) {
    const w = Atomics.load(control, C_CLAIM);
    if ((w & 0x7fff0000) !== tag) return -1;
    const next = w & 0xffff;
    if (next >= chunks) return -1;
    if (Atomics.compareExchange(control, C_CLAIM, w, w + 1) === w) return next;
  }
}

/** Loop of a helper thread (runs until STOP). Blocks its thread: call only inside a worker. */
export function helperLoop(port: MessagePort, control: Int32Array, slot: number, onError: (e: unknown) => void): void {
  let seen = 0;
  let b: KMeansBuffers | null = null;
  for (;;) {
    Atomics.wait(control, C_GEN, seen);
    if (Atomics.load(control, C_STOP) === 1) return;
    seen = Atomics.load(control, C_GEN);
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) b = (m.message as { buffers: KMeansBuffers }).buffers;
    if (!b) continue;
    for (;;) {
      const c = claim(control, seen, b.chunks);
      if (c < 0) break;
      try {
        processChunk(b, c, slot);
      } catch (e) {
        Atomics.store(control, C_ERROR, 1);
        onError(e);
      }
      Atomics.add(control, C_DONE, 1);
      Atomics.notify(control, C_DONE);
    }
  }
}

export interface ThreadedRunner {
  hooks: KMeansDriverHooks;
  close(): Promise<void>;
}

/** Hooks for kmeans() that use `threads` threads in total (this one plus threads − 1 helpers). */
export function createThreadedRunner(threads: number): ThreadedRunner {
  const helpers = Math.max(0, Math.floor(threads) - 1);
  const control = sharedInt32(C_LENGTH);
  const workers: Worker[] = [];
  const ports: MessagePort[] = [];
  let current: KMeansBuffers | null = null;

  const runChunks: ChunkRunner = (b) => {
    if (workers.length === 0) {
      for (let h = 0; h < helpers; h++) {
        const { port1, port2 } = new MessageChannel();
        const w = spawnWorker({ task: { kind: 'kmeansHelper', port: port2, control, slot: h + 1 } }, [port2]);
        w.on('error', () => Atomics.store(control, C_ERROR, 1));
        workers.push(w);
        ports.push(port1);
      }
    }
    if (b !== current) {
      current = b;
      for (const p of ports) p.postMessage({ buffers: b });
    }
    if (b.chunks > 0xffff) throw new RangeError('too many chunks for the threaded runner');
    const gen = Atomics.load(control, C_GEN) + 1;
    Atomics.store(control, C_DONE, 0);
    Atomics.store(control, C_CLAIM, (gen & 0x7fff) << 16);
    Atomics.store(control, C_GEN, gen);
    Atomics.notify(control, C_GEN);
    for (;;) {
      const c = claim(control, gen, b.chunks);
      if (c < 0) break;
      processChunk(b, c, 0);
      Atomics.add(control, C_DONE, 1);
    }
    for (;;) {
      const done = Atomics.load(control, C_DONE);
      if (done >= b.chunks) break;
      Atomics.wait(control, C_DONE, done, 1000);
    }
    if (Atomics.load(control, C_ERROR) === 1) throw new Error('k-means helper thread failed');
  };

  return {
    hooks: { slots: helpers + 1, runChunks },
    async close() {
      for (const p of ports) p.close();
      Atomics.store(control, C_STOP, 1);
      Atomics.add(control, C_GEN, 1);
      Atomics.notify(control, C_GEN);
      await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        setTimeout(() => { void w.terminate().then(() => resolve()); }, 5000).unref();
      })));
    },
  };
}
