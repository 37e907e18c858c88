import { loadPolicy, PolicyError } from '../../src/policy/spec/load.ts';
import type { Policy } from '../../src/policy/spec/schema.ts';

/** A weekly Berlin rotation of three with a lead and a director on the path, PagerDuty and Slack. */
const ROTATION = `
  members: [alice, bob, carol]
  timezone: Europe/Berlin
  handoff: { every: week, day: mon, at: "09:00" }
  start: 2026-11-02
  mode: primary-secondary
  business_hours: { days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00" }
  ack: { business_hours: 5m, overnight: 15m }
  escalation:
    - { to: primary }
    - { to: secondary, wait: 10m }
    - { to: sre-lead, wait: 15m }
    - { to: director }
  severities:
    sev1: { page: always }
    sev2: { page: business_hours, unresolved_becomes: sev1 }
    sev3: { page: never, channel: "#agent-reliability", owner: acme/sre }
  notify:
    pagerduty: { routing_key_env: PD_ROUTING_KEY }
    slack: { webhook_url_env: SLACK_WEBHOOK_URL }
`;

export function oncallPolicy(oncall = ROTATION, extra = ''): Policy {
  return loadPolicy(
    `version: 1
slos:
  - { name: tasks-success, sli: { kind: success }, target: 99%, window: 7d, scope: all }
${extra}
oncall:${oncall}`,
    'oncall.yml',
  ).policy;
}

/** What lint says of the `oncall` section (none when it loads); anything but a policy error is thrown. */
export function oncallProblems(oncall: string): PolicyError['problems'] {
  try {
    oncallPolicy(oncall);
    return [];
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    return e.problems;
  }
}

/** Monday 2026-11-02 09:00 in Berlin (CET, UTC+1): alice's first shift starts. */
export const MONDAY_0900 = Date.parse('2026-11-02T08:00:00Z');
export const MIN = 60_000;
export const HOUR = 3_600_000;
