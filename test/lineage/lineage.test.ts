import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GIT_COMMIT_ENV, LINEAGE_FILE, codeVersion, gitCommitAt, packageRoot, writeLineage } from '../../core/lineage';
import { LineageSchema } from '../../schemas/lineage';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  }).trim();
}

describe('code version', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'segments-lineage-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function repoWithCommit(): string {
    git(dir, 'init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'customer-segments', version: '9.8.7' }));
    git(dir, 'add', '.');
    git(dir, 'commit', '-q', '-m', 'x');
    return git(dir, 'rev-parse', 'HEAD');
  }

  it('reads the commit from a branch ref, from packed refs, from a detached HEAD and from a worktree', () => {
    const head = repoWithCommit();
    expect(gitCommitAt(dir)).toBe(head);
    git(dir, 'pack-refs', '--all');
    expect(readFileSync(join(dir, '.git', 'packed-refs'), 'utf8')).toContain('refs/heads/main');
    expect(gitCommitAt(dir)).toBe(head);
    git(dir, 'checkout', '-q', '--detach');
    expect(gitCommitAt(dir)).toBe(head);
    git(dir, 'checkout', '-q', 'main');
    const tree = join(dir, 'tree');
    git(dir, 'worktree', 'add', '-q', '-b', 'other', tree);
    expect(gitCommitAt(tree)).toBe(head);
  });

  it('has no commit outside a checkout, unless the environment names one', () => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'customer-segments', version: '1.2.3' }));
    const saved = process.env[GIT_COMMIT_ENV];
    try {
      delete process.env[GIT_COMMIT_ENV];
      expect(codeVersion(dir)).toEqual({ package: 'customer-segments', version: '1.2.3', gitCommit: null });
      process.env[GIT_COMMIT_ENV] = 'abc123';
      expect(codeVersion(dir).gitCommit).toBe('abc123');
    } finally {
      if (saved === undefined) delete process.env[GIT_COMMIT_ENV];
      else process.env[GIT_COMMIT_ENV] = saved;
    }
  });

  it("names this checkout's package version and commit", () => {
    const root = packageRoot();
    expect(root).toBeDefined();
    const version = codeVersion(root);
    expect(version.version).toBe(JSON.parse(readFileSync(join(root!, 'package.json'), 'utf8')).version);
    if (!process.env[GIT_COMMIT_ENV]) expect(version.gitCommit).toBe(git(root!, 'rev-parse', 'HEAD'));
  });
});

describe('writeLineage', () => {
  it('writes a validated manifest with the hash of every model file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segments-model-'));
    try {
      writeFileSync(join(dir, 'pca.json'), '{"a":1}');
      writeFileSync(join(dir, 'centroids.json'), '{"k":2}');
      writeFileSync(join(dir, 'leftover.json.tmp'), 'half-written');
      const lineage = await writeLineage(dir, {
        createdAt: '2026-12-03T10:00:00.000Z',
        dataset: 'demo',
        code: { package: 'customer-segments', version: '0.1.0', gitCommit: null },
        temporal: { namespace: 'default', workflowId: 'w', runId: 'r', workflowType: 'segmentation', taskQueue: 'q' },
        inputs: {
          population: { path: '/p.csv', sha256: 'a'.repeat(64), rows: 10 },
          customers: { path: '/c.csv', sha256: 'b'.repeat(64), rows: 5 },
          featureSummary: { path: '/f.csv', sha256: 'c'.repeat(64) },
        },
        rows: { population: { total: 10, clean: 8, heavy: 2 }, customers: { total: 5, clean: 5, heavy: 0 } },
        config: { seed: 1 },
        steps: [{ name: 'pca', key: 'k1', reused: false }],
      });
      const written = LineageSchema.parse(JSON.parse(readFileSync(join(dir, LINEAGE_FILE), 'utf8')));
      expect(written).toEqual(lineage);
      const sha = (text: string) => createHash('sha256').update(text).digest('hex');
      expect(written.files).toEqual({ 'centroids.json': sha('{"k":2}'), 'pca.json': sha('{"a":1}') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
