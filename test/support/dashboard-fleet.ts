import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { alertWindows, oncallView } from '../../src/dashboard/figures.ts';
import { MemoryDashboardStore, type RepoRecord } from '../../src/dashboard/memory-store.ts';
import type { EvidenceMinute, WatchView } from '../../src/dashboard/ports.ts';
import type { Decision, SloReport, State } from '../../src/policy/gate/decision-schema.ts';
import { type AuditRecord, chainRecord } from '../../src/policy/overrides/audit-chain.ts';
import type { Readiness } from '../../src/policy/readiness/verdict.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';

// A fleet for the dashboard's port, made of plain values as the bot's store would hold them:
// decisions of the Decision schema, watches with evidence minute by minute, audit records chained
// as the real log chains them, incidents with timelines. Deterministic: repository i always has
// the same figures. One repository carries hostile text everywhere a person can type.

export const FLEET_AT = Date.parse('2026-11-20T09:00:00Z');
const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLE_POLICY = loadPolicy(
  readFileSync(resolve(ROOT, 'examples/error-budget.yml'), 'utf8'),
  'examples/error-budget.yml',
).policy;

export const HOSTILE = '<img src=x onerror="window.__pwned=1">&<script>window.__pwned=2</script>';
const iso = (ms: number) => new Date(ms).toISOString();
const DAY = 86_400_000;

export const repoName = (i: number) => `acme-${i % 7}/agent-${String(i).padStart(4, '0')}`;

/** consumed at the end of the window for repository i: spread over 0..1.3 so every state occurs. */
const consumedOf = (i: number) => ((i * 37) % 131) / 100;

function slo(name: string, consumed: number, burn1d: number): SloReport {
  const series = Array.from({ length: 25 }, (_, k) => ({
    at: iso(FLEET_AT - 30 * DAY + (k * 30 * DAY) / 24),
    consumed: consumed * (k / 24) ** 1.6,
  }));
  const state: State = consumed >= 1 ? 'hard-pause' : consumed >= 0.5 && burn1d > 1 ? 'soft-pause' : 'ship';
  return {
    name,
    sli: 'success',
    target: 0.95,
    window: '30d',
    state,
    events: 20_000,
    bad: Math.round(consumed * 1000),
    budget: 1000,
    consumed,
    remaining: 1 - consumed,
    elapsed: 1,
    burn_rates: {
      '5m': burn1d * 0.5,
      '30m': burn1d * 0.8,
      '1h': burn1d * 0.9,
      '2h': burn1d,
      '6h': burn1d * 1.1,
      '1d': burn1d,
      '3d': burn1d * 0.9,
    },
    projected_exhaustion: null,
    insufficient_data: false,
    quantiles: null,
    series,
  };
}

const WORST: Record<State, number> = { ship: 0, 'soft-pause': 1, 'hard-pause': 2 };

function fakeDecision(i: number, hostile = false): Decision {
  const c = consumedOf(i);
  const burn1d = 0.5 + ((i * 13) % 40) / 10;
  const slos = [
    slo(hostile ? HOSTILE : 'tasks-success-paid', c, burn1d),
    slo('tasks-success-free', c / 2, 0.7),
  ];
  const state = slos.reduce<State>((s, x) => (WORST[x.state] > WORST[s] ? x.state : s), 'ship');
  const firing = burn1d >= 3;
  return {
    state,
    allowed: state !== 'hard-pause',
    risk: 'low',
    revert: false,
    revert_evidence: null,
    reasons: [
      {
        code: state === 'ship' ? 'ship' : state,
        rule: state === 'ship' ? null : `states.${state.replace('-', '_')}`,
        slo: slos[0]!.name,
        message: `${slos[0]!.name} has consumed ${Math.round(c * 100)}% of its 30d budget${hostile ? ` ${HOSTILE}` : ''}`,
      },
    ],
    actions: state === 'hard-pause' ? ['wait for the budget to recover, or ask for an override'] : [],
    slos,
    alerts: firing
      ? [
          {
            name: 'slow-burn',
            slo: slos[0]!.name,
            severity: 'sev3',
            action: 'ticket',
            burn_rate: 3,
            long: '1d',
            short: '2h',
            long_burn: burn1d,
            short_burn: burn1d,
            runbook: hostile ? 'javascript:alert(1)' : 'https://runbooks.example.com/agents/slow-burn',
          },
        ]
      : [],
    risk_files: [],
    override: null,
    override_refusals: [],
    telemetry: { source: 'prometheus https://prometheus.example.com', error: null },
    warnings: [],
    thresholds: { soft_pause: 0.5, hard_pause: 1 },
    evaluated_at: iso(FLEET_AT),
  };
}

function fakeWatches(i: number, hostile = false): WatchView[] {
  const deployedAt = FLEET_AT - 3 * 3_600_000;
  const evidence = (bad: boolean): EvidenceMinute[] =>
    Array.from({ length: 30 }, (_, k) => {
      const n = (k + 1) * 40;
      const center = bad ? 4 + k * 0.2 : 0.4;
      const width = 6 / Math.sqrt(k + 1);
      return {
        at: iso(deployedAt + (k + 1) * 60_000),
        before_ratio: 0.01,
        after_ratio: bad ? 0.05 + k * 0.001 : 0.011,
        after_events: n,
        after_bad: Math.round(n * (bad ? 0.05 : 0.011)),
        burn_low: Math.max(0, center - width),
        burn_high: center + width,
        line_burn: 3,
        status: bad && center - width >= 3 ? 'revert' : 'watching',
      };
    });
  const reverted = i % 3 === 0;
  return [
    {
      deployment_id: 9000 + i,
      environment: 'production',
      sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      pull_number: 41,
      pull_title: hostile ? HOSTILE : 'Rewrite the refund prompt',
      deployed_at: iso(deployedAt),
      status: reverted ? 'reverted' : 'kept',
      slo: 'tasks-success-paid',
      rule: reverted ? 'auto_revert.burn_rate' : null,
      confidence: 0.95,
      reason: reverted
        ? 'tasks-success-paid burns past the line at 95% confidence'
        : 'stayed under the lines for the whole 60m watch',
      revert_pr: reverted ? 42 : null,
      evidence: evidence(reverted),
    },
  ];
}

