import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { progress } from '../../src/cli/progress.ts';

function io(tty: boolean, times: number[]): CliIo & { err: string } {
  const out = {
    err: '',
    stdout: () => {},
    stderr: (s: string) => {
      out.err += s;
    },
    env: {},
    cwd: '/',
    now: () => times.shift() ?? 10_000,
    stderrIsTTY: tty,
  };
  return out;
}

describe('progress on a terminal', () => {
  it('redraws one line on standard error, at most every 200 ms, and clears it when done', () => {
    const t = io(true, [0, 100, 250]);
    const p = progress(t, 'simulate --fleet:');
    p.update(0.1, '2026-11-01');
    p.update(0.2, 'skipped: 100 ms later');
    p.update(0.5, '2026-11-15');
    p.done();
    expect(t.err).toBe(
      '\rsimulate --fleet: 10% 2026-11-01\x1b[K\rsimulate --fleet: 50% 2026-11-15\x1b[K\r\x1b[K',
    );
  });

  it('prints nothing when standard error is a pipe or a file', () => {
    const t = io(false, []);
    const p = progress(t, 'import sloth:');
    p.update(0.5);
    p.done();
    expect(t.err).toBe('');
  });
});
