/**
 * Entry of the numeric worker threads (started by spawn.ts). Runs the one task given in workerData.task,
 * posts progress / iteration messages, then exactly one 'result' or 'error' message, and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { closeSync, openSync } from 'node:fs';
import { chunkRows, columnSumsRange, CovarianceAccumulator } from '../linalg/covariance';
import { assignNearestRange, kmeans, KMeansCheckpoint, KMeansResult } from '../linalg/kmeans';
import { projectRowsRange } from '../linalg/pca';
import { silhouetteSample } from '../linalg/silhouette';
import { matrixView, WasmArena } from '../wasm/kernel';
import { createThreadedRunner, helperLoop } from './kmeans-threads';
import { RowReader, writeRowsAt } from './matrix-source';
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
      const sums = columnSumsTask(task);
      post({ type: 'result', result: sums }, sums.map((s) => s.buffer as ArrayBuffer));
      return;
    }
    case 'covarianceChunks': {
      const states = covarianceTask(task);
      post({ type: 'result', result: states }, states);
      return;
    }
    case 'project': {
      projectTask(task);
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

/** Column sums of each chunk (pass 1 of the covariance), each from the chunk's own rows. */
function columnSumsTask(task: Extract<Task, { kind: 'columnSums' }>): Float64Array[] {
  const reader = new RowReader(task.data, task.cols);
  try {
    return task.chunks.map((ch) => {
      const [start, end] = chunkRows(task.rows, ch);
      return columnSumsRange(reader.rows(start, end), task.cols, 0, end - start);
    });
  } finally {
    reader.close();
  }
}

/** Co-moment accumulators of each chunk (pass 2), as transferable state; progress after each chunk. */
function covarianceTask(task: Extract<Task, { kind: 'covarianceChunks' }>): ArrayBuffer[] {
  const reader = new RowReader(task.data, task.cols);
  const states: ArrayBuffer[] = [];
  try {
    for (const ch of task.chunks) {
      const [start, end] = chunkRows(task.rows, ch);
      // The chunk's rows from its own row 0: the same blocks, so the same sums, as chunkAccumulator.
      const acc = new CovarianceAccumulator(task.cols, { center: task.center, blockRows: task.blockRows }).addRange(reader.rows(start, end), 0, end - start);
      states.push(acc.toArrayBuffer());
      post({ type: 'progress', rowsDone: acc.n });
    }
  } finally {
    reader.close();
  }
  return states;
}

/** Scores of rows [rowStart, rowEnd), a slab at a time (each score depends on its own row only). */
function projectTask(task: Extract<Task, { kind: 'project' }>): void {
  const step = 16384;
  const { cols, q, out } = task;
  const reader = new RowReader(task.data, cols);
  const toFile = !ArrayBuffer.isView(out);
  const fd = toFile ? openSync(out.path, 'r+') : null;
  const slab = toFile ? (out.dtype === 'float32' ? new Float32Array(step * q) : new Float64Array(step * q)) : null;
  try {
    for (let r0 = task.rowStart; r0 < task.rowEnd; r0 += step) {
      const r1 = Math.min(task.rowEnd, r0 + step);
      const target = slab ? slab.subarray(0, (r1 - r0) * q) : (out as Float32Array | Float64Array).subarray(r0 * q, r1 * q);
      projectRowsRange(reader.rows(r0, r1), cols, task.mean, task.components, q, 0, r1 - r0, target);
      if (fd !== null) writeRowsAt(fd, target, r0, q);
      post({ type: 'progress', rowsDone: r1 - r0 });
    }
  } finally {
    reader.close();
    if (fd !== null) closeSync(fd);
  }
}

if (parentPort) {
  const task = (workerData as { task: Task }).task;
  run(task).catch((e: unknown) => post({ type: 'error', error: serializeError(e) }));
}
