import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { COMPILE_CACHE_ENV } from '../../support/compile-cache.ts';
import { WEBHOOK_SECRET } from './fake-app.ts';

// The bot as `npm run bot` runs it: src/bot/main.ts in its own Node process, configured by the
// environment only, talking to the local GitHub server as a GitHub Enterprise host. Without a
// `port` it binds any free one (PORT=0) and `url` is read from the line where it says where it
// listens, so two runs of the suite side by side never race for a port.

const MAIN = join(import.meta.dirname, '../../../src/bot/main.ts');

const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

export interface BotProcess {
  child: ChildProcess;
  pid: number;
  /** Where it listens; with PORT=0, known once it said so (reading it earlier throws). */
  readonly url: string;
  /** The process's exit: code, or the signal that ended it. */
  exited: Promise<number | string>;
  output(): string;
  /** SIGTERM, and the clean shutdown's exit. */
  stop(): Promise<number | string>;
}

export interface BotEnv {
  githubUrl: string;
  /** Omitted: any free port, chosen by the bot itself. */
  port?: number;
  store: string;
  /** A JSONL file (BUDGET_GATE_TELEMETRY_FILE) or a Prometheus URL (BUDGET_GATE_PROMETHEUS_URL). */
  telemetry: string | { prometheus: string };
  replica: string;
  cwd: string;
  extra?: Record<string, string>;
}

/** start.ts's line once the server is bound, with the port it got. */
const LISTENING = /budget-gate bot: listening on http:\/\/[^\s"]+?:(\d+)/;

export function startBot(e: BotEnv): BotProcess {
  const gh = new URL(e.githubUrl);
  const child = spawn(process.execPath, [MAIN], {
    cwd: e.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      // The matrix starts dozens of processes: Node's on-disk compile cache shortens each start.
      ...COMPILE_CACHE_ENV,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      APP_ID: '1',
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET,
      HOST: '127.0.0.1',
      PORT: String(e.port ?? 0),
      GHE_HOST: gh.host,
      GHE_PROTOCOL: 'http',
      BUDGET_GATE_STORE: e.store,
      ...(typeof e.telemetry === 'string'
        ? { BUDGET_GATE_TELEMETRY_FILE: e.telemetry }
        : { BUDGET_GATE_PROMETHEUS_URL: e.telemetry.prometheus }),
      BUDGET_GATE_REPLICA: e.replica,
      BUDGET_GATE_TICK: '1s',
      BUDGET_GATE_LEASE: '3s',
      BUDGET_GATE_RECOVER_EVERY: 'off',
      // GitHub asks integrations to space writes 1 s apart; the local server does not.
      BUDGET_GATE_GITHUB_WRITE_GAP: '0s',
      ...e.extra,
    },
  });
  let out = '';
  let url = e.port ? `http://127.0.0.1:${e.port}` : null;
  const read = (d: Buffer) => {
    out += d;
    const bound = url === null ? LISTENING.exec(out) : null;
    if (bound) url = `http://127.0.0.1:${bound[1]}`;
  };
  child.stdout?.on('data', read);
  child.stderr?.on('data', read);
  const exited = new Promise<number | string>((r) =>
    child.once('exit', (code, signal) => r(code ?? signal ?? -1)),
  );
  return {
    child,
    pid: child.pid!,
    get url() {
      if (url === null) throw new Error('the bot has not said where it listens yet');
      return url;
    },
    exited,
    output: () => out,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls until `check` holds; fails with `what` and the bot's output after `ms`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  bots: BotProcess[] = [],
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}\n${bots.map((b) => b.output().slice(-4000)).join('\n---\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The bot's HTTP server answers (any status). */
export const listening = (b: BotProcess) =>
  until('the bot to listen', async () => (await fetch(`${b.url}/healthz`)).status > 0, [b]);
