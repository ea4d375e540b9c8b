/**
 * The deployment files against the code they deploy: docker-compose.yml, deploy/, the Dockerfile and
 * .dockerignore. No Docker engine is needed; where the `docker-compose` tool is installed, the compose
 * file is also validated by it (CI installs it; .ci/run checks it too).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SEARCH_ATTRIBUTES } from '../common/constants';
import { DEFAULT_SHUTDOWN_FORCE_MARGIN_MS, parseDuration } from '../worker/run-worker';

const root = path.resolve(__dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const compose = read('docker-compose.yml');

/** The default of `${NAME:-default}` as written in docker-compose.yml. */
function composeDefault(name: string): string {
  const match = new RegExp(`\\$\\{${name}:-([^}]*)\\}`).exec(compose);
  if (!match) throw new Error(`docker-compose.yml has no \${${name}:-…}`);
  return match[1];
}

describe('docker-compose.yml', () => {
  test('the namespace job registers exactly the search attributes the workflow upserts', () => {
    const script = read('deploy/scripts/temporal-namespace.sh');
    const listed = /^SEARCH_ATTRIBUTES="([^"]*)"/m.exec(script)?.[1].split(/\s+/).filter(Boolean).sort();
    const expected = Object.values(SEARCH_ATTRIBUTES).map((a) => `${a.name}:${a.type}`).sort();
    expect(listed).toEqual(expected);
  });

  test('the retention matches the embedded dev server’s', () => {
    expect(composeDefault('TEMPORAL_RETENTION_DAYS')).toBe('400');
  });

  test('Docker waits long enough for a worker to stop gracefully', () => {
    const grace = parseDuration(composeDefault('SEGMENTS_WORKER_SHUTDOWN_GRACE'), 'grace');
    const stop = parseDuration(composeDefault('SEGMENTS_STOP_GRACE_PERIOD'), 'stop_grace_period');
    // The worker gives up on steps that ignore cancellation at grace + margin; Docker must not SIGKILL first.
    expect(stop).toBeGreaterThan(grace + DEFAULT_SHUTDOWN_FORCE_MARGIN_MS);
  });

  test('images are pinned, and server and admin-tools share a version', () => {
    const images = [...compose.matchAll(/^\s*image:\s*(\S+)/gm)].map((m) => m[1]);
    for (const image of images.filter((i) => !i.startsWith('customer-segments'))) {
      expect(image).toMatch(/:\$\{[A-Z_]+:-[0-9][^}]*\}$/);
    }
    expect(composeDefault('TEMPORAL_VERSION')).toBe(composeDefault('TEMPORAL_ADMINTOOLS_VERSION'));
  });

  test('the files it mounts exist', () => {
    const mounts = [...compose.matchAll(/^\s*-\s*(\.\/[^:]+):/gm)].map((m) => m[1]);
    expect(mounts.length).toBeGreaterThan(0);
    for (const mount of mounts) expect(existsSync(path.join(root, mount))).toBe(true);
    const configPath = /DYNAMIC_CONFIG_FILE_PATH:\s*config\/dynamicconfig\/(\S+)/.exec(compose)?.[1];
    expect(configPath && existsSync(path.join(root, 'deploy/dynamicconfig', configPath))).toBe(true);
  });

  const dockerCompose = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8' });
  (dockerCompose.status === 0 ? test : test.skip)('docker-compose config accepts it', () => {
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: root, encoding: 'utf8' });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const ignored = read('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  test('the image runs the CLI as a worker, with the bundle the build stage writes', () => {
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/segments\.js"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["worker"\]$/m);
    expect(dockerfile).toMatch(/node dist\/worker\/bundle\.js dist\/workflow-bundle\.js/);
    expect(dockerfile).toMatch(/WORKFLOW_BUNDLE=\/app\/dist\/workflow-bundle\.js/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  test('the build context leaves out local state and build output', () => {
    for (const entry of ['node_modules', 'dist', '.git', '.tools', '.temporal', 'demo-*', 'bench-*']) expect(ignored).toContain(entry);
    // …but keeps what the build needs.
    for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'bin', 'data', 'worker', 'workflows']) {
      expect(ignored).not.toContain(needed);
    }
  });
});
