/**
 * The Temporal server module: CLI lookup/build, the dev server's lifecycle (persistent DB, search
 * attributes, retention, failures), connectToTemporal's modes, and the jest global server.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../common/constants';
import {
  findOrInstallTemporalCli,
  findTemporalCli,
  projectLocalTemporalCli,
  TEMPORAL_CLI_MODULE,
  TEMPORAL_CLI_VERSION,
  TemporalCliError,
  TemporalCliInstallError,
  TemporalCliUnavailableError,
} from '../temporal/cli-binary';
import { connectToTemporal } from '../temporal/connection';
import { DevServerStartError, getFreePort, isPortFree, startDevServer } from '../temporal/dev-server';
import { getRetentionDays, listCustomSearchAttributes, projectSearchAttributes } from '../temporal/namespace-setup';
import { findProjectRoot } from '../temporal/project-root';
import { echo, kKey, stageKey } from './fixtures/echo-workflow';

const projectRoot = path.resolve(__dirname, '..');
const tempDirs: string[] = [];
function tempDir(prefix = 'cs-temporal-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A directory that looks like the project root (package.json named customer-segments). */
function fakeProjectRoot(): string {
  const dir = tempDir('cs-fake-root-');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'customer-segments' }));
  return dir;
}

function writeScript(file: string, body: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const expectedAttributes = Object.fromEntries(Object.values(SEARCH_ATTRIBUTES).map((a) => [a.name, a.type]));
const noLog = () => undefined;

describe('project root and Temporal CLI lookup', () => {
  test('findProjectRoot resolves from the sources and from dist/', () => {
    expect(findProjectRoot(path.join(projectRoot, 'temporal'))).toBe(projectRoot);
    expect(findProjectRoot(path.join(projectRoot, 'dist', 'temporal'))).toBe(projectRoot);
    expect(findProjectRoot()).toBe(projectRoot);
  });

  test('TEMPORAL_CLI_PATH wins, and a bad one is an error rather than a silent fallback', () => {
    const root = fakeProjectRoot();
    const fake = writeScript(path.join(tempDir(), 'my-temporal'), 'exit 0');
    writeScript(projectLocalTemporalCli(root), 'exit 0');
    expect(findTemporalCli({ projectRoot: root, env: { TEMPORAL_CLI_PATH: fake, PATH: '' } })).toBe(fake);
    expect(() => findTemporalCli({ projectRoot: root, env: { TEMPORAL_CLI_PATH: '/nonexistent/temporal' } })).toThrow(
      TemporalCliError,
    );
  });

  test('project-local .tools/bin/temporal comes before PATH; PATH is used when it is missing', () => {
    const root = fakeProjectRoot();
    const binDir = tempDir();
    const onPath = writeScript(path.join(binDir, 'temporal'), 'exit 0');
    expect(findTemporalCli({ projectRoot: root, env: { PATH: '' } })).toBeUndefined();
    expect(findTemporalCli({ projectRoot: root, env: { PATH: binDir } })).toBe(onPath);
    const local = writeScript(projectLocalTemporalCli(root), 'exit 0');
    expect(local).toBe(path.join(root, '.tools', 'bin', 'temporal'));
    expect(findTemporalCli({ projectRoot: root, env: { PATH: binDir } })).toBe(local);
  });

  test('without a CLI and without Go: a typed error the caller can fall back on', async () => {
    const root = fakeProjectRoot();
    const err = await findOrInstallTemporalCli({ projectRoot: root, env: { PATH: '' }, go: null }).catch((e) => e);
    expect(err).toBeInstanceOf(TemporalCliUnavailableError);
    expect((err as TemporalCliUnavailableError).code).toBe('TEMPORAL_CLI_UNAVAILABLE');
  });

  test('builds with GOBIN=<root>/.tools/bin go install <module>@v1.5.1 and streams progress', async () => {
    const root = fakeProjectRoot();
    const argsFile = path.join(root, 'go-args');
    const fakeGo = writeScript(
      path.join(tempDir(), 'go'),
      [
        `echo "$@" > '${argsFile}'`,
        'echo "go: downloading github.com/temporalio/cli v1.5.1" >&2',
        `printf '#!/bin/sh\\necho fake temporal\\n' > "$GOBIN/temporal"`,
        '/bin/chmod +x "$GOBIN/temporal"',
      ].join('\n'),
    );
    const lines: string[] = [];
    const cli = await findOrInstallTemporalCli({ projectRoot: root, env: { PATH: '', HOME: root }, go: fakeGo, log: (m) => lines.push(m) });
    expect(cli).toBe(path.join(root, '.tools', 'bin', 'temporal'));
    expect(readFileSync(argsFile, 'utf8').trim()).toBe(`install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`);
    expect(lines.join('\n')).toMatch(/few minutes the first time/);
    expect(lines.join('\n')).toMatch(/go: downloading github.com\/temporalio\/cli/);
    expect(existsSync(path.join(root, '.tools', 'temporal-install.lock'))).toBe(false);
    // Found, not rebuilt, the second time.
    rmSync(argsFile);
    expect(await findOrInstallTemporalCli({ projectRoot: root, env: { PATH: '' }, go: fakeGo })).toBe(cli);
    expect(existsSync(argsFile)).toBe(false);
  });

  test('a failing go install is a TemporalCliInstallError carrying the output', async () => {
    const root = fakeProjectRoot();
    const fakeGo = writeScript(path.join(tempDir(), 'go'), 'echo "go: module lookup disabled" >&2; exit 1');
    const err = await findOrInstallTemporalCli({ projectRoot: root, env: { PATH: '', HOME: root }, go: fakeGo }).catch((e) => e);
    expect(err).toBeInstanceOf(TemporalCliInstallError);
    expect((err as Error).message).toMatch(/module lookup disabled/);
  });
});

describe('startDevServer failure handling (fake CLI)', () => {
  test('a server that dies during startup fails fast with its stderr', async () => {
    const fake = writeScript(path.join(tempDir(), 'temporal'), 'echo "Error: boom, unknown flag" >&2; exit 3');
    const started = Date.now();
    const err = await startDevServer({ cliPath: fake, port: 0, ui: false, ephemeral: true }).catch((e) => e);
    expect(err).toBeInstanceOf(DevServerStartError);
    expect((err as Error).message).toMatch(/exited during startup \(code 3/);
    expect((err as Error).message).toMatch(/boom, unknown flag/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('a server that never answers times out with a clear message, and is killed', async () => {
    const dir = tempDir();
    const pidFile = path.join(dir, 'pid');
    const fake = writeScript(path.join(dir, 'temporal'), `echo $$ > '${pidFile}'; echo "warming up" >&2; exec sleep 60`);
    const err = await startDevServer({ cliPath: fake, port: 0, ui: false, ephemeral: true, startupTimeoutMs: 1500 }).catch((e) => e);
    expect(err).toBeInstanceOf(DevServerStartError);
    expect((err as Error).message).toMatch(/did not open 127\.0\.0\.1:\d+ within 1\.5 s/);
    expect((err as Error).message).toMatch(/warming up/);
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  test('a busy port is reported (or replaced by a free one when asked)', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as net.AddressInfo).port;
    try {
      expect(await isPortFree(busy)).toBe(false);
      const fake = writeScript(path.join(tempDir(), 'temporal'), 'exit 1');
      await expect(startDevServer({ cliPath: fake, port: busy, ui: false, ephemeral: true })).rejects.toThrow(/already in use/);
      const server = await startDevServer({ port: busy, pickFreePortIfBusy: true, ui: false, ephemeral: true });
      try {
        expect(server.address).not.toBe(`127.0.0.1:${busy}`);
        expect(server.dbFilename).toBeUndefined();
      } finally {
        await server.stop();
      }
    } finally {
      blocker.close();
    }
  });
});

describe('startDevServer with a persistent database', () => {
  test('state survives a restart; attributes are registered on an existing DB', async () => {
    const dbFilename = path.join(tempDir(), 'nested', 'dir', 'dev.db'); // parent created by startDevServer
    const port = await getFreePort();
    const uiPort = await getFreePort();

    // 1st start: a DB with none of the project's attributes and the default retention.
    let server = await startDevServer({ dbFilename, port, uiPort, searchAttributes: {}, retentionDays: null, log: noLog });
    let connection = await Connection.connect({ address: server.address });
    try {
      expect(server.address).toBe(`127.0.0.1:${port}`);
      expect(server.uiUrl).toBe(`http://127.0.0.1:${uiPort}`);
      expect((await fetch(server.uiUrl!)).status).toBe(200);
      expect(existsSync(dbFilename)).toBe(true);
      const attrs = await listCustomSearchAttributes(connection, 'default');
      expect(Object.keys(attrs).filter((name) => name in expectedAttributes)).toEqual([]);
      expect(await getRetentionDays(connection, 'default')).toBeLessThan(400);
      // A workflow (no worker needed) to find again after the restarts.
      await new Client({ connection }).workflow.start('neverRuns', { taskQueue: 'nobody-polls', workflowId: 'persisted-wf' });
    } finally {
      await connection.close();
      await server.stop();
    }
    expect(server.hasExited).toBe(true);
    expect(alive(server.pid)).toBe(false);
    expect(await isPortFree(port)).toBe(true);

    // 2nd start on the same (now existing) DB: defaults register the attributes and the retention.
    const lines: string[] = [];
    server = await startDevServer({ dbFilename, port, uiPort, log: (m) => lines.push(m) });
    connection = await Connection.connect({ address: server.address });
    try {
      expect(lines.join('\n')).toMatch(/registered search attributes/);
      expect(await listCustomSearchAttributes(connection, 'default')).toMatchObject(expectedAttributes);
      expect(await getRetentionDays(connection, 'default')).toBe(400);
    } finally {
      await connection.close();
      await server.stop();
    }

    // 3rd start registering nothing: what is there now came from the DB file.
    server = await startDevServer({ dbFilename, port: 0, ui: false, searchAttributes: {}, retentionDays: null, log: noLog });
    connection = await Connection.connect({ address: server.address });
    try {
      expect(await listCustomSearchAttributes(connection, 'default')).toMatchObject(expectedAttributes);
      expect(await getRetentionDays(connection, 'default')).toBe(400);
      const described = await new Client({ connection }).workflow.getHandle('persisted-wf').describe();
      expect(described.type).toBe('neverRuns');
    } finally {
      await connection.close();
      await server.stop();
    }
    await server.stop(); // idempotent
  });

  test('a second server on the same database is refused clearly; a stale lock is taken over', async () => {
    const dbFilename = path.join(tempDir(), 'dev.db');
    const first = await startDevServer({ dbFilename, port: 0, ui: false, log: noLog });
    try {
      const lock = JSON.parse(readFileSync(`${dbFilename}.lock`, 'utf8'));
      expect(lock).toEqual({ ownerPid: process.pid, serverPid: first.pid, address: first.address });
      const second = await startDevServer({ dbFilename, port: 0, ui: false, log: noLog }).catch((e) => e);
      if (!(second instanceof Error)) await second.stop(); // must not happen, but don't leak it
      expect(second).toBeInstanceOf(DevServerStartError);
      expect((second as Error).message).toMatch(/in use by another Temporal dev server at 127\.0\.0\.1:\d+/);
      expect(first.hasExited).toBe(false);
    } finally {
      await first.stop();
    }
    expect(existsSync(`${dbFilename}.lock`)).toBe(false);

    // A lock left by processes that are gone (say a killed run) does not block the next start,
    // nor one whose server pid now belongs to another program (pid reuse after a reboot).
    for (const stale of [{ ownerPid: 999_999_999, serverPid: 999_999_998 }, { ownerPid: process.pid, serverPid: process.pid }]) {
      writeFileSync(`${dbFilename}.lock`, JSON.stringify(stale));
      const next = await startDevServer({ dbFilename, port: 0, ui: false, log: noLog });
      expect(JSON.parse(readFileSync(`${dbFilename}.lock`, 'utf8')).serverPid).toBe(next.pid);
      await next.stop();
    }
  });
});

describe('the jest global Temporal server', () => {
  const address = () => process.env.TEMPORAL_TEST_ADDRESS!;
  const namespace = () => process.env.TEMPORAL_TEST_NAMESPACE ?? 'default';

  test('global setup exported its address and namespace', () => {
    expect(address()).toMatch(/^[\w.-]+:\d+$/);
    expect(process.env.TEMPORAL_TEST_NAMESPACE).toBeTruthy();
    expect(process.env.TEMPORAL_ADDRESS).toBe(address());
  });

  test('has the project search attributes with their types', async () => {
    const connection = await Connection.connect({ address: address() });
    try {
      const attrs = await listCustomSearchAttributes(connection, namespace());
      expect(attrs).toMatchObject(expectedAttributes);
      expect(projectSearchAttributes()).toEqual(expectedAttributes);
    } finally {
      await connection.close();
    }
  });

  test('runs a workflow that upserts the search attributes, findable by a visibility query', async () => {
    const connection = await Connection.connect({ address: address() });
    const nativeConnection = await NativeConnection.connect({ address: address() });
    const taskQueue = `echo-${process.pid}-${Date.now()}`;
    const workflowId = `echo-${Date.now()}`;
    try {
      const client = new Client({ connection, namespace: namespace() });
      const worker = await Worker.create({
        connection: nativeConnection,
        namespace: namespace(),
        taskQueue,
        workflowsPath: require.resolve('./fixtures/echo-workflow'),
      });
      const result = await worker.runUntil(
        client.workflow.execute(echo, { taskQueue, workflowId, args: ['hello', 7], workflowExecutionTimeout: '1 minute' }),
      );
      expect(result).toBe('hello (from echo)');
      const description = await client.workflow.getHandle(workflowId).describe();
      expect(description.typedSearchAttributes.get(stageKey)).toBe('echoed');
      expect(description.typedSearchAttributes.get(kKey)).toBe(7);

      const query = `${SEARCH_ATTRIBUTES.stage.name} = "echoed" AND ${SEARCH_ATTRIBUTES.k.name} = 7 AND WorkflowId = "${workflowId}"`;
      let found: string[] = [];
      for (let i = 0; i < 50 && found.length === 0; i++) {
        found = [];
        for await (const wf of client.workflow.list({ query })) found.push(wf.workflowId);
        if (found.length === 0) await new Promise((r) => setTimeout(r, 200));
      }
      expect(found).toEqual([workflowId]);
    } finally {
      await nativeConnection.close();
      await connection.close();
    }
  });
});

describe('connectToTemporal', () => {
  test('TEMPORAL_ADDRESS: connects to that server, and close() leaves it running', async () => {
    const handle = await connectToTemporal({
      env: { TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS!, TEMPORAL_NAMESPACE: process.env.TEMPORAL_TEST_NAMESPACE },
      log: noLog,
    });
    expect(handle.mode).toBe('external');
    expect(handle.address).toBe(process.env.TEMPORAL_TEST_ADDRESS);
    expect(handle.server).toBeUndefined();
    expect(handle.nativeConnection).toBeUndefined();
    const native = await handle.getNativeConnection();
    expect(handle.nativeConnection).toBe(native);
    expect(await handle.getNativeConnection()).toBe(native);
    await handle.connection.workflowService.getSystemInfo({});
    await handle.close();
    await handle.close();
    const again = await Connection.connect({ address: process.env.TEMPORAL_TEST_ADDRESS! });
    await again.workflowService.getSystemInfo({});
    await again.close();
  });

  test('reuses a Temporal server already answering on the dev server port', async () => {
    const [ip, port] = process.env.TEMPORAL_TEST_ADDRESS!.split(':');
    const handle = await connectToTemporal({ env: {}, devServer: { ip, port: Number(port) }, log: noLog });
    try {
      expect(handle.mode).toBe('existing-dev-server');
      expect(handle.server).toBeUndefined();
      await handle.connection.workflowService.describeNamespace({ namespace: handle.namespace });
    } finally {
      await handle.close();
    }
  });

  test('no TEMPORAL_ADDRESS: starts the embedded dev server and stops it on close()', async () => {
    const dbFilename = path.join(tempDir(), 'embedded.db');
    const handle = await connectToTemporal({
      env: { PATH: process.env.PATH, TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH },
      devServer: { dbFilename, port: 0, ui: false },
      nativeConnection: true,
      log: noLog,
    });
    const server = handle.server!;
    try {
      expect(handle.mode).toBe('dev-server');
      expect(server.dbFilename).toBe(dbFilename);
      expect(handle.nativeConnection).toBeDefined();
      expect(await listCustomSearchAttributes(handle.connection, handle.namespace)).toMatchObject(expectedAttributes);
    } finally {
      await handle.close();
    }
    expect(server.hasExited).toBe(true);
  });

  test('the embedded database is held by another process: uses that process\'s server', async () => {
    const dbFilename = path.join(tempDir(), 'shared.db');
    const owner = await startDevServer({ dbFilename, port: 0, ui: false, log: noLog });
    try {
      const handle = await connectToTemporal({
        env: { PATH: process.env.PATH, TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH },
        devServer: { dbFilename, port: 0, ui: false },
        log: noLog,
      });
      expect(handle.mode).toBe('existing-dev-server');
      expect(handle.address).toBe(owner.address);
      expect(handle.server).toBeUndefined();
      await handle.connection.workflowService.describeNamespace({ namespace: handle.namespace });
      await handle.close();
      expect(owner.hasExited).toBe(false);
    } finally {
      await owner.stop();
    }
  });

  test('no CLI and no Go: falls back to the SDK download (TestWorkflowEnvironment.createLocal), same shape', async () => {
    const root = fakeProjectRoot();
    const realConnection = await Connection.connect({ address: process.env.TEMPORAL_TEST_ADDRESS! });
    const teardown = jest.fn(async () => undefined);
    const createLocal = jest.fn(async () => ({
      connection: realConnection,
      nativeConnection: { close: jest.fn() },
      address: process.env.TEMPORAL_TEST_ADDRESS!,
      teardown,
    }));
    jest.doMock('@temporalio/testing', () => ({ TestWorkflowEnvironment: { createLocal } }));
    try {
      const handle = await connectToTemporal({
        env: { PATH: '' },
        devServer: { projectRoot: root, port: 0 },
        cli: { go: null },
        log: noLog,
      });
      expect(createLocal).toHaveBeenCalledTimes(1);
      expect(createLocal.mock.calls[0]).toEqual([
        { server: expect.objectContaining({ namespace: 'default', dbFilename: path.join(root, '.temporal', 'dev.db') }) },
      ]);
      expect(handle.mode).toBe('sdk-local');
      expect(handle.nativeConnection).toBeDefined();
      await handle.connection.workflowService.getSystemInfo({});
      await handle.close();
      expect(teardown).toHaveBeenCalledTimes(1);
      // And callers can refuse the download.
      await expect(
        connectToTemporal({ env: { PATH: '' }, devServer: { projectRoot: root, port: 0 }, cli: { go: null }, allowSdkDownload: false }),
      ).rejects.toBeInstanceOf(TemporalCliUnavailableError);
    } finally {
      jest.dontMock('@temporalio/testing');
      await realConnection.close();
    }
  });
});
