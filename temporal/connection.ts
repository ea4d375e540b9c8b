/**
 * One entry point for "give me a Temporal server": the CLI, the worker and the demo call
 * connectToTemporal() and get a client Connection (plus what a Worker needs) whichever way the
 * server was found:
 *
 * 1. env TEMPORAL_ADDRESS set → connect to it (namespace from TEMPORAL_NAMESPACE, default 'default');
 * 2. otherwise, if something already answers as Temporal on 127.0.0.1:7233 (say the embedded server
 *    of another `segments` process) → use it;
 * 3. otherwise find or build the Temporal CLI and start the embedded dev server, whose state
 *    persists in `<projectRoot>/.temporal/dev.db` (if another process holds that database's lock,
 *    its server is used instead);
 * 4. with no CLI and no Go to build it → the SDK's TestWorkflowEnvironment.createLocal(), which
 *    downloads a dev server (needs internet).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_NAMESPACE } from '../common/constants';
import { findOrInstallTemporalCli, TemporalCliOptions, TemporalCliUnavailableError } from './cli-binary';
import {
  DEFAULT_DEV_SERVER_PORT,
  DEFAULT_DEV_SERVER_UI_PORT,
  DEFAULT_STARTUP_TIMEOUT_MS,
  DevServerDatabaseInUseError,
  DevServerHandle,
  DevServerOptions,
  isPortFree,
  startDevServer,
} from './dev-server';
import { LogSink, toLogger } from './log';
import { DEFAULT_RETENTION_DAYS, ensureNamespaceSetup, projectSearchAttributes } from './namespace-setup';
import { defaultDevDbFile, findProjectRoot } from './project-root';

export type TemporalConnectionMode = 'external' | 'existing-dev-server' | 'dev-server' | 'sdk-local';

export interface TemporalConnection {
  /** How the server was found. */
  readonly mode: TemporalConnectionMode;
  /** Client connection (for `new Client({ connection, namespace })`). */
  readonly connection: Connection;
  /** Worker connection, present when requested with `nativeConnection: true` or after getNativeConnection(). */
  readonly nativeConnection: NativeConnection | undefined;
  readonly namespace: string;
  /** host:port of the frontend. */
  readonly address: string;
  /** Web UI link, when known. */
  readonly uiUrl: string | undefined;
  /** The embedded dev server, when this call started it. */
  readonly server: DevServerHandle | undefined;
  /** A NativeConnection (for `Worker.create({ connection })`), created on first call and reused. */
  getNativeConnection(): Promise<NativeConnection>;
  /** Closes the connections, and stops the server if this call started it. Idempotent. */
  close(): Promise<void>;
}

