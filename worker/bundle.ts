/**
 * The workflow bundle, built ahead of time for production.
 *
 * A Worker normally runs webpack over `workflows/` when it starts (seconds of CPU and a few hundred MB
 * of memory on every start of every replica). In production the bundle is built once, at image build
 * time, and every worker loads the same file (`WORKFLOW_BUNDLE`, see worker/run-worker.ts):
 *
 *   node dist/worker/bundle.js [OUT]     # default OUT: <project root>/dist/workflow-bundle.js
 *
 * The bundle must come from the same workflow code and the same @temporalio/* versions as the worker
 * that loads it; the Dockerfile builds both in one image, which guarantees that.
 */
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findProjectRoot } from '../temporal/project-root';
import { WORKFLOWS_PATH } from './create-worker';

export interface BuildWorkflowBundleOptions {
  /** Module exporting the workflows; default the project's `workflows/` (WORKFLOWS_PATH). */
  workflowsPath?: string;
}

export interface WorkflowBundleFile {
  path: string;
  bytes: number;
  seconds: number;
}

/** Where `node dist/worker/bundle.js` writes by default: `<project root>/dist/workflow-bundle.js`. */
export function defaultWorkflowBundlePath(): string {
  return path.join(findProjectRoot(), 'dist', 'workflow-bundle.js');
}

/**
 * Bundles the workflow code (webpack, as the Worker would at start) and writes it to `outFile`.
 * The file appears complete or not at all: it is written next to its final name and renamed.
 */
export async function buildWorkflowBundle(outFile: string, options: BuildWorkflowBundleOptions = {}): Promise<WorkflowBundleFile> {
  const started = Date.now();
  const target = path.resolve(outFile);
  const { code } = await bundleWorkflowCode({
    workflowsPath: options.workflowsPath ?? WORKFLOWS_PATH,
    // webpack's progress lines are noise here; errors still throw.
    logger: new DefaultLogger('WARN'),
  });
  await mkdir(path.dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, code);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return { path: target, bytes: Buffer.byteLength(code), seconds: (Date.now() - started) / 1000 };
}

if (require.main === module) {
  const out = process.argv[2] ?? defaultWorkflowBundlePath();
  buildWorkflowBundle(out)
    .then((file) => {
      console.log(`workflow bundle: ${file.path} (${(file.bytes / 1024).toFixed(0)} KiB, ${file.seconds.toFixed(1)} s)`);
      // The native runtime loaded by @temporalio/worker keeps the event loop alive.
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(`cannot build the workflow bundle: ${(error as Error).stack ?? String(error)}`);
      process.exit(1);
    });
}
