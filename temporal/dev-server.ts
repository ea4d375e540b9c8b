/**
 * The embedded Temporal server: `temporal server start-dev` as a child process, with a persistent
 * SQLite database under `<projectRoot>/.temporal/`, the project's search attributes registered and
 * a retention long enough to audit a year of monthly runs.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { DEFAULT_NAMESPACE } from '../common/constants';
import { findOrInstallTemporalCli } from './cli-binary';
import { LogSink, toLogger } from './log';
import { DEFAULT_RETENTION_DAYS, ensureNamespaceSetup, SearchAttributeTypeName } from './namespace-setup';
import { defaultDevDbFile, findProjectRoot } from './project-root';

export const DEFAULT_DEV_SERVER_PORT = 7233;
export const DEFAULT_DEV_SERVER_UI_PORT = 8233;
export const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;

/**
 * When set (the jest global setup sets it), every dev server started in this process tree records
 * `<dir>/<pid>` while it runs, so a teardown can stop servers a test leaked. Needed because
 * `process.on('exit')` handlers registered inside jest's test sandbox never run.
 */
export const DEV_SERVER_PID_DIR_ENV = 'CUSTOMER_SEGMENTS_TEMPORAL_PID_DIR';

/**
 * Dynamic config passed to every dev server. Long retention needs no dynamic config (the server
 * only enforces a minimum; 400d was checked against this CLI build), but newly registered search
 * attributes should be usable at once rather than after the frontend's cache refresh.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, unknown> = {
  'system.forceSearchAttributesCacheRefreshOnRead': true,
};

export interface DevServerOptions {
  log?: LogSink;
  /** Path to the Temporal CLI; found or built (see cli-binary.ts) when omitted. */
  cliPath?: string;
  projectRoot?: string;
  /** SQLite file for persistent state. Default `<projectRoot>/.temporal/dev.db` (parent created). */
  dbFilename?: string;
  /** Keep everything in memory: no database file, state lost when the server stops. */
  ephemeral?: boolean;
  /** Interface to bind (frontend and UI). Default 127.0.0.1. */
  ip?: string;
  /** Frontend gRPC port. Default 7233; 0 means any free port. */
  port?: number;
  /** When `port` is busy, use a free one instead of failing. Default false. */
  pickFreePortIfBusy?: boolean;
  /** Web UI port. Default 8233 (port + 1000 when port is not 7233); 0 means any free port. A busy UI port is replaced by a free one. */
  uiPort?: number;
  /** Start the Web UI (default true). */
  ui?: boolean;
  /** Namespace to create and set up. Default 'default'. */
  namespace?: string;
  /** Server log level. Default 'warn'. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
  /** Raise the namespace retention to this many days. Default 400; null leaves it alone. */
  retentionDays?: number | null;
  /** Custom search attributes to register (name → type). Default: the project's (common/constants.ts). */
  searchAttributes?: Record<string, SearchAttributeTypeName>;
  /** Extra dynamic config values, merged over DEV_SERVER_DYNAMIC_CONFIG. */
  dynamicConfig?: Record<string, unknown>;
  /** How long to wait for the server to answer (default 60 s: a cold start can exceed the SDK's 5 s). */
  startupTimeoutMs?: number;
  /** Extra arguments appended to `temporal server start-dev`. */
  extraArgs?: string[];
  /** Kill the server if this Node process exits without calling stop() (default true). */
  stopOnProcessExit?: boolean;
}

export interface DevServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DevServerHandle {
  /** host:port of the frontend, for Connection.connect / NativeConnection.connect. */
  readonly address: string;
  readonly namespace: string;
  /** Web UI link, when the UI is enabled. */
  readonly uiUrl: string | undefined;
  /** Database file, or undefined for an in-memory server. */
  readonly dbFilename: string | undefined;
  readonly pid: number;
  readonly cliPath: string;
  /** Milliseconds from spawn until the namespace was set up. */
  readonly startupMs: number;
  /** Resolves when the server process exits, however that happens. */
  readonly exited: Promise<DevServerExit>;
  /** True once the process has exited. */
  readonly hasExited: boolean;
  /** Last lines the server printed (stdout and stderr). */
  outputTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s); resolves once the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export class DevServerStartError extends Error {
  constructor(
    message: string,
    readonly outputTail: string,
  ) {
    super(outputTail ? `${message}\n--- temporal server output (last lines) ---\n${outputTail}` : message);
    this.name = 'DevServerStartError';
  }
}

