import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Octokit } from '@octokit/core';
import { drillEvent } from '../../notify/events.ts';
import { onCallAt, oncallText } from '../../notify/links.ts';
import { Notifier } from '../../notify/notifier.ts';
import { PAGERDUTY_API_KEY_ENV, pagerdutyReader } from '../../notify/pagerduty-api.ts';
import type { DrillRecord } from '../../policy/oncall/drill.ts';
import { lintRunbook } from '../../policy/readiness/runbook.ts';
import { DEFAULT_POLICY_PATH } from '../../policy/spec/load.ts';
import { durationOf } from '../../policy/time/duration-value.ts';
import { repoReader } from '../../repo/files.ts';
import { ackSource, lookForAcks, type Seen } from '../drill-acks.ts';
import { openExistingStore } from '../existing-store.ts';
import { parseAt, readPolicy } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';
import { decisionLink, defaultBranch, githubServer } from '../page-facts.ts';

export const DRILL_USAGE = `budget-gate drill ALERT --repo OWNER/NAME [--policy FILE] [--root DIR]
    [--ack-from pagerduty|store|issue] [--store sqlite:PATH|postgres://...] [--timeout 30m] [--poll 15s]
    [--no-issue] [--branch NAME] [--at TIME]

Runs a drill of ALERT's runbook: sends a test page marked [DRILL] the way a real one goes (the
policy's PagerDuty routing key and Slack webhook, whatever the hour), opens a drill issue listing
the runbook's steps (GITHUB_TOKEN), waits for the acknowledgement and for the steps to be
confirmed (comment \`confirm 1 2\` or \`confirm all\` on the issue, or add it as a PagerDuty note),
then writes the record into the repository: oncall.runbooks.drills (default drills/), one JSON
file per drill, saying who acknowledged, how fast, and which steps were confirmed. Commit it:
runbooks lint and readiness count a runbook drilled when every primary ran it within drill_every.

Where the acknowledgement is read (--ack-from; default the first available):
  store      the bot's store (--store): the bot records PagerDuty's acknowledgement (its webhook)
             or the issue's (an assignment or a comment) on the drill's record
  pagerduty  PagerDuty's REST API with a read-only key in ${PAGERDUTY_API_KEY_ENV}
             (EU accounts: BUDGET_GATE_PAGERDUTY_API_URL=https://api.eu.pagerduty.com)
  issue      the drill issue: the first person to assign themselves or comment (Slack-only teams)

exit 0 acknowledged and every step confirmed, 1 the drill ran but was not completed (the record
says what was missing), 2 invalid input or the test page reached nobody`;

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export async function drillCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      policy: { type: 'string', default: DEFAULT_POLICY_PATH },
      root: { type: 'string', default: '.' },
      repo: { type: 'string' },
      'ack-from': { type: 'string' },
      store: { type: 'string' },
      timeout: { type: 'string', default: '30m' },
      poll: { type: 'string', default: '15s' },
      'no-issue': { type: 'boolean' },
      branch: { type: 'string' },
      at: { type: 'string' },
    },
  });
  const name = positionals[0];
  if (!name || positionals.length > 1) throw new CliError(`usage: ${DRILL_USAGE.split('\n')[0]}`);
  const repo = values.repo;
  if (!repo || !/^[^/\s]+\/[^/\s]+$/.test(repo)) throw new CliError('--repo OWNER/NAME is required');
  const timeout = durationOf(values.timeout);
  const poll = durationOf(values.poll);
  if (!timeout || !poll || poll.ms < 1000)
    throw new CliError('--timeout and --poll take durations such as 30m and 15s (poll at least 1s)');
  const { policy } = await readPolicy(io, values.policy);
  const alert = policy.alerts.find((a) => a.name === name);
  if (!alert)
    throw new CliError(
      `no alert named ${name} in ${values.policy}: the alerts are ${policy.alerts.map((a) => a.name).join(', ')}`,
    );
  if (!alert.runbook || /^https?:\/\//i.test(alert.runbook))
    throw new CliError(
      `${name}'s runbook ${alert.runbook ?? '(none)'} is not a file in the repository: a drill confirms its steps, so they must be readable here (runbooks lint says why)`,
    );
  const root = resolve(io.cwd, values.root);
  const runbookPath = alert.runbook.replace(/#.*$/, '');
  const text = repoReader(root)(runbookPath);
  if (text === null) throw new CliError(`${runbookPath}: no such file under ${root}`);
  const steps = lintRunbook(text, 0, 0).steps;
  if (steps.length === 0)
    throw new CliError(`${runbookPath}: no numbered steps to drill (runbooks lint says how to write them)`);

  const at = parseAt(io, values.at);
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const env = io.env;
  const pd = pagerdutyReader(env);
  const token = env.GITHUB_TOKEN || env.GH_TOKEN;
  const source = ackSource(values['ack-from'], {
    store: !!values.store,
    pd: !!pd,
    token: !!token && !values['no-issue'],
  });
  if (source === 'pagerduty' && !policy.oncall.notify.pagerduty)
    throw new CliError(
      '--ack-from pagerduty: oncall.notify names no pagerduty, so the drill cannot page through it',
    );

  const key = `budget-gate/${repo}/drill/${name}/${iso(at)}`.slice(0, 255);
  const server = githubServer(env);
  const oncall = onCallAt(policy.oncall, at);
  const gh =
    token && !values['no-issue']
      ? new Octokit({ auth: token, baseUrl: env.GITHUB_API_URL || 'https://api.github.com' })
      : null;
  const [owner, repoName] = repo.split('/') as [string, string];

  // The drill issue: the steps to confirm, and (for Slack-only teams) where the page is acknowledged.
  let issue: { number: number; url: string } | null = null;
  if (gh) {
    const res = await gh.request('POST /repos/{owner}/{repo}/issues', {
      owner,
      repo: repoName,
      title: `Drill: ${alert.severity} ${name} (${runbookPath})`,
      labels: ['drill'],
      body: [
        `<!-- budget-gate:drill ${key} -->`,
        `**This is a drill**, not a burn. On call: ${oncallText(oncall)}.`,
        '',
        `1. Acknowledge the page as you would a real one (PagerDuty, or here: assign yourself or comment).`,
        `2. Run the runbook [${runbookPath}](${server}/${repo}/blob/${encodeURIComponent((await defaultBranch(values.branch, env)) ?? 'HEAD')}/${runbookPath}) step by step, and confirm each step here: \`confirm 1\`, \`confirm 2 3\`, or \`confirm all\`.`,
        '',
        '### Steps',
        '',
        ...steps.map((s, i) => `${i + 1}. ${s.text}`),
      ].join('\n'),
    });
    issue = { number: res.data.number, url: res.data.html_url };
    io.stdout(`drill issue #${issue.number}: ${issue.url}\n`);
  }
  if (source === 'issue' && !issue)
    throw new CliError('--ack-from issue needs GITHUB_TOKEN (or GH_TOKEN) to open the drill issue');

  const store = values.store ? await openExistingStore(values.store, io) : null;
  try {
    const ref = { key, opened_at: at };
    if (store) {
      const row = await store.service.get(repo);
      await store.incidents.open(
        {
          key,
          repo,
          installation_id: row?.installation_id ?? 0,
          slo: alert.name,
          alert: name,
          severity: alert.severity,
          action: 'drill',
        },
        at,
      );
      if (issue) await store.incidents.setIssue(ref, issue.number, 'open', 0);
      await store.incidents.note(ref, { at, kind: 'drill', text: `drill of ${name} started` });
    }

    const decision = issue
      ? { href: issue.url, text: `drill issue #${issue.number}` }
      : (decisionLink(undefined, env).link ?? 'a drill: no decision');
    const event = drillEvent(alert, repo, key, {
      oncall: policy.oncall,
      at,
      server,
      branch: await defaultBranch(values.branch, env),
      decision,
    });
    const notifier = new Notifier({
      oncall: policy.oncall,
      env,
      ledger: { get: async () => null, put: async () => {}, open: async () => [] },
    });
    const d = await notifier.drill(event, at);
    for (const e of d.errors) io.stderr(`${e}\n`);
    const delivered = [...d.sent, ...(issue ? ['issue'] : [])];
    if (delivered.length === 0 || (source === 'pagerduty' && !d.sent.includes('pagerduty'))) {
      io.stderr(
        `DRILL NOT DELIVERED: ${key}: ${d.undelivered ?? 'no PagerDuty, Slack or drill issue reached anyone'}\n`,
      );
      return EXIT.invalid;
    }
    io.stdout(
      `paged ${oncallText(oncall)} with ${key} via ${delivered.join(', ')}; waiting up to ${values.timeout} for the acknowledgement (${source})\n`,
    );

    const seen: Seen = { ack: null, confirmed: new Map(), resolved: false };
    let pdIncident: string | null = null;
    const deadline = at + timeout.ms;
    let ended: DrillRecord['ended'] = 'timeout';
    for (;;) {
      const now = io.now();
      const found = await lookForAcks(
        {
          source,
          pd,
          store,
          issue: gh && issue ? { gh, owner, repo: repoName, number: issue.number } : null,
        },
        { key, ref, steps: steps.length, oncall: policy.oncall },
        seen,
        (m) => io.stderr(`warning: ${m}\n`),
      );
      pdIncident = found.pdIncident ?? pdIncident;
      if (seen.ack && steps.every((_, i) => seen.confirmed.has(i + 1))) {
        ended = 'all-steps-confirmed';
        break;
      }
      if (seen.ack && seen.resolved) {
        ended = 'resolved';
        break;
      }
      if (now >= deadline) break;
      await sleep(Math.min(poll.ms, Math.max(0, deadline - now)));
    }

    const record: DrillRecord = {
      version: 1,
      alert: name,
      runbook: runbookPath,
      repo,
      dedup_key: key,
      paged_at: iso(at),
      on_call: {
        primary: oncall.oncall.find((p) => p.role === 'primary')?.login ?? null,
        secondary: oncall.oncall.find((p) => p.role === 'secondary')?.login ?? null,
      },
      delivered,
      ack_source: source,
      acknowledged: seen.ack
        ? {
            by: seen.ack.by,
            login: seen.ack.login,
            at: iso(seen.ack.at),
            seconds: Math.max(0, (seen.ack.at - at) / 1000),
          }
        : null,
      steps: steps.map((s, i) => {
        const c = seen.confirmed.get(i + 1);
        return {
          n: i + 1,
          line: s.line,
          text: s.text,
          confirmed_by: c?.by ?? null,
          confirmed_at: c ? iso(c.at) : null,
        };
      }),
      issue: issue?.url ?? null,
      ended,
    };
    const file = await writeRecord(root, policy.oncall.runbooks.drills, record);
    const problem = await notifier.endDrill(key);
    if (problem) io.stderr(`warning: the drill page is still open in PagerDuty: ${problem}\n`);
    if (store) await store.incidents.resolve(ref, io.now(), 'budget-gate drill');
    const confirmedN = record.steps.filter((s) => s.confirmed_by).length;
    const summary = record.acknowledged
      ? `acknowledged by ${record.acknowledged.by} after ${Math.round(record.acknowledged.seconds)} s; ${confirmedN} of ${steps.length} steps confirmed`
      : `nobody acknowledged within ${values.timeout}`;
    if (gh && issue)
      await gh
        .request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
          owner,
          repo: repoName,
          issue_number: issue.number,
          body: `Drill ended (${ended}): ${summary}. Record: \`${file}\` (commit it).`,
        })
        .then(() =>
          gh.request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', {
            owner,
            repo: repoName,
            issue_number: issue.number,
            state: 'closed',
          }),
        )
        .catch((e: Error) => io.stderr(`warning: the drill issue was not closed: ${e.message}\n`));
    io.stdout(
      `drill of ${name}: ${summary}${pdIncident ? ` (PagerDuty incident ${pdIncident})` : ''}\nrecord: ${file} (commit it: runbooks lint and readiness read it)\n`,
    );
    return record.acknowledged && confirmedN === steps.length ? EXIT.allowed : EXIT.blocked;
  } finally {
    await store?.close();
  }
}

async function writeRecord(root: string, dir: string, r: DrillRecord): Promise<string> {
  await mkdir(join(root, dir), { recursive: true });
  const who = (r.acknowledged?.login ?? (r.acknowledged ? 'unmapped' : 'unacknowledged')).replace(
    /[^\w.-]/g,
    '_',
  );
  const base = `${r.paged_at.slice(0, 10)}-${r.alert.replace(/[^\w.-]/g, '_')}-${who}`;
  let name = `${base}.json`;
  for (let i = 2; existsSync(join(root, dir, name)); i++) name = `${base}-${i}.json`;
  await writeFile(join(root, dir, name), `${JSON.stringify(r, null, 2)}\n`, { flag: 'wx' });
  return `${dir}/${name}`;
}
