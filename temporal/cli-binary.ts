/**
 * Locating (and, when missing, building) the Temporal CLI, whose `server start-dev` is the
 * project's embedded Temporal server.
 *
 * Lookup order: env TEMPORAL_CLI_PATH, the project-local `<projectRoot>/.tools/bin/temporal`
 * (the pinned build), then `temporal` on PATH. When none is found and Go is available, it is built
 * with `GOBIN=<projectRoot>/.tools/bin go install github.com/temporalio/cli/cmd/temporal@v1.5.1`
 * (later tags carry a `replace` directive that `go install` refuses). Without Go a
 * {@link TemporalCliUnavailableError} is thrown so callers can fall back to the SDK's own download.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LogSink, toLogger } from './log';
import { findProjectRoot, projectToolsBinDir } from './project-root';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const EXE = process.platform === 'win32' ? '.exe' : '';

/** Base class: anything that goes wrong finding or building the CLI. */
export class TemporalCliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalCliError';
  }
}

/** No CLI found and no Go toolchain to build one: callers may fall back to the SDK's download. */
export class TemporalCliUnavailableError extends TemporalCliError {
  readonly code = 'TEMPORAL_CLI_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'TemporalCliUnavailableError';
  }
}

/** Go was found but `go install` failed. */
export class TemporalCliInstallError extends TemporalCliError {
  readonly code = 'TEMPORAL_CLI_INSTALL_FAILED';
  constructor(
    message: string,
    readonly outputTail: string,
  ) {
    super(message);
    this.name = 'TemporalCliInstallError';
  }
}

export interface TemporalCliOptions {
  log?: LogSink;
  /** Defaults to the nearest ancestor package.json named customer-segments. */
  projectRoot?: string;
  /** Environment to read TEMPORAL_CLI_PATH / PATH / GO* from. Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Build with `go install` when not found (default true). */
  install?: boolean;
  /** The Go binary to build with; default: found by {@link findGo}. null means "no Go here". */
  go?: string | null;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function searchPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name + EXE);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** The project-local install location, `<projectRoot>/.tools/bin/temporal`. */
export function projectLocalTemporalCli(projectRoot: string = findProjectRoot()): string {
  return path.join(projectToolsBinDir(projectRoot), 'temporal' + EXE);
}

/** Finds an existing CLI without building anything. Throws if TEMPORAL_CLI_PATH points at nothing usable. */
export function findTemporalCli(options: Pick<TemporalCliOptions, 'env' | 'projectRoot'> = {}): string | undefined {
  const env = options.env ?? process.env;
  const fromEnv = env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (isExecutableFile(fromEnv)) return path.resolve(fromEnv);
    throw new TemporalCliError(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
  }
  const local = projectLocalTemporalCli(options.projectRoot ?? findProjectRoot());
  if (isExecutableFile(local)) return local;
  return searchPath('temporal', env);
}

/** `go` on PATH, else under GOROOT, else the usual /usr/local/go install. */
export function findGo(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const onPath = searchPath('go', env);
  if (onPath) return onPath;
  const candidates = [env.GOROOT && path.join(env.GOROOT, 'bin', 'go' + EXE), '/usr/local/go/bin/go', '/usr/lib/go/bin/go'];
  return candidates.find((c): c is string => !!c && isExecutableFile(c));
}

/**
 * Finds the CLI; builds it into `<projectRoot>/.tools/bin` with Go when missing.
 * @throws TemporalCliUnavailableError when there is no CLI and no Go (or install: false).
 * @throws TemporalCliInstallError when `go install` fails.
 */
export async function findOrInstallTemporalCli(options: TemporalCliOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const projectRoot = options.projectRoot ?? findProjectRoot();
  const found = findTemporalCli({ env, projectRoot });
  if (found) return found;
  if (options.install === false) {
    throw new TemporalCliUnavailableError('Temporal CLI not found (TEMPORAL_CLI_PATH, .tools/bin/temporal, PATH)');
  }
  const go = options.go === undefined ? findGo(env) : options.go;
  if (!go) {
    throw new TemporalCliUnavailableError(
      'Temporal CLI not found (TEMPORAL_CLI_PATH, .tools/bin/temporal, PATH) and Go is not installed to build it. ' +
        'Install Go (https://go.dev/dl) or the Temporal CLI, or set TEMPORAL_ADDRESS to an existing server.',
    );
  }
  return installTemporalCli({ ...options, env, projectRoot, go });
}

