/** Defaults sized from the machine (core/parallel/machine.ts): never more threads than cores, overrides checked. */
import { availableParallelism } from 'node:os';
import { cpuBudget, defaultThreads, duckDbMachineSettings, memoryBudget } from '../../core/parallel';

function withEnv<T>(name: string, value: string | undefined, work: () => T): T {
  const before = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return work();
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}

describe('machine budget', () => {
  it('threads default to at most the cores this process may use', () => {
    withEnv('SEGMENTS_THREADS', undefined, () => {
      expect(cpuBudget()).toBeGreaterThanOrEqual(1);
      expect(cpuBudget()).toBeLessThanOrEqual(availableParallelism());
      expect(defaultThreads()).toBe(cpuBudget());
      expect(duckDbMachineSettings().threads).toBe(cpuBudget());
    });
  });

  it('SEGMENTS_THREADS overrides the budget; a bad value is a clear error', () => {
    withEnv('SEGMENTS_THREADS', '1', () => expect(defaultThreads()).toBe(1));
    withEnv('SEGMENTS_THREADS', '0', () => expect(() => cpuBudget()).toThrow(/SEGMENTS_THREADS must be a whole number ≥ 1, got "0"/));
    withEnv('SEGMENTS_THREADS', 'two', () => expect(() => cpuBudget()).toThrow(/got "two"/));
  });

  it("DuckDB's memory limit is a quarter of the usable memory, between 256 MiB and 4 GiB, unless overridden", () => {
    withEnv('SEGMENTS_DUCKDB_MEMORY', undefined, () => {
      const { memoryLimit } = duckDbMachineSettings();
      const mib = Number(/^(\d+)MB$/.exec(memoryLimit)?.[1]);
      expect(mib).toBe(Math.floor(Math.min(4096, Math.max(256, memoryBudget() / 4 / 2 ** 20))));
    });
    withEnv('SEGMENTS_DUCKDB_MEMORY', '1GB', () => expect(duckDbMachineSettings().memoryLimit).toBe('1GB'));
  });
});
