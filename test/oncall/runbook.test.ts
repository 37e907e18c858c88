import { describe, expect, it } from 'vitest';
import { judgeStep, lintRunbook, urlShapeProblems } from '../../src/policy/readiness/runbook.ts';
import { MISSING } from '../../src/policy/readiness/step.ts';
import { closingActions } from '../../src/policy/readiness/verdict.ts';

const TODAY = Date.parse('2026-11-20T00:00:00Z');
const DAY = 86_400_000;

describe('runbook heuristics', () => {
  it.each([
    [
      'Open https://grafana.example.com/d/x and run `sum(rate(errors[5m]))`. If it is above 2%, go to step 3.',
      [],
    ],
    ['In Grafana → Agents, click **Silence**.', []],
    // A command is its own artifact and action: no URL needed.
    ['Run `make failover`.', []],
    ['Run `kubectl -n agents rollout undo deploy/agent` (the path names the object).', []],
    ['Check https://status.openai.com: if it shows "Major Outage", run `make failover`.', []],
    ['Check the dashboard.', [MISSING.place, MISSING.action]],
    [
      'If latency at https://g.example.com/d/l is high, run `rollback.sh`.',
      [MISSING.threshold, 'vague wording: a judgement with no number'],
    ],
    [
      'Open `https://wiki.example.com/agents/oncall` and follow it.',
      ['vague wording: a link to follow is not a procedure: write the steps here'],
    ],
    [
      'Restart things if needed.',
      [
        MISSING.place,
        MISSING.action,
        MISSING.threshold,
        'vague wording: "as needed" leaves the decision to the reader',
      ],
    ],
  ])('%s', (step, missing) => {
    expect(judgeStep(step, false)).toEqual(missing);
  });

  it.each([
    'greater than 20%',
    'above 20%',
    'over 20%',
    'exceeds 20%',
    '≥ 20%',
    '>= 0.2',
    'more than 20%',
    'at least 20%',
    '20% or more',
    'at or above 20%',
  ])('reads a threshold worded "%s"', (wording) => {
    expect(judgeStep(`If the number is ${wording}, open the deploys panel.`, false)).toEqual([]);
  });

  it.each(['below 5%', 'under 5%', 'less than 5%', 'fewer than 3', 'at most 5%', '≤ 0.05', 'drops below 5%'])(
    'reads a lower bound worded "%s"',
    (wording) => {
      expect(judgeStep(`If the value is ${wording}, resolve the page in PagerDuty.`, false)).toEqual([]);
    },
  );

  it('refuses a step too long to be one step, without judging its text', () => {
    expect(judgeStep(`Run \`x\` ${'1.'.repeat(5000)}`, false)).toEqual([
      'vague wording: a step of 10008 characters is several steps: split it (at most 1200)',
    ]);
  });

  it('judges the textbook concrete runbook concrete and the link-to-follow one vague', () => {
    const textbook = [
      '# Runbook: fast burn',
      'last drilled: 2026-11-10 by @alice',
      "1. Read the panel labeled 'burn over last 60 min' — the number in the top-right.",
      '2. If the number is greater than 20%, open the deploys panel.',
      '3. Run `lav-cli rollback prompt-version --to=previous`.',
      '4. Wait 5 minutes, then recheck the panel.',
      '5. If it is still above 20%, page the secondary.',
    ].join('\n');
    const r = lintRunbook(textbook, TODAY, 90 * DAY);
    expect(r.steps.map((s) => [s.line, s.missing])).toEqual([3, 4, 5, 6, 7].map((l) => [l, []]));
    expect(r.verdict).toBe('concrete+drilled');
    const link = lintRunbook(
      'last drilled: 2026-11-10 by @alice\n1. Open `https://wiki.example.com/agents/oncall` and follow it.\n',
      TODAY,
      90 * DAY,
    );
    expect(link.verdict).toBe('vague');
    expect(link.steps[0]!.missing).toEqual([
      'vague wording: a link to follow is not a procedure: write the steps here',
    ]);
  });

  it('a fenced code block under a step is its command; checklists count as steps; the newest drill counts', () => {
    const md = [
      '# r',
      'last drilled: 2026-06-01 by @a',
      'last drilled: 2026-10-01 by @b and @c',
      '- [ ] Open dashboards/agents.json and paste:',
      '  ```',
      '  sum(rate(x[5m])) > 0.02',
      '  ```',
      '2. Investigate.',
    ].join('\n');
    const r = lintRunbook(md, TODAY, 90 * DAY);
    expect(r.steps.map((s) => [s.line, s.verdict])).toEqual([
      [4, 'concrete+drilled'],
      [8, 'vague'],
    ]);
    expect(r.last_drill).toMatchObject({ date: '2026-10-01', by: '@b and @c', line: 3 });
    expect(r.verdict).toBe('vague');
    expect(lintRunbook(md, TODAY, 30 * DAY).drilled).toBe(false);
  });

  it('reads numbered headings with their code, and bullets under a procedure heading when nothing is numbered', () => {
    const headings = [
      '# Pod crash looping',
      '## Symptoms',
      '- pods restart',
      '### 1. Find the crashing pod',
      '',
      '```bash',
      "kubectl get pods --sort-by='.status.containerStatuses[0].restartCount'",
      '```',
      '### 2. Look around',
      'Check whatever seems relevant.',
    ].join('\n');
    const h = lintRunbook(headings, TODAY, 90 * DAY);
    expect(h.steps.map((s) => [s.line, s.verdict])).toEqual([
      [4, 'concrete'],
      [9, 'vague'],
    ]);
    const bullets = [
      '# Disk full',
      '## Impact',
      '- writes fail',
      '## Mitigation',
      '- Free space with `docker system prune -af --filter until=72h`.',
      '- Check the logs.',
    ].join('\n');
    expect(lintRunbook(bullets, TODAY, 90 * DAY).steps.map((s) => [s.line, s.verdict])).toEqual([
      [5, 'concrete'],
      [6, 'vague'],
    ]);
    // Once anything is numbered, bullets are notes, not steps.
    expect(
      lintRunbook(`${bullets}\n1. Run \`df -h /data\`.`, TODAY, 90 * DAY).steps.map((s) => s.line),
    ).toEqual([7]);
  });

  it('names a malformed or future drill line and a runbook without steps', () => {
    expect(lintRunbook('Last drilled: yesterday by bob\n', TODAY, 90 * DAY).problems).toEqual([
      'a "last drilled" line is not in the form `last drilled: 2026-10-01 by @alice`',
      'no steps: write them as a numbered list (1. 2. 3.), a checklist (- [ ]), numbered headings (### 1. …) or bullets under a "Steps" heading',
    ]);
    expect(lintRunbook('last drilled: 2027-01-01 by @x\n1. a', TODAY, DAY).problems[0]).toBe(
      'line 1: drill date 2027-01-01 is in the future',
    );
  });

  it('checks a URL runbook for shape only', () => {
    expect(urlShapeProblems('https://wiki.example.com/runbooks/fast-burn')).toEqual([]);
    expect(urlShapeProblems('http://wiki.example.com/')).toEqual([
      'not https',
      'points at a site, not a page',
    ]);
  });

  it('reads what a postmortem ends in', () => {
    expect(
      closingActions(
        '# x\n## Action items\n- New runbook for slow-burn: docs/runbooks/slow-burn.md\n- Drill fast-burn monthly from 2026-12-01\n',
      ),
    ).toEqual(['new runbook', 'drill-schedule change']);
    expect(closingActions('# x\n## Action items\n- update the runbook\n')).toEqual([]);
  });
});