interface InstallOptions extends TemporalCliOptions {
  projectRoot: string;
  env: NodeJS.ProcessEnv;
  go: string;
}

function formatElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Takes `<toolsDir>/temporal-install.lock` (a directory, created atomically) so two processes
 * (say the jest global setup and the CLI) don't build at once. A lock whose owner died is stale.
 * Returns false if someone else holds it and we should wait.
 */
function tryLock(lockDir: string): boolean {
  try {
    mkdirSync(lockDir);
    writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let owner = NaN;
    try {
      owner = Number(readFileSync(path.join(lockDir, 'pid'), 'utf8'));
    } catch {
      /* owner has not written its pid yet, or it is gone */
    }
    const ageMs = (() => {
      try {
        return Date.now() - statSync(lockDir).mtimeMs;
      } catch {
        return 0;
      }
    })();
    if ((Number.isFinite(owner) && !pidAlive(owner)) || (!Number.isFinite(owner) && ageMs > 10_000)) {
      rmSync(lockDir, { recursive: true, force: true });
      return tryLock(lockDir);
    }
    return false;
  }
}

async function installTemporalCli(options: InstallOptions): Promise<string> {
  const log = toLogger(options.log);
  const binDir = projectToolsBinDir(options.projectRoot);
  const target = projectLocalTemporalCli(options.projectRoot);
  mkdirSync(binDir, { recursive: true });
  const lockDir = path.join(options.projectRoot, '.tools', 'temporal-install.lock');
  let announcedWait = false;
  while (!tryLock(lockDir)) {
    if (!announcedWait) {
      log.info('Another process is building the Temporal CLI; waiting for it to finish…');
      announcedWait = true;
    }
    await sleep(2000);
  }
  try {
    if (isExecutableFile(target)) return target; // built by the process we waited for
    return await runGoInstall(options, binDir, target);
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

async function runGoInstall(options: InstallOptions, binDir: string, target: string): Promise<string> {
  const log = toLogger(options.log);
  const pkg = `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`;
  const env: NodeJS.ProcessEnv = { ...options.env, GOBIN: binDir };
  // Go needs a GOPATH and a build cache; both default under $HOME. Keep them inside .tools when
  // there is no HOME (bare CI containers), with a writable module cache so `rm -rf .tools` works.
  if (!env.HOME && !env.GOPATH) {
    env.GOPATH = path.join(options.projectRoot, '.tools', 'go');
    env.GOFLAGS = [env.GOFLAGS, '-modcacherw'].filter(Boolean).join(' ');
  }
  if (!env.HOME && !env.GOCACHE && !env.XDG_CACHE_HOME) env.GOCACHE = path.join(options.projectRoot, '.tools', 'go-build');

  log.info(
    `Temporal CLI not found: building it with Go (${pkg}) into ${binDir}. ` +
      'This takes a few minutes the first time (about 5 min on 2 cores); later runs reuse it.',
  );
  const started = Date.now();
  const tail: string[] = [];
  const child = spawn(options.go, ['install', pkg], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
      log.info(`  ${line}`);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const heartbeat = setInterval(
    () => log.info(`  …still building the Temporal CLI (${formatElapsed(Date.now() - started)} elapsed)`),
    30_000,
  );
  heartbeat.unref();
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    });
    if (code !== 0) {
      throw new TemporalCliInstallError(
        `go install ${pkg} failed (exit code ${code}):\n${tail.join('\n')}`,
        tail.join('\n'),
      );
    }
  } finally {
    clearInterval(heartbeat);
  }
  if (!isExecutableFile(target) && !existsSync(target)) {
    throw new TemporalCliInstallError(`go install ${pkg} succeeded but ${target} is missing`, tail.join('\n'));
  }
  log.info(`Temporal CLI built in ${formatElapsed(Date.now() - started)}: ${target}`);
  return target;
}
