import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The part every real server the tests start shares: find its binary (missing is a failure that
// says which Debian package to install, never a skip), spawn it, wait until it answers, and stop
// it without leaving a process behind.

export function binary(name: string, debianPackage: string): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new Error(
    `${name} not found: install Debian's ${debianPackage} package (apt-get install ${debianPackage}); scripts/test-deps does this`,
  );
}

export interface ServerProcess {
  /** stderr and stdout so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Spawns `command` and resolves once `ready()` says so; rejects (and kills it) when it exits first
 * or is not ready in 30 s.
 */
export async function startServer(
  name: string,
  command: string,
  args: string[],
  ready: () => Promise<boolean>,
): Promise<ServerProcess> {
  const proc: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout?.on('data', (d) => {
    log = (log + d).slice(-20_000);
  });
  proc.stderr?.on('data', (d) => {
    log = (log + d).slice(-20_000);
  });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited ${proc.exitCode}: ${log.slice(-2000)}`);
    // Not listening yet is the expected answer while it starts: the deadline below says when to stop.
    const ok = await ready().catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} not ready after 30 s: ${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { log: () => log, stop };
}

/**
 * A temporary folder for one server process: `started` records the process, and `stop` stops it
 * (if it started) and removes the folder.
 */
export function serverScratch(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let server: ServerProcess | null = null;
  return {
    dir,
    started: (s: ServerProcess) => {
      server = s;
    },
    stop: async () => {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
