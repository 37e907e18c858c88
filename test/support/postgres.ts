import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.ts';

// A real PostgreSQL for the tests: Debian's server binaries, a cluster initdb'd into a temporary
// directory, on a free loopback port, stopped and deleted afterwards. initdb and postgres refuse to
// run as root, so as root they run as the `postgres` user. Missing binaries fail the test with the
// reason; they never skip it.

function binDir(): string {
  const preferred = '/usr/lib/postgresql/15/bin';
  if (existsSync(join(preferred, 'postgres'))) return preferred;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'postgres'))) return join(base, v, 'bin');
  throw new Error(
    "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: install Debian's postgresql package (apt-get install postgresql); .ci/run does this",
  );
}

/** As root: the uid/gid of the `postgres` user, which the server runs as. */
function runAs(): { uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      'running as root, and there is no `postgres` user to run PostgreSQL as (the postgresql package creates it)',
    );
  }
}

export interface RunningPostgres {
  url: string;
  /** A new empty database on the server, as a connection URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** Waits for the server to answer; a server that exited because its port was taken says so. */
async function untilReady(
  child: ChildProcess,
  url: string,
  log: () => string,
): Promise<'ready' | 'port-taken' | 'exited' | 'timeout'> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      // postgres has exited, but its last words may still be in the pipe.
      await new Promise((r) => setTimeout(r, 50));
      return /could not bind|address already in use|could not create any TCP\/IP sockets/i.test(log())
        ? 'port-taken'
        : 'exited';
    }
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return 'ready';
    } catch {
      await client.end().catch(() => {});
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      return 'timeout';
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startPostgres(): Promise<RunningPostgres> {
  const bin = binDir();
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'bg-pg-'));
  const data = join(dir, 'data');
  if (user) chownSync(dir, user.uid, user.gid);
  const opts = user ? { uid: user.uid, gid: user.gid } : {};
  try {
    execFileSync(
      join(bin, 'initdb'),
      ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'],
      {
        stdio: 'pipe',
        cwd: dir,
        ...opts,
      },
    );
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`initdb failed: ${err.stderr?.toString() ?? err.message}`);
  }
  // The port is chosen before postgres binds it: a run beside this one may take it in between,
  // and then postgres exits saying so and another port is tried.
  let port = 0;
  let child!: ChildProcess;
  let log = '';
  let url = '';
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    log = '';
    child = spawn(
      join(bin, 'postgres'),
      ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
      { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...opts },
    );
    child.stderr?.on('data', (d) => {
      log += d;
    });
    url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const ready = await untilReady(child, url, () => log);
    if (ready === 'ready') break;
    if (ready === 'port-taken' && attempt < 5) continue;
    throw new Error(
      ready === 'timeout'
        ? `postgres not ready on 127.0.0.1:${port} after 30 s: ${log.slice(-2000)}`
        : `postgres exited ${child.exitCode}: ${log.slice(-2000)}`,
    );
  }
  return {
    url,
    async createDatabase(name: string) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        // SIGINT: PostgreSQL's fast shutdown (disconnects clients, no waiting on them).
        child.kill('SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
