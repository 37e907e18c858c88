import type { ChildProcess } from 'node:child_process';

/** What a child process wrote, as it writes it. */
export function outputOf(child: ChildProcess): { stdout: () => string; stderr: () => string } {
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d) => {
    out.stdout += d;
  });
  child.stderr?.on('data', (d) => {
    out.stderr += d;
  });
  return { stdout: () => out.stdout, stderr: () => out.stderr };
}