export interface ConnectToTemporalOptions {
  log?: LogSink;
  /** Defaults to process.env (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_CLI_PATH). */
  env?: NodeJS.ProcessEnv;
  /** Also create the Worker's NativeConnection right away. */
  nativeConnection?: boolean;
  /** Options for the embedded dev server (persistent DB under .temporal/, port 7233 by default). */
  devServer?: Omit<DevServerOptions, 'log'>;
  /** Reuse a Temporal server already answering on the dev server's port (default true). */
  reuseRunningServer?: boolean;
  /** Register missing search attributes on an external server (default true; failures are warnings). */
  setupExternalNamespace?: boolean;
  /** How long to keep retrying an external server (default 60 s; Infinity: until it answers). */
  connectTimeoutMs?: number;
  /** Log every failed attempt to reach an external server (a worker waiting for its server says so). */
  logAttempts?: boolean;
  /** Allow the SDK-download fallback when no CLI and no Go (default true). */
  allowSdkDownload?: boolean;
  /** How to find/build the CLI (see cli-binary.ts): `install: false` never builds; `go: null` acts as if Go were absent. */
  cli?: Pick<TemporalCliOptions, 'install' | 'go'>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Connection.connect, retried with backoff until `timeoutMs` has passed. */
export async function connectWithRetry(address: string, timeoutMs: number, onRetry?: (message: string) => void): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  // A patient caller (a worker waiting for its server) backs off further, up to 30 s between attempts.
  const maxDelay = onRetry ? 30_000 : 2000;
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now();
    try {
      return await Connection.connect({ address, connectTimeout: Math.max(500, Math.min(remaining, 5000)) });
    } catch (err) {
      if (Date.now() + delay >= deadline) {
        throw new Error(`Cannot reach Temporal at ${address} within ${Math.round(timeoutMs / 1000)} s: ${(err as Error).message}`);
      }
      onRetry?.(`Temporal at ${address} is not reachable yet (attempt ${attempt}: ${(err as Error).message.split('\n')[0]}); next attempt in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

async function loadNativeConnection(address: string): Promise<NativeConnection> {
  const { NativeConnection } = await import('@temporalio/worker');
  return NativeConnection.connect({ address });
}

interface Parts {
  mode: TemporalConnectionMode;
  connection: Connection;
  namespace: string;
  address: string;
  uiUrl?: string;
  server?: DevServerHandle;
  nativeConnection?: NativeConnection;
  /** Extra cleanup after the connections are closed. */
  teardown?: () => Promise<void>;
  /** The teardown closes `connection` and `nativeConnection` itself. */
  connectionsOwnedByTeardown?: boolean;
}

function makeHandle(parts: Parts): TemporalConnection {
  let native: NativeConnection | undefined = parts.nativeConnection;
  let nativePromise: Promise<NativeConnection> | undefined = native ? Promise.resolve(native) : undefined;
  let closing: Promise<void> | undefined;
  return {
    mode: parts.mode,
    connection: parts.connection,
    get nativeConnection() {
      return native;
    },
    namespace: parts.namespace,
    address: parts.address,
    uiUrl: parts.uiUrl,
    server: parts.server,
    getNativeConnection() {
      nativePromise ??= loadNativeConnection(parts.address).then((n) => (native = n));
      return nativePromise;
    },
    close() {
      closing ??= (async () => {
        const errors: unknown[] = [];
        const attempt = async (fn: () => Promise<unknown>) => {
          try {
            await fn();
          } catch (err) {
            errors.push(err);
          }
        };
        if (!parts.connectionsOwnedByTeardown) {
          if (nativePromise) await attempt(async () => (await nativePromise!).close());
          await attempt(() => parts.connection.close());
        }
        if (parts.teardown) await attempt(parts.teardown);
        if (parts.server) await attempt(() => parts.server!.stop());
        if (errors.length) throw errors[0];
      })();
      return closing;
    },
  };
}

async function finish(parts: Parts, wantNative: boolean): Promise<TemporalConnection> {
  const handle = makeHandle(parts);
  if (wantNative) {
    try {
      await handle.getNativeConnection();
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }
  return handle;
}

/** Finds or starts a Temporal server and connects to it; see the module comment for the order. */
export async function connectToTemporal(options: ConnectToTemporalOptions = {}): Promise<TemporalConnection> {
  const log = toLogger(options.log);
  const env = options.env ?? process.env;
  const wantNative = options.nativeConnection ?? false;

  // 1. An external server.
  if (env.TEMPORAL_ADDRESS) {
    const address = env.TEMPORAL_ADDRESS;
    const namespace = env.TEMPORAL_NAMESPACE || DEFAULT_NAMESPACE;
    const connection = await connectWithRetry(address, options.connectTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS, options.logAttempts ? (m) => log.info(m) : undefined);
    if (options.setupExternalNamespace ?? true) {
      try {
        await ensureNamespaceSetup(connection, { namespace, log: options.log });
      } catch (err) {
        log.warn(`Could not check/register search attributes on ${address} (${namespace}): ${(err as Error).message}`);
      }
    }
    return finish({ mode: 'external', connection, namespace, address }, wantNative);
  }

  const dev = options.devServer ?? {};
  const ip = dev.ip ?? '127.0.0.1';
  const namespace = dev.namespace ?? DEFAULT_NAMESPACE;

  // 2. A Temporal server already on the dev server's fixed port (not for port 0 = "any free port").
  const running = (options.reuseRunningServer ?? true) ? await runningDevServer(dev.port ?? DEFAULT_DEV_SERVER_PORT, ip, namespace, options) : undefined;
  if (running) return finish(running, wantNative);

  // 3. The embedded dev server.
  const projectRoot = dev.projectRoot ?? findProjectRoot();
  let cliPath = dev.cliPath;
  if (!cliPath) {
    try {
      cliPath = await findOrInstallTemporalCli({ ...options.cli, log: options.log, projectRoot, env });
    } catch (err) {
      if (!(err instanceof TemporalCliUnavailableError) || options.allowSdkDownload === false) throw err;
      log.warn(`${err.message}\nFalling back to the Temporal SDK's dev server download (needs internet).`);
      return finish(await startSdkLocal(options, projectRoot), wantNative);
    }
  }
  let server: DevServerHandle;
  try {
    server = await startDevServer({ ...dev, projectRoot, cliPath, log: options.log });
  } catch (err) {
    // Another process (say a second `segments` command started at the same moment) owns the
    // embedded server for this database: use that server rather than fail.
    if (!(err instanceof DevServerDatabaseInUseError) || !err.address || options.reuseRunningServer === false) throw err;
    log.info(`The embedded Temporal server for ${err.dbFilename} is run by another process (pid ${err.serverPid}); using it at ${err.address}`);
    const connection = await connectWithRetry(err.address, options.connectTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS);
    await ensureNamespaceSetup(connection, { namespace, log: options.log }).catch((e: Error) =>
      log.warn(`Could not register search attributes on ${err.address}: ${e.message}`),
    );
    return finish({ mode: 'existing-dev-server', connection, namespace, address: err.address }, wantNative);
  }
  try {
    const connection = await connectWithRetry(server.address, 30_000);
    return await finish(
      { mode: 'dev-server', connection, namespace: server.namespace, address: server.address, uiUrl: server.uiUrl, server },
      wantNative,
    );
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/**
 * 2. The Temporal server that already answers on the dev server's fixed port, if one does (not for port 0 = "any
 * free port"). Something else on the port (or a server not ready): undefined, and startDevServer reports the
 * busy port clearly.
 */
async function runningDevServer(fixedPort: number, ip: string, namespace: string, options: ConnectToTemporalOptions): Promise<Parts | undefined> {
  if (fixedPort === 0 || (await isPortFree(fixedPort, ip))) return undefined;
  const log = toLogger(options.log);
  const address = `${ip}:${fixedPort}`;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 3000 });
    await connection.workflowService.describeNamespace({ namespace });
  } catch {
    await connection?.close().catch(() => undefined);
    return undefined;
  }
  log.info(`Using the Temporal server already running at ${address}`);
  await ensureNamespaceSetup(connection, { namespace, log: options.log }).catch((err: Error) =>
    log.warn(`Could not register search attributes on ${address}: ${err.message}`),
  );
  const uiUrl = fixedPort === DEFAULT_DEV_SERVER_PORT ? `http://${ip}:${DEFAULT_DEV_SERVER_UI_PORT}` : undefined;
  return { mode: 'existing-dev-server', connection, namespace, address, uiUrl };
}