function audit(i: number, hostile: boolean): AuditRecord[] {
  let prev: AuditRecord | null = null;
  const out: AuditRecord[] = [];
  const entries = [
    {
      kind: 'override-applied' as const,
      label: 'override:catastrophic-event',
      reason: hostile ? HOSTILE : 'catastrophic-event',
      actor: 'sre-lead',
      author: 'dev-1',
      message: 'override:catastrophic-event applied by @sre-lead: the provider outage is not ours',
    },
    {
      kind: 'override-refused' as const,
      label: 'override:slo-wrong',
      reason: 'slo-wrong',
      actor: 'dev-1',
      author: 'dev-1',
      message: 'refused: the change\u2019s own author cannot approve it',
    },
    {
      kind: 'revert-passed' as const,
      label: 'revert',
      reason: null,
      actor: 'budget-gate[bot]',
      author: 'budget-gate[bot]',
      message: 'revert of #41 passed the hard pause',
    },
  ];
  entries.forEach((e, k) => {
    prev = chainRecord(prev, {
      ...e,
      repo: repoName(i),
      pull_request: 41 + k,
      sha: null,
      at: iso(FLEET_AT - (5 - k) * 3_600_000),
      state: 'soft-pause',
      slos: [],
      source: 'bot',
    });
    out.push(prev);
  });
  return out;
}

const READINESS: Readiness = {
  score: 3,
  verdict: 'SOFT-LAUNCH ONLY',
  gates: [
    { id: 'slos', title: 'SLOs written', passed: true, evidence: ['4 SLOs'], missing: [], why: 'w' },
    { id: 'policy', title: 'Error-budget policy', passed: true, evidence: ['states'], missing: [], why: 'w' },
    { id: 'oncall', title: 'On-call rotation', passed: true, evidence: ['3 members'], missing: [], why: 'w' },
    {
      id: 'runbooks',
      title: 'Runbooks for the top 3 alerts',
      passed: false,
      evidence: [],
      missing: ['fast-burn: no drill in 90d'],
      why: 'the person paged may have joined last week',
    },
    {
      id: 'postmortems',
      title: 'Postmortem ritual',
      passed: false,
      evidence: [],
      missing: ['no postmortem template'],
      why: 'an incident that changes nothing happens again',
    },
  ],
};

export function fakeRecord(i: number, hostile = false): RepoRecord {
  const decision = fakeDecision(i, hostile);
  return {
    repository: {
      repo: repoName(i),
      environment: 'production',
      decision,
      alert_windows: alertWindows(EXAMPLE_POLICY),
      held:
        decision.state === 'ship'
          ? []
          : [
              {
                number: 57,
                title: hostile ? HOSTILE : 'Switch the triage model',
                author: 'dev-2',
                headline: `${decision.state.toUpperCase()} — prompts/triage.md is high risk — blocked`,
                since: iso(FLEET_AT - 2 * 3_600_000),
              },
            ],
      source: decision.telemetry.source,
    },
    deployments: fakeWatches(i, hostile),
    history: {
      decisions: [
        {
          at: iso(FLEET_AT - 4 * 3_600_000),
          pull_number: 41,
          sha: 'a1b2c3d4e5f6',
          state: decision.state,
          allowed: true,
          headline: 'SHIP — allowed',
        },
        {
          at: iso(FLEET_AT - 2 * 3_600_000),
          pull_number: 57,
          sha: 'b2c3d4e5f6a7',
          state: decision.state,
          allowed: decision.state === 'ship',
          headline: hostile ? HOSTILE : 'prompts/triage.md is high risk — blocked',
        },
      ],
      audit: audit(i, hostile),
      incidents: [
        {
          id: `${repoName(i)}/tasks-success-paid/fast-burn`,
          slo: 'tasks-success-paid',
          alert: 'fast-burn',
          severity: 'sev1',
          opened_at: iso(FLEET_AT - 10 * 3_600_000),
          resolved_at: iso(FLEET_AT - 8 * 3_600_000),
          acknowledged_by: 'alice',
          issue_number: 77,
          timeline: [
            { at: iso(FLEET_AT - 10 * 3_600_000), kind: 'fired', text: '15.2x over 1h, 16.0x over 5m' },
            { at: iso(FLEET_AT - 10 * 3_600_000 + 60_000), kind: 'paged', text: 'PagerDuty: @alice' },
            { at: iso(FLEET_AT - 10 * 3_600_000 + 240_000), kind: 'acknowledged', text: '@alice' },
            { at: iso(FLEET_AT - 8 * 3_600_000), kind: 'resolved', text: 'clear for 30m' },
          ],
        },
      ],
    },
    oncall: oncallView(EXAMPLE_POLICY, FLEET_AT, READINESS),
  };
}

/** `n` repositories, the one at `hostileAt` (if any) with hostile text. */
export function fakeFleet(n: number, hostileAt: number | null = null): MemoryDashboardStore {
  return new MemoryDashboardStore(
    { deployments: true, history: true, note: null },
    Array.from({ length: n }, (_, i) => fakeRecord(i, i === hostileAt)),
  );
}
