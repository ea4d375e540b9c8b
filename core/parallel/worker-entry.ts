/**
 * Entry of the numeric worker threads (started by spawn.ts). Runs the one task given in workerData.task,
 * posts progress / iteration messages, then exactly one 'result' or 'error' message, and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { chunkAccumulator, chunkColumnSums } from '../linalg/covariance';
import { assignNearestRange, kmeans, KMeansCheckpoint, KMeansResult } from '../linalg/kmeans';
import { projectRowsRange } from '../linalg/pca';
import { silhouetteSample } from '../linalg/silhouette';
import { matrixView, WasmArena } from '../wasm/kernel';
import { createThreadedRunner, helperLoop } from './kmeans-threads';
import { serializeError, Task, WorkerMessage } from './protocol';

function post(msg: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(msg, transfer);
}

function isTransferable(buf: ArrayBufferLike): buf is ArrayBuffer {
  return buf instanceof ArrayBuffer;
}

async function run(task: Task): Promise<void> {
  switch (task.kind) {
    case 'selfTest': {
      post({ type: 'result', result: { ok: true, entry: __filename } });
      return;
    }
    case 'columnSums': {
      const sums = task.chunks.map((ch) => chunkColumnSums(task.data, task.rows, task.cols, ch));
      post({ type: 'result', result: sums }, sums.map((s) => s.buffer as ArrayBuffer));
      return;
    }
    case 'covarianceChunks': {
      const states: ArrayBuffer[] = [];
      for (const ch of task.chunks) {
        const acc = chunkAccumulator(task.data, task.rows, task.cols, ch, task.center, task.blockRows);
        states.push(acc.toArrayBuffer());
        post({ type: 'progress', rowsDone: acc.n });
      }
      post({ type: 'result', result: states }, states);
      return;
    }
    case 'project': {
      const step = 16384;
      for (let r0 = task.rowStart; r0 < task.rowEnd; r0 += step) {
        const r1 = Math.min(task.rowEnd, r0 + step);
        projectRowsRange(task.data, task.cols, task.mean, task.components, task.q, r0, r1, task.out);
        post({ type: 'progress', rowsDone: r1 - r0 });
      }
      post({ type: 'result', result: null });
      return;
    }
    case 'assignNearest': {
      const step = 16384;
      for (let r0 = task.rowStart; r0 < task.rowEnd; r0 += step) {
        const r1 = Math.min(task.rowEnd, r0 + step);
        assignNearestRange(task.data, task.dims, task.centroids, task.k, r0, r1, task.assignments, task.distances);
        post({ type: 'progress', rowsDone: r1 - r0 });
      }
      post({ type: 'result', result: null });
      return;
    }
    case 'kmeans': {
      const runner = task.threads > 1 ? createThreadedRunner(task.threads) : null;
      let result: KMeansResult;
      try {
        const opts = { ...task.opts, onIteration: (state: KMeansCheckpoint) => post({ type: 'iteration', state }) };
        const wasm = task.matrix ? { arena: new WasmArena(task.matrix.memory), matrix: task.matrix } : undefined;
        const data = task.matrix ? matrixView(task.matrix) : task.data!;
        const hooks = { ...runner?.hooks, wasm };
        result = kmeans(data, task.rows, task.dims, opts, hooks);
      } finally {
        await runner?.close();
      }
      const transfer = [result.assignments.buffer, result.centroids.buffer, result.counts.buffer].filter(isTransferable);
      post({ type: 'result', result }, transfer);
      return;
    }
    case 'silhouette': {
      const result = silhouetteSample(task.data, task.rows, task.dims, task.labels, task.k, task.opts);
      post({ type: 'result', result });
      return;
    }
    case 'kmeansHelper': {
      helperLoop(task.port, task.control, task.slot, (e) => {
        console.error('k-means helper thread error:', e);
      });
      return;
    }
  }
}

if (parentPort) {
  const task = (workerData as { task: Task }).task;
  run(task).catch((e: unknown) => post({ type: 'error', error: serializeError(e) }));
}
