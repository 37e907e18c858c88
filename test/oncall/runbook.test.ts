import { describe, expect, it } from 'vitest';
import { judgeStep, lintRunbook, urlShapeProblems } from '../../src/policy/readiness/runbook.ts';
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
    ['Run `make failover`.', ['the exact place to look: a URL or a path']],
    ['Run `kubectl -n agents rollout undo deploy/agent` (the path names the object).', []],
    ['Check https://status.openai.com: if it shows "Major Outage", run `make failover`.', []],
    [
      'Check the dashboard.',
      [
        'the exact place to look: a URL or a path',
        'the exact query, command or button: put it in `code` or name the **button**',
        'the threshold that decides the next step: a number with a comparison ("above 2%") or an exact state (shows "Major Outage")',
      ],
    ],
    [
      'If latency at https://g.example.com/d/l is high, run `rollback.sh`.',
      [
        'the threshold that decides the next step: a number with a comparison ("above 2%") or an exact state (shows "Major Outage")',
        'vague wording: a judgement with no number',
      ],
    ],
  ])('%s', (step, missing) => {
    expect(judgeStep(step, false)).toEqual(missing);
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

  it('names a malformed or future drill line and a runbook without steps', () => {
    expect(lintRunbook('Last drilled: yesterday by bob\n', TODAY, 90 * DAY).problems).toEqual([
      'a "last drilled" line is not in the form `last drilled: 2026-10-01 by @alice`',
      'no steps: write them as a numbered list (1. 2. 3.) or a checklist (- [ ])',
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