/** The database file is held by another live dev server (see `<db>.lock`). */
export class DevServerDatabaseInUseError extends DevServerStartError {
  constructor(
    message: string,
    readonly dbFilename: string,
    readonly address: string | undefined,
    readonly serverPid: number | undefined,
  ) {
    super(message, '');
    this.name = 'DevServerDatabaseInUseError';
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** True if nothing listens on ip:port (we could bind it ourselves). */
export function isPortFree(port: number, ip = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    srv.listen({ port, host: ip, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port the OS considers free right now on ip. */
export function getFreePort(ip = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host: ip, exclusive: true }, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function tcpProbe(port: number, host: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Keeps the last `max` lines of a stream. */
class LineTail {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max = 60) {}
  push(chunk: Buffer): void {
    const text = this.partial + chunk.toString('utf8');
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) if (line.trim()) this.lines.push(line);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }
  toString(): string {
    return [...this.lines, this.partial].filter((l) => l.trim()).join('\n');
  }
}

function formatArgValue(value: unknown): string {
  return JSON.stringify(value);
}

async function resolvePort(
  requested: number | undefined,
  fallback: number,
  ip: string,
  pickFreeIfBusy: boolean,
  what: string,
): Promise<number> {
  const port = requested ?? fallback;
  if (port === 0) return getFreePort(ip);
  if (await isPortFree(port, ip)) return port;
  if (pickFreeIfBusy) return getFreePort(ip);
  throw new DevServerStartError(
    `${what} port ${ip}:${port} is already in use (another Temporal server?). ` +
      `Stop it, set TEMPORAL_ADDRESS=${ip}:${port} to use it, or choose another port.`,
    '',
  );
}

function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** False only when /proc shows that pid is some other program. */
function looksLikeTemporal(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev');
  } catch {
    return true;
  }
}

interface DbLockInfo {
  ownerPid: number;
  serverPid?: number;
  address?: string;
}

/**
 * `<db>.lock`, created exclusively: SQLite's own locking does not reliably stop a second dev
 * server from opening the same file (seen here: sometimes both start), so guard it ourselves.
 * A lock whose server (or, before the server is spawned, whose owner) is gone is stale and taken over.
 */
function acquireDbLock(dbFilename: string): { update(info: Partial<DbLockInfo>): void; release(): void } {
  const lockFile = `${dbFilename}.lock`;
  let info: DbLockInfo = { ownerPid: process.pid };
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lockFile, JSON.stringify(info), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 3) throw err;
      let held: Partial<DbLockInfo> = {};
      try {
        held = JSON.parse(readFileSync(lockFile, 'utf8')) as Partial<DbLockInfo>;
      } catch {
        /* half-written or unreadable: treat as stale */
      }
      // Once the server is spawned its pid decides; before that, the starting process's. (Checking
      // the command line too keeps a pid reused after a reboot from holding the lock forever.)
      const holder = held.serverPid ? pidAlive(held.serverPid) && looksLikeTemporal(held.serverPid) : pidAlive(held.ownerPid);
      if (holder) {
        throw new DevServerDatabaseInUseError(
          `The Temporal database ${dbFilename} is in use by another Temporal dev server` +
            (held.address ? ` at ${held.address}` : '') +
            ` (process ${held.serverPid ?? held.ownerPid}). Stop it, or set TEMPORAL_ADDRESS=${held.address ?? '<its address>'} to use it.`,
          dbFilename,
          held.address,
          held.serverPid,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  let released = false;
  return {
    update(more) {
      if (released) return;
      info = { ...info, ...more };
      writeFileSync(lockFile, JSON.stringify(info));
    },
    release() {
      if (released) return;
      released = true;
      rmSync(lockFile, { force: true });
    },
  };
}

/** Starts `temporal server start-dev` and waits until its namespace is ready and set up. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServerHandle> {
  const log = toLogger(options.log);
  const projectRoot = options.projectRoot ?? findProjectRoot();
  const cliPath = options.cliPath ?? (await findOrInstallTemporalCli({ log: options.log, projectRoot }));
  const ip = options.ip ?? '127.0.0.1';
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const { port, uiPort } = await serverPorts(options, ip);
  const dbFilename = options.ephemeral ? undefined : path.resolve(options.dbFilename ?? defaultDevDbFile(projectRoot));
  if (dbFilename) mkdirSync(path.dirname(dbFilename), { recursive: true });
  const dbLock = dbFilename ? acquireDbLock(dbFilename) : undefined;
  const args = startDevArgs(options, { ip, port, uiPort, namespace, dbFilename });
  const address = `${ip}:${port}`;
  const uiUrl = uiPort !== undefined ? `http://${ip}:${uiPort}` : undefined;
  const started = Date.now();
  // --disable-config-env/file: keep the user's TEMPORAL_* settings and profiles from steering the server.
  // (spawn reports a missing or non-executable binary through the 'error' event below.)
  const child = spawn(cliPath, [...args, '--disable-config-env', '--disable-config-file'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TEMPORAL_ADDRESS: undefined, TEMPORAL_NAMESPACE: undefined },
  });
  if (child.pid) dbLock?.update({ serverPid: child.pid, address });
  const pidFile = registerServerPid(child.pid, address, dbFilename);
  const tail = new LineTail();
  child.stdout!.on('data', (c: Buffer) => tail.push(c));
  child.stderr!.on('data', (c: Buffer) => tail.push(c));
  const { exited, exit, spawnFailure, stop, stopping } = superviseServer(child, { dbLock, pidFile, stopOnProcessExit: options.stopOnProcessExit ?? true });

  log.info(
    `Starting Temporal dev server on ${address} (${dbFilename ? `database ${dbFilename}` : 'in-memory'})…`,
  );
  try {
    await waitUntilReady({
      child,
      exited,
      getExit: exit,
      getSpawnError: spawnFailure,
      ip,
      port,
      namespace,
      timeoutMs: options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS,
      tail,
      retentionDays: options.retentionDays === null ? undefined : (options.retentionDays ?? DEFAULT_RETENTION_DAYS),
      searchAttributes: options.searchAttributes,
      log: options.log,
      dbFilename,
    });
  } catch (err) {
    await stop(3000);
    throw err;
  }
  const startupMs = Date.now() - started;

  void exited.then((ended) => {
    if (!stopping()) {
      log.warn(
        `Temporal dev server (pid ${child.pid}) exited unexpectedly (code ${ended.code}, signal ${ended.signal}).\n${tail.toString()}`,
      );
    }
  });

  log.info(`Temporal dev server ready at ${address} in ${(startupMs / 1000).toFixed(1)} s` + (uiUrl ? ` — Web UI: ${uiUrl}` : ''));
  return {
    address,
    namespace,
    uiUrl,
    dbFilename,
    pid: child.pid!,
    cliPath,
    startupMs,
    exited,
    get hasExited() {
      return exit() !== undefined;
    },
    outputTail: () => tail.toString(),
    stop,
  };
}

/** With DEV_SERVER_PID_DIR_ENV set (the tests), a file per server pid so a teardown can find strays; best effort. */
function registerServerPid(pid: number | undefined, address: string, dbFilename: string | undefined): string | undefined {
  const pidDir = process.env[DEV_SERVER_PID_DIR_ENV];
  const pidFile = pidDir && pid ? path.join(pidDir, String(pid)) : undefined;
  if (pidFile) {
    try {
      writeFileSync(pidFile, JSON.stringify({ address, dbFilename }));
    } catch {
      /* the registry is best effort */
    }
  }
  return pidFile;
}

/** The frontend port, and the UI port unless the server runs headless (options.ui false). */
async function serverPorts(options: DevServerOptions, ip: string): Promise<{ port: number; uiPort: number | undefined }> {
  const port = await resolvePort(options.port, DEFAULT_DEV_SERVER_PORT, ip, options.pickFreePortIfBusy ?? false, 'Temporal');
  if (!(options.ui ?? true)) return { port, uiPort: undefined };
  const defaultUi = port === DEFAULT_DEV_SERVER_PORT ? DEFAULT_DEV_SERVER_UI_PORT : port + 1000;
  return { port, uiPort: await resolvePort(options.uiPort, defaultUi > 65535 ? 0 : defaultUi, ip, true, 'Temporal UI') };
}

/** The arguments of `temporal server start-dev` (headless without a UI port). */
function startDevArgs(
  options: DevServerOptions,
  at: { ip: string; port: number; uiPort: number | undefined; namespace: string; dbFilename: string | undefined },
): string[] {
  const args = ['server', 'start-dev', '--ip', at.ip, '--port', String(at.port), '--log-level', options.logLevel ?? 'warn'];
  args.push('--namespace', at.namespace);
  if (at.dbFilename) args.push('--db-filename', at.dbFilename);
  if (at.uiPort !== undefined) args.push('--ui-port', String(at.uiPort));
  else args.push('--headless');
  const dynamicConfig = { ...DEV_SERVER_DYNAMIC_CONFIG, ...options.dynamicConfig };
  for (const [key, value] of Object.entries(dynamicConfig)) args.push('--dynamic-config-value', `${key}=${formatArgValue(value)}`);
  args.push(...(options.extraArgs ?? []));
  return args;
}

/**
 * Watches the server process: its exit (releasing the database lock and the pid file), a failed spawn, and a
 * stop (SIGTERM, then SIGKILL after the grace time); with stopOnProcessExit, this process's exit stops it too.
 */
function superviseServer(
  child: ChildProcess,
  { dbLock, pidFile, stopOnProcessExit: stopOnExit }: { dbLock: { release(): void } | undefined; pidFile: string | undefined; stopOnProcessExit: boolean },
) {
  let exitInfo: DevServerExit | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<DevServerExit>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      // A failed spawn never emits 'exit'.
      if (child.pid === undefined) {
        exitInfo = { code: null, signal: null };
        dbLock?.release();
        resolve(exitInfo);
      }
    });
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      dbLock?.release();
      if (pidFile) rmSync(pidFile, { force: true });
      resolve(exitInfo);
    });
  });

  const onProcessExit = () => {
    if (!exitInfo) child.kill('SIGTERM');
    dbLock?.release();
  };
  if (stopOnExit) process.on('exit', onProcessExit);
  void exited.then(() => process.removeListener('exit', onProcessExit));

  let stopping = false;
  let stopPromise: Promise<void> | undefined;
  const stop = (graceMs = 10_000): Promise<void> => {
    stopPromise ??= (async () => {
      stopping = true;
      if (exitInfo) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exitInfo) child.kill('SIGKILL');
      }, graceMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    })();
    return stopPromise;
  };
  return { exited, exit: () => exitInfo, spawnFailure: () => spawnError, stop, stopping: () => stopping };
}

