import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type AlertRunbook, judgeRunbooks } from '../../policy/readiness/runbook-policy.ts';
import { REPO_OPTIONS, repoFiles } from '../../repo/files.ts';
import { parseAt, readPolicy } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';

export const RUNBOOKS_USAGE = `budget-gate runbooks lint [--policy FILE] [--root DIR] [--at TIME] [--json]

Checks every alert's runbook: a markdown file in the repository (paths relative to --root, default
the current directory) or a URL (checked for shape only). Per runbook and per step: vague, concrete,
or concrete + drilled, with the line and what is missing. A step is concrete when a new on-call could
execute it without asking: it names the artifact (a URL, path, command, named panel or channel),
what to read or run there (a \`command\`, a **button**, the value to read) and, when it decides
something, the threshold ("greater than 20%", "≥ 5%", shows "Major Outage"); a link to follow is
not a procedure. Drilled means every primary of the rotation ran it (budget-gate drill: records in
oncall.runbooks.drills, default drills/) within oncall.runbooks.drill_every (default 90d) or the
alert's drill_every; a "last drilled:" line in the runbook is a claim, not evidence.

exit 0 every paging alert's runbook is concrete and drilled, 1 one is not, 2 invalid input`;

export async function runbooksCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'lint') throw new CliError(`usage: ${RUNBOOKS_USAGE.split('\n')[0]}`);
  const { values } = parseArgs({
    args: rest,
    options: REPO_OPTIONS,
  });
  const { policy } = await readPolicy(io, values.policy);
  const judged = judgeRunbooks(policy, repoFiles(resolve(io.cwd, values.root)), parseAt(io, values.at));
  io.stdout(values.json ? `${JSON.stringify(judged, null, 2)}\n` : renderRunbooks(judged));
  return judged.some((r) => r.fails) ? EXIT.blocked : EXIT.allowed;
}

const MARK = { 'concrete+drilled': 'concrete + drilled', concrete: 'concrete', vague: 'VAGUE' } as const;

function renderRunbooks(judged: AlertRunbook[]): string {
  const out: string[] = [];
  for (const r of judged) {
    const verdict =
      r.verdict === 'concrete+drilled'
        ? 'concrete + drilled'
        : r.verdict === 'concrete'
          ? 'concrete, not drilled within cadence'
          : r.verdict.toUpperCase();
    out.push(
      `${r.fails ? '✗' : '✓'} ${r.alert} (${r.severity}, ${r.paging ? 'pages' : 'does not page'}): ${r.runbook ?? 'no runbook'}: ${verdict}`,
    );
    for (const s of r.lint?.steps ?? []) {
      out.push(
        `    ${r.runbook}:${s.line} ${MARK[s.verdict]}: ${s.text.length > 70 ? `${s.text.slice(0, 67)}...` : s.text}`,
      );
      for (const m of s.missing) out.push(`        - ${m.startsWith('vague') ? m : `missing ${m}`}`);
    }
    if (r.drills && r.drills.members.length > 0)
      out.push(
        `    drills (every ${r.cadence_days} days): ${r.drills.members
          .map(
            (m) =>
              `@${m.login} ${m.last ? `${new Date(m.last.at).toISOString().slice(0, 10)}${m.last.seconds !== null ? ` (acknowledged in ${fmtSeconds(m.last.seconds)})` : ''}${m.within ? '' : ' OVERDUE'}` : 'never'}`,
          )
          .join(', ')}`,
      );
    for (const p of r.problems) out.push(`    ${p}`);
  }
  const failing = judged.filter((r) => r.fails);
  out.push(
    failing.length
      ? `${failing.length} paging alert${failing.length === 1 ? '' : 's'} without a concrete, drilled runbook: ${failing.map((r) => r.alert).join(', ')}`
      : 'every paging alert has a concrete, drilled runbook',
  );
  return `${out.join('\n')}\n`;
}

const fmtSeconds = (s: number) =>
  s < 60 ? `${Math.round(s)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
