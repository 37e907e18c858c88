import { z } from 'zod';
import { primaries } from '../oncall/drill.ts';
import { escalationPath, rotationOf, shiftAt } from '../oncall/rotation.ts';
import { everyone } from '../oncall/schedule.ts';
import { loadPolicy, PolicyError } from '../spec/load.ts';
import { judgeRunbooks, type RepoReader, readDrills, topAlerts } from './runbook-policy.ts';

// Is this repository ready for unattended production traffic? Five gates, each judged from files in
// the repository (never from a claim), each failed one saying what is missing and why it matters.
// Pure: the caller supplies a reader and a directory lister over the repository.

export interface RepoFiles {
  read: RepoReader;
  /** File names (not paths) in a directory, or null when there is none. */
  list: (dir: string) => string[] | null;
}

const gateSchema = z.object({
  id: z.enum(['slos', 'policy', 'oncall', 'runbooks', 'postmortems']),
  title: z.string(),
  passed: z.boolean(),
  /** What was found. */
  evidence: z.array(z.string()),
  /** What is missing (empty when passed). */
  missing: z.array(z.string()),
  why: z.string(),
});
type Gate = z.output<typeof gateSchema>;

const verdictSchema = z.enum(['NOT YET', 'SOFT-LAUNCH ONLY', 'PRODUCTION-READY']);
type Verdict = z.output<typeof verdictSchema>;

/**
 * What readiness knows beyond the files, gathered by the caller (src/cli/commands/readiness.ts):
 * whether the members are real GitHub users (or team members), acknowledgements from the bot's
 * store, and how often each alert fired. Null parts were not available, and the verdict says so.
 */
export interface ReadinessEvidence {
  /** Per member: resolved, or why not; or one sentence why nobody could be checked. */
  members: Array<{ login: string; ok: boolean; why: string }> | string;
  /** Acknowledged pages (beyond drill records, which are read from the repository). */
  acks: Array<{ at: number; by: string; source: string }>;
  /** How many times each alert fired, and where that was read; null: no history given. */
  firing: { counts: Record<string, number>; source: string } | null;
  /** How recent an acknowledgement must be. */
  ackWithinMs: number;
}

const NO_EVIDENCE: ReadinessEvidence = {
  members:
    'no GitHub token was given (GITHUB_TOKEN), so nobody checked that the members are real GitHub users',
  acks: [],
  firing: null,
  ackWithinMs: 28 * 86_400_000,
};

/** The verdict as the bot stores it and the dashboard reads it back. */
export const readinessSchema = z.object({
  score: z.number(),
  verdict: verdictSchema,
  gates: z.array(gateSchema),
});
export type Readiness = z.output<typeof readinessSchema>;

const WHY = {
  slos: 'without a written target nobody can say whether the agents are good enough, so every other gate has nothing to measure against',
  policy:
    'without agreed consequences the budget is a number nobody acts on: the freeze starts as an argument during the incident',
  oncall:
    'unattended traffic needs a person who is woken: without a live rotation and a path to page, a burn at 3 a.m. runs until someone looks',
  runbooks:
    'the person paged may have joined last week: a concrete, rehearsed runbook is the difference between minutes and hours of burn',
  postmortems:
    'an incident that changes no runbook and no drill will happen again the same way: the ritual is how the loop closes',
} as const;

function verdictFor(score: number): Verdict {
  return score >= 5 ? 'PRODUCTION-READY' : score >= 3 ? 'SOFT-LAUNCH ONLY' : 'NOT YET';
}