interface ReadyOptions {
  child: ChildProcess;
  exited: Promise<DevServerExit>;
  getExit: () => DevServerExit | undefined;
  getSpawnError: () => Error | undefined;
  ip: string;
  port: number;
  namespace: string;
  timeoutMs: number;
  tail: LineTail;
  retentionDays: number | undefined;
  searchAttributes: Record<string, SearchAttributeTypeName> | undefined;
  log: LogSink | undefined;
  dbFilename: string | undefined;
}

class ChildExitedError extends Error {}

/**
 * Polls the port (TCP, then gRPC) with backoff until the server answers, the child dies, or the
 * deadline passes; then sets up the namespace. Races everything against the child's exit.
 */
async function waitUntilReady(o: ReadyOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  const deathWatch = o.exited.then(() => {
    throw new ChildExitedError();
  });
  deathWatch.catch(() => undefined);
  const raceDeath = <T>(p: Promise<T>): Promise<T> => Promise.race([p, deathWatch]);

  const describeExit = (): string => {
    const spawnErr = o.getSpawnError();
    if (spawnErr) return `could not be started: ${spawnErr.message}`;
    const exit = o.getExit();
    const hint = /database is locked|SQLITE_BUSY/i.test(o.tail.toString())
      ? ` — the database ${o.dbFilename} is in use by another Temporal server; stop it or set TEMPORAL_ADDRESS to connect to it`
      : '';
    return `exited during startup (code ${exit?.code}, signal ${exit?.signal})${hint}`;
  };

  let connection: Connection | undefined;
  try {
    let delay = 50;
    // 1. Wait for the frontend port to accept TCP connections.
    for (;;) {
      if (o.getExit() || o.getSpawnError()) throw new ChildExitedError();
      if (await raceDeath(tcpProbe(o.port, o.ip, 1000))) break;
      if (Date.now() >= deadline) throw new DevServerStartError(`Temporal dev server did not open ${o.ip}:${o.port} within ${o.timeoutMs / 1000} s`, o.tail.toString());
      await raceDeath(sleep(delay));
      delay = Math.min(delay * 2, 1000);
    }
    // 2. gRPC: connect and wait for the namespace to answer.
    delay = 100;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new DevServerStartError(`Temporal dev server at ${o.ip}:${o.port} did not become ready within ${o.timeoutMs / 1000} s`, o.tail.toString());
      }
      try {
        connection ??= await raceDeath(Connection.connect({ address: `${o.ip}:${o.port}`, connectTimeout: Math.min(remaining, 5000) }));
        await raceDeath(connection.workflowService.describeNamespace({ namespace: o.namespace }));
        break;
      } catch (err) {
        if (err instanceof ChildExitedError) throw err;
        await raceDeath(sleep(Math.min(delay, Math.max(0, deadline - Date.now()))));
        delay = Math.min(delay * 2, 2000);
      }
    }
    // 3. Retention and search attributes (the flags are ignored once the DB exists, so do it here).
    await raceDeath(
      ensureNamespaceSetup(connection, {
        namespace: o.namespace,
        retentionDays: o.retentionDays,
        searchAttributes: o.searchAttributes,
        log: o.log,
      }),
    );
  } catch (err) {
    if (err instanceof ChildExitedError) {
      throw new DevServerStartError(`Temporal dev server ${describeExit()}`, o.tail.toString());
    }
    if (err instanceof DevServerStartError) throw err;
    throw new DevServerStartError(`Temporal dev server setup failed: ${(err as Error).message}`, o.tail.toString());
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