/** 4. Fallback: the SDK downloads and runs the dev server itself. */
async function startSdkLocal(options: ConnectToTemporalOptions, projectRoot: string): Promise<Parts> {
  const log = toLogger(options.log);
  const dev = options.devServer ?? {};
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const namespace = dev.namespace ?? DEFAULT_NAMESPACE;
  const port = dev.port ?? DEFAULT_DEV_SERVER_PORT;
  const uiPort = dev.uiPort ?? (port === DEFAULT_DEV_SERVER_PORT ? DEFAULT_DEV_SERVER_UI_PORT : undefined);
  if (!dev.ephemeral) mkdirSync(path.dirname(dev.dbFilename ?? defaultDevDbFile(projectRoot)), { recursive: true });
  const env: TestWorkflowEnvironment = await TestWorkflowEnvironment.createLocal({
    server: {
      namespace,
      ip: dev.ip ?? '127.0.0.1',
      ...(port !== 0 ? { port } : {}),
      ...(dev.ephemeral ? {} : { dbFilename: dev.dbFilename ?? defaultDevDbFile(projectRoot) }),
      ui: dev.ui ?? true,
      ...(uiPort ? { uiPort } : {}),
      log: { format: 'pretty', level: dev.logLevel ?? 'warn' },
    },
  });
  try {
    await ensureNamespaceSetup(env.connection, {
      namespace,
      retentionDays: dev.retentionDays === null ? undefined : (dev.retentionDays ?? DEFAULT_RETENTION_DAYS),
      searchAttributes: dev.searchAttributes ?? projectSearchAttributes(),
      log: options.log,
    });
  } catch (err) {
    await env.teardown().catch(() => undefined);
    throw err;
  }
  log.info(`Temporal dev server (SDK download) ready at ${env.address}`);
  return {
    mode: 'sdk-local',
    // The environment owns both connections; its teardown closes them and stops the server.
    connection: env.connection,
    nativeConnection: env.nativeConnection,
    namespace,
    address: env.address,
    uiUrl: uiPort ? `http://${dev.ip ?? '127.0.0.1'}:${uiPort}` : undefined,
    teardown: () => env.teardown(),
    connectionsOwnedByTeardown: true,
  };
}