export function assessReadiness(
  files: RepoFiles,
  policyPath: string,
  now: number,
  ev: ReadinessEvidence = NO_EVIDENCE,
): Readiness {
  const text = files.read(policyPath);
  const gates: Gate[] = [];
  let policy = null;
  let loadError: string | null = null;
  if (text !== null) {
    try {
      policy = loadPolicy(text, policyPath).policy;
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      loadError = e.problems
        .slice(0, 3)
        .map((p) => `${p.path || p.file}: ${p.message}`)
        .join('; ');
    }
  }

  // 1. SLOs
  gates.push(
    policy
      ? gate(
          'slos',
          'Written SLOs',
          true,
          [
            `${policy.slos.length} SLO(s) in ${policyPath}: ${policy.slos.map((s) => `${s.name} ${(s.target * 100).toPrecision(4).replace(/\.?0+$/, '')}% over ${s.window.spec}`).join(', ')}`,
          ],
          [],
        )
      : gate(
          'slos',
          'Written SLOs',
          false,
          [],
          [text === null ? `no policy at ${policyPath}` : `${policyPath} does not load: ${loadError}`],
        ),
  );

  // 2. The error-budget policy: consequences written down and someone who can grant an exception.
  {
    const missing: string[] = [];
    const evidence: string[] = [];
    if (!policy) missing.push('a policy that loads (see the SLO gate)');
    else {
      if (/^states\s*:/m.test(text!))
        evidence.push(
          `states: soft pause at ${policy.states.soft_pause.consumed * 100}% consumed, hard pause at ${policy.states.hard_pause.consumed * 100}%`,
        );
      else
        missing.push(
          'a `states` section: the budget levels at which rollouts pause, agreed and written, not left to defaults nobody read',
        );
      const a = policy.overrides.approvers;
      const who = [
        ...a.users.map((u) => `@${u}`),
        ...a.teams,
        ...(a.min_permission ? [`${a.min_permission}+`] : []),
      ];
      if (who.length)
        evidence.push(
          `exceptions approved by ${who.join(', ')}, reasons ${policy.overrides.reasons.join(', ')}`,
        );
      else missing.push('overrides.approvers: who may let a change through a pause (nobody is named)');
    }
    gates.push(gate('policy', 'Error-budget policy', missing.length === 0, evidence, missing));
  }

  // 3. A live on-call rotation that can reach someone.
  {
    const missing: string[] = [];
    const evidence: string[] = [];
    const r = policy ? rotationOf(policy.oncall) : null;
    if (!policy) missing.push('a policy that loads');
    else if (!r) missing.push('oncall.members, handoff and start: a rotation, not a list of reviewers');
    else {
      const s = shiftAt(r, now);
      if (s.index < 0) missing.push(`the rotation starts ${policy.oncall.start}: it is not live yet`);
      const path = escalationPath(policy.oncall, now);
      evidence.push(
        `${everyone(r).length} member(s), ${r.every === 'day' ? 'daily' : 'weekly'} handoff in ${r.zone}${r.layers?.length ? ` and ${r.layers.length} layer(s)` : ''}; primary now @${s.primary}${s.secondary ? `, secondary @${s.secondary}` : ' (primary-only: valid for a small team, and said so)'}`,
      );
      if (path.length < 2)
        missing.push(
          'an escalation step beyond the primary: nobody is asked when the primary does not answer',
        );
      else evidence.push(`escalation: ${path.map((p) => `@${p.login}`).join(' → ')}`);
      const n = policy.oncall.notify;
      if (!n.pagerduty && !n.slack)
        missing.push('oncall.notify: PagerDuty or Slack, so a page reaches the rotation');
      else
        evidence.push(
          `pages via ${[n.pagerduty && `PagerDuty (${n.pagerduty.routing_key_env})`, n.slack && `Slack (${n.slack.webhook_url_env})`].filter(Boolean).join(' and ')}`,
        );
      // Evidence, not the config's word: the people exist, and someone answered a page lately.
      const people = primaries(policy.oncall);
      if (typeof ev.members === 'string') missing.push(`members unverified: ${ev.members}`);
      else {
        const bad = ev.members.filter((m) => !m.ok);
        for (const m of bad) missing.push(`@${m.login} unverified: ${m.why}`);
        const good = ev.members.filter((m) => m.ok);
        if (good.length) evidence.push(`${good.map((m) => `@${m.login}`).join(', ')}: ${good[0]!.why}`);
      }
      const drilled = readDrills(policy, files)
        .records.filter((d) => d.record.acknowledged)
        .map((d) => ({
          at: Date.parse(d.record.acknowledged!.at),
          by: d.record.acknowledged!.by,
          source: d.file,
        }));
      const recent = [...ev.acks, ...drilled]
        .filter((a) => a.at <= now && now - a.at <= ev.ackWithinMs)
        .sort((a, b) => b.at - a.at);
      const days = Math.round(ev.ackWithinMs / 86_400_000);
      if (recent[0])
        evidence.push(
          `${recent.length} acknowledgement(s) in the last ${days} days, the latest by ${recent[0].by} on ${new Date(recent[0].at).toISOString().slice(0, 10)} (${recent[0].source})`,
        );
      else
        missing.push(
          `an acknowledged page in the last ${days} days: none in the drill records${ev.acks.length ? '' : ' (and no bot store was given: --store)'}, so nobody has shown the pages reach ${people.map((p) => `@${p}`).join(', ')}`,
        );
    }
    gates.push(gate('oncall', 'Live on-call rotation', missing.length === 0, evidence, missing));
  }

  // 4. Runbooks for the top three alerts, concrete and drilled.
  {
    const missing: string[] = [];
    const evidence: string[] = [];
    if (!policy) missing.push('a policy that loads');
    else {
      const topList = topAlerts(policy, 3, ev.firing?.counts ?? null);
      const top = new Set(topList.map((a) => a.name));
      evidence.push(
        ev.firing
          ? `top alerts by how often they fired (${ev.firing.source}): ${topList.map((a) => `${a.name} ${ev.firing!.counts[a.name] ?? 0}×`).join(', ')}`
          : `top alerts by severity: no firing history was given (--store, the bot's; or --ledger, oncall page's)`,
      );
      for (const r of judgeRunbooks(policy, files, now).filter((r) => top.has(r.alert))) {
        if (r.verdict === 'concrete+drilled')
          evidence.push(
            `${r.alert} (${r.severity}): ${r.runbook}, concrete and drilled by ${r.drills?.members.map((m) => `@${m.login} ${new Date(m.last!.at).toISOString().slice(0, 10)}`).join(', ')}`,
          );
        else {
          const vague = r.lint?.steps.filter((s) => s.verdict === 'vague').map((s) => s.line) ?? [];
          missing.push(
            `${r.alert} (${r.severity}): ${r.runbook ?? 'no runbook'} is ${r.verdict}${vague.length ? ` (vague steps on lines ${vague.join(', ')})` : ''}${r.problems.length ? `; ${r.problems.join('; ')}` : ''}`,
          );
        }
      }
    }
    gates.push(
      gate('runbooks', 'Runbooks for the top 3 alerts', missing.length === 0 && !!policy, evidence, missing),
    );
  }

  // 5. The postmortem ritual: a template, and postmortems that change a runbook or a drill.
  {
    const missing: string[] = [];
    const evidence: string[] = [];
    const pm = policy?.oncall.postmortems ?? { dir: 'postmortems', template: undefined };
    const templatePath = pm.template ?? `${pm.dir}/TEMPLATE.md`;
    if (files.read(templatePath) === null) missing.push(`a postmortem template at ${templatePath}`);
    else evidence.push(`template ${templatePath}`);
    const names = (files.list(pm.dir) ?? []).filter(
      (f) => f.endsWith('.md') && `${pm.dir}/${f}` !== templatePath && !/^(readme|template)/i.test(f),
    );
    if (names.length === 0) missing.push(`postmortems in ${pm.dir}/: none written yet`);
    for (const f of names.sort()) {
      const closes = closingActions(files.read(`${pm.dir}/${f}`) ?? '');
      if (closes.length) evidence.push(`${pm.dir}/${f} ends in: ${closes.join(', ')}`);
      else missing.push(`${pm.dir}/${f} ends in no runbook change, new runbook or drill-schedule change`);
    }
    gates.push(gate('postmortems', 'Postmortem ritual', missing.length === 0, evidence, missing));
  }

  const score = gates.filter((g) => g.passed).length;
  return { score, verdict: verdictFor(score), gates };
}

