import { createServer } from 'node:http';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { localStore } from '../../dashboard/local.ts';
import { dashboardHandler, OPEN_ACCESS } from '../../dashboard/server.ts';
import { evaluateChange } from '../../gate/evaluate-change.ts';
import { assessReadiness } from '../../policy/readiness/verdict.ts';
import { repoFiles } from '../../repo/files.ts';
import { localChangeFacts } from '../change-facts.ts';
import { integerFlag, parseAt, readPolicy } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';
import { openTelemetry, SOURCE_OPTIONS } from '../telemetry.ts';

export const DASHBOARD_USAGE = `budget-gate dashboard --policy FILE --telemetry FILE [--port N] [--at TIME]

Serves the dashboard for one policy and one telemetry file, on this machine, with no GitHub and
no sign-in: the repository's SLOs, budgets, burn and state with their charts, the alerts firing,
what the gate would say now, who is on call and the readiness verdict. Everything is computed once
at start-up; restart to read the file again. (The JSONL format has no deployment markers, so there
is no replay of past deploys here: the bot's dashboard has it.)

  --policy FILE       error-budget policy (default .github/error-budget.yml)
  --telemetry FILE    JSONL task records, plain or gzipped (or --prometheus URL, as evaluate)
  --port N            port to listen on (default 8484; 0 picks a free one)
  --host ADDR         address to bind (default 127.0.0.1: only this machine can open it)
  --at TIME           evaluate as of this ISO-8601 time (default: now)
  --repo OWNER/NAME   the name to show (default local/<this directory>)
  --root DIR          the checkout the readiness verdict reads (default .)

Stops on Ctrl-C. exit 0 stopped, 2 invalid input or the port is taken`;

export async function dashboardCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...SOURCE_OPTIONS,
      port: { type: 'string', default: '8484' },
      host: { type: 'string', default: '127.0.0.1' },
      at: { type: 'string' },
      repo: { type: 'string' },
      root: { type: 'string', default: '.' },
    },
  });
  const port = integerFlag('--port', values.port, 0, 65_535);
  const loaded = await readPolicy(io, values.policy);
  const at = parseAt(io, values.at);
  const root = resolve(io.cwd, values.root);
  const repo = values.repo ?? `local/${root.split('/').filter(Boolean).at(-1) ?? 'repository'}`;
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new CliError(`--repo ${repo}: expected OWNER/NAME`);
  const source = await openTelemetry(io, values);
  const { decision, telemetryError } = await evaluateChange({
    loaded,
    at,
    source,
    facts: localChangeFacts({ files: [], labels: [], author: null, last_push_at: null, title: '' }),
    audit: null,
    repo,
    origin: 'cli',
  });
  if (telemetryError) throw new CliError(telemetryError.message);
  const policyPath = relative(root, resolve(io.cwd, values.policy));
  const readiness = policyPath.startsWith('..') ? null : assessReadiness(repoFiles(root), policyPath, at);
  const store = localStore({
    repo,
    policy: loaded.policy,
    decision,
    at,
    readiness,
    source: decision.telemetry.source.split(`${io.cwd}/`).join(''),
  });
  const handle = dashboardHandler({ store, access: OPEN_ACCESS });
  const server = createServer((req, res) => {
    handle(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      },
      (e: unknown) => {
        io.stderr(`budget-gate dashboard: ${(e as Error).message}\n`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
      },
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        new CliError(
          e.code === 'EADDRINUSE'
            ? `--port ${port}: already in use (try --port 0)`
            : `cannot listen: ${e.message}`,
        ),
      ),
    );
    server.listen(port, values.host, ok);
  });
  const addr = server.address();
  const shown = typeof addr === 'object' && addr ? addr.port : port;
  const host = values.host.includes(':') ? `[${values.host}]` : values.host;
  io.stdout(
    `budget-gate dashboard: ${repo}, ${decision.state.toUpperCase()} at ${decision.evaluated_at}\n  open http://${host}:${shown}/r/${repo}\n  Ctrl-C stops it\n`,
  );
  await new Promise<void>((ok) => {
    // Ctrl-C means now: a browser's kept-alive connection must not hold the process open.
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close(() => ok());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener('abort', stop, { once: true });
  });
  return EXIT.allowed;
}