function gate(id: Gate['id'], title: string, passed: boolean, evidence: string[], missing: string[]): Gate {
  return { id, title, passed, evidence, missing, why: WHY[id] };
}

/**
 * What a postmortem's action items (or its last section) commit to: an item naming a runbook with a
 * path or link is a runbook change or a new runbook; one naming a drill with a date or cadence is a
 * drill-schedule change.
 */
export function closingActions(markdown: string): string[] {
  const m = /^#{1,6}\s*(?:action items|follow[- ]?ups?|actions)\b.*$/im.exec(markdown);
  const tail = m ? markdown.slice(m.index) : (markdown.split(/^#{1,6}\s/m).pop() ?? '');
  const found = new Set<string>();
  for (const line of tail.split('\n')) {
    if (!/^\s*(?:[-*+]|\d+[.)])\s/.test(line)) continue;
    const hasRef = /https?:\/\/\S+|[\w.-]+\/[\w./-]+\.md|#\d+/.test(line);
    if (/\bnew runbook\b/i.test(line) && hasRef) found.add('new runbook');
    else if (/\brunbook\b/i.test(line) && hasRef) found.add('runbook change');
    if (
      /\bdrill/i.test(line) &&
      /\d{4}-\d{2}-\d{2}|\b\d+\s*(?:d|days?|weeks?|w)\b|monthly|weekly|quarterly|drill_every/i.test(line)
    )
      found.add('drill-schedule change');
  }
  return [...found];
}

export function renderReadiness(r: Readiness): string {
  const out = [`## Readiness: ${r.verdict} (${r.score}/5 gates)`, ''];
  for (const g of r.gates) {
    out.push(`${g.passed ? '✅' : '❌'} **${g.title}**`);
    for (const e of g.evidence) out.push(`  - ${e}`);
    for (const m of g.missing) out.push(`  - missing: ${m}`);
    if (!g.passed) out.push(`  - why it matters: ${g.why}`);
  }
  out.push('', '0–2 gates: NOT YET · 3–4: SOFT-LAUNCH ONLY · 5: PRODUCTION-READY');
  return `${out.join('\n')}\n`;
}
