import { z } from 'zod';
import type { Alert, Policy, Slo } from './schema.ts';

// A change to the policy file is a change the gate judges, and it cannot classify itself: this
// compares the policy in force (what the change cannot edit) with the change's copy and lists
// every key that is not provably tighter. "Provably tighter" is deliberately narrow: a line moved
// in the stricter direction, an approver removed, a rule raised; anything else — a query rewritten,
// a window changed, rules reordered — may loosen, so it counts as loosening.

export const looseningSchema = z.strictObject({
  /** The policy key, as a path: `states.hard_pause.consumed`, `slos[tasks-success-paid].target`. */
  key: z.string(),
  /** The value in force and the change's value, as a person reads them. */
  from: z.string(),
  to: z.string(),
});
export type Loosening = z.output<typeof looseningSchema>;

/** What the change does to the file: its copy loaded, deleted, or unreadable (with the problems). */
export type ProposedPolicy =
  | { kind: 'ok'; policy: Policy }
  | { kind: 'deleted' }
  | { kind: 'invalid'; message: string };

const show = (v: unknown): string => {
  if (v === undefined) return '(unset)';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
};

class Collector {
  readonly out: Loosening[] = [];
  add(key: string, from: unknown, to: unknown): void {
    this.out.push({ key, from: show(from), to: show(to) });
  }
  /** Any difference loosens (nothing about this key is provably tighter). */
  same(key: string, a: unknown, b: unknown): void {
    if (JSON.stringify(a) !== JSON.stringify(b)) this.add(key, a, b);
  }
  /** Loosens when the number goes up (a line raised, a threshold relaxed). */
  notAbove(key: string, a: number, b: number): void {
    if (b > a) this.add(key, a, b);
  }
  notBelow(key: string, a: number, b: number): void {
    if (b < a) this.add(key, a, b);
  }
  /** A boolean that protects when true. */
  keptOn(key: string, a: boolean, b: boolean): void {
    if (a && !b) this.add(key, a, b);
  }
}

/** Every way `proposed` is not provably at least as strict as `inForce`; empty when it is. */
export function loosenings(inForce: Policy, proposed: ProposedPolicy): Loosening[] {
  if (proposed.kind === 'deleted') return [{ key: '(file)', from: 'the policy', to: 'deleted' }];
  if (proposed.kind === 'invalid')
    return [{ key: '(file)', from: 'a valid policy', to: `invalid: ${proposed.message}` }];
  const a = inForce;
  const b = proposed.policy;
  const c = new Collector();
  c.same('version', a.version, b.version);
  compareSlos(c, a, b);
  compareStates(c, a, b);
  compareRisk(c, a, b);
  compareOverrides(c, a, b);
  compareAutoRevert(c, a, b);
  compareAlerts(c, a.alerts, b.alerts);
  // The rotation decides who is paged during the pause; nothing in it is provably tighter.
  c.same('oncall', a.oncall, b.oncall);
  for (const env of a.environments) {
    if (!b.environments.includes(env))
      c.add('environments', a.environments.join(', '), b.environments.join(', ') || '(none)');
  }
  return dedupe(c.out);
}

function dedupe(list: Loosening[]): Loosening[] {
  const seen = new Set<string>();
  return list.filter((l) => {
    const k = `${l.key}\0${l.from}\0${l.to}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function compareSlos(c: Collector, a: Policy, b: Policy): void {
  for (const s of a.slos) {
    const key = `slos[${s.name}]`;
    const t = b.slos.find((x) => x.name === s.name);
    if (!t) {
      c.add(key, `${s.name} (target ${s.target})`, 'removed');
      continue;
    }
    compareSli(c, key, s, t);
    c.notBelow(`${key}.target`, s.target, t.target);
    c.same(`${key}.window`, s.window, t.window);
    c.same(`${key}.scope`, s.scope, t.scope);
    c.same(`${key}.min_events`, s.min_events ?? a.states.min_events, t.min_events ?? b.states.min_events);
    c.same(`${key}.source`, s.source, t.source);
  }
}

function compareSli(c: Collector, key: string, s: Slo, t: Slo): void {
  if (s.sli.kind !== t.sli.kind) {
    c.add(`${key}.sli`, s.sli, t.sli);
    return;
  }
  if (s.sli.kind === 'latency' && t.sli.kind === 'latency')
    c.notAbove(`${key}.sli.threshold_ms`, s.sli.threshold_ms, t.sli.threshold_ms);
  if (s.sli.kind === 'cost' && t.sli.kind === 'cost')
    c.notAbove(`${key}.sli.threshold_usd`, s.sli.threshold_usd, t.sli.threshold_usd);
}

function compareStates(c: Collector, a: Policy, b: Policy): void {
  const [x, y] = [a.states, b.states];
  c.notAbove('states.hard_pause.consumed', x.hard_pause.consumed, y.hard_pause.consumed);
  // A longer projection horizon hard-pauses earlier; dropping it removes the rule.
  const ex = x.hard_pause.exhaustion_within;
  const ey = y.hard_pause.exhaustion_within;
  if (ex && (!ey || ey.ms < ex.ms)) c.add('states.hard_pause.exhaustion_within', ex, ey);
  c.notAbove('states.soft_pause.consumed', x.soft_pause.consumed, y.soft_pause.consumed);
  c.notAbove('states.soft_pause.pace_factor', x.soft_pause.pace_factor, y.soft_pause.pace_factor);
  c.same('states.soft_pause.pace_lookback', x.soft_pause.pace_lookback, y.soft_pause.pace_lookback);
  c.same('states.min_events', x.min_events, y.min_events);
  if (y.on_telemetry_error !== x.on_telemetry_error && y.on_telemetry_error !== 'block')
    c.add('states.on_telemetry_error', x.on_telemetry_error, y.on_telemetry_error);
  // Unset holds high-risk changes only: `block` holds more, `allow` fewer.
  const gap = (v: 'allow' | 'block' | undefined) => (v === 'block' ? 2 : v === undefined ? 1 : 0);
  if (gap(y.on_insufficient_data) < gap(x.on_insufficient_data))
    c.add('states.on_insufficient_data', x.on_insufficient_data, y.on_insufficient_data);
}

type Rule = Policy['risk']['rules'][number];
const samePaths = (r: Rule, s: Rule) =>
  JSON.stringify([...r.paths].sort()) === JSON.stringify([...s.paths].sort());
const rank = (cls: 'high' | 'low') => (cls === 'high' ? 1 : 0);
const ruleText = (r: Rule) => `${r.paths.join(', ')} → ${r.class}`;

/**
 * First match wins, so the new rules are provably at least as strict when they are the old ones
 * after only these edits: a rule's class raised, a low rule dropped (its paths fall to later rules
 * or the default, never below low), a high rule inserted anywhere. Each edit alone never lowers a
 * path's class, so neither does any sequence of them; the search tries every alignment.
 */
export function rulesProvablyTighter(a: readonly Rule[], b: readonly Rule[]): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    if (i === a.length && j === b.length) return true;
    const k = i * (b.length + 1) + j;
    const hit = memo.get(k);
    if (hit !== undefined) return hit;
    const ok =
      (i < a.length && a[i]!.class === 'low' && go(i + 1, j)) ||
      (j < b.length && b[j]!.class === 'high' && go(i, j + 1)) ||
      (i < a.length &&
        j < b.length &&
        samePaths(a[i]!, b[j]!) &&
        rank(b[j]!.class) >= rank(a[i]!.class) &&
        go(i + 1, j + 1));
    memo.set(k, ok);
    return ok;
  };
  return go(0, 0);
}

function compareRisk(c: Collector, a: Policy, b: Policy): void {
  if (rank(b.risk.default) < rank(a.risk.default)) c.add('risk.default', a.risk.default, b.risk.default);
  if (rulesProvablyTighter(a.risk.rules, b.risk.rules)) return;
  let named = false;
  a.risk.rules.forEach((r, i) => {
    if (r.class !== 'high') return;
    const kept = b.risk.rules.find((s) => samePaths(r, s));
    if (kept?.class !== 'high') {
      c.add(`risk.rules[${i}]`, ruleText(r), kept ? ruleText(kept) : 'removed');
      named = true;
    }
  });
  // Every high rule is still there: a new low rule or a new order lets some path match lower first.
  if (!named)
    c.add(
      'risk.rules',
      a.risk.rules.map(ruleText).join('; ') || '(none)',
      `${b.risk.rules.map(ruleText).join('; ') || '(none)'} (reordered, or a rule that can match first at a lower class)`,
    );
}

const PERMISSION_RANK = { read: 0, triage: 1, write: 2, maintain: 3, admin: 4 } as const;

function compareOverrides(c: Collector, a: Policy, b: Policy): void {
  const [x, y] = [a.overrides, b.overrides];
  const added = y.reasons.filter((r) => !x.reasons.includes(r));
  if (added.length) c.add('overrides.reasons', x.reasons.join(', '), y.reasons.join(', '));
  const lower = (l: string[]) => new Set(l.map((s) => s.toLowerCase()));
  const users = lower(x.approvers.users);
  const newUsers = y.approvers.users.filter((u) => !users.has(u.toLowerCase()));
  if (newUsers.length)
    c.add(
      'overrides.approvers.users',
      x.approvers.users.join(', ') || '(none)',
      y.approvers.users.join(', '),
    );
  const teams = lower(x.approvers.teams);
  const newTeams = y.approvers.teams.filter((t) => !teams.has(t.toLowerCase()));
  if (newTeams.length)
    c.add(
      'overrides.approvers.teams',
      x.approvers.teams.join(', ') || '(none)',
      y.approvers.teams.join(', '),
    );
  const pa = x.approvers.min_permission;
  const pb = y.approvers.min_permission;
  // Unset names nobody by permission; a lower minimum admits more people.
  if (pb !== undefined && (pa === undefined || PERMISSION_RANK[pb] < PERMISSION_RANK[pa]))
    c.add('overrides.approvers.min_permission', pa, pb);
  if (y.expires_after.ms > x.expires_after.ms)
    c.add('overrides.expires_after', x.expires_after, y.expires_after);
  c.same('overrides.audit.branch', x.audit.branch, y.audit.branch);
  c.same('overrides.audit.path', x.audit.path, y.audit.path);
}

function compareAutoRevert(c: Collector, a: Policy, b: Policy): void {
  const [x, y] = [a.auto_revert, b.auto_revert];
  const k = (s: string) => `auto_revert.${s}`;
  c.keptOn(k('enabled'), x.enabled, y.enabled);
  if (x.mode === 'enforce' && y.mode !== 'enforce') c.add(k('mode'), x.mode, y.mode);
  // Its revert pull requests pass every pause: naming another app hands that pass to it.
  c.same(k('app'), x.app, y.app);
  c.notAbove(k('consumed'), x.consumed, y.consumed);
  // A shorter watch stops looking sooner.
  if (y.within.ms < x.within.ms) c.add(k('within'), x.within, y.within);
  if (y.interval.ms > x.interval.ms) c.add(k('interval'), x.interval, y.interval);
  c.same(k('baseline'), x.baseline, y.baseline);
  c.keptOn(k('projected'), x.projected, y.projected);
  c.notAbove(k('min_events'), x.min_events, y.min_events);
  if (x.merge === 'auto' && y.merge !== 'auto') c.add(k('merge'), x.merge, y.merge);
  c.notAbove(k('confidence'), x.confidence, y.confidence);
  c.notAbove(k('burn_rate'), x.burn_rate, y.burn_rate);
  c.same(k('recent'), x.recent, y.recent);
}

const SEVERITY_RANK = { sev1: 2, sev2: 1, sev3: 0 } as const;

function compareAlerts(c: Collector, a: readonly Alert[], b: readonly Alert[]): void {
  for (const al of a) {
    const key = `alerts[${al.name}]`;
    const bl = b.find((x) => x.name === al.name);
    if (!bl) {
      c.add(key, `${al.name} (${al.severity}, ${al.burn_rate}x over ${al.long}/${al.short})`, 'removed');
      continue;
    }
    if (SEVERITY_RANK[bl.severity] < SEVERITY_RANK[al.severity])
      c.add(`${key}.severity`, al.severity, bl.severity);
    c.notAbove(`${key}.burn_rate`, al.burn_rate, bl.burn_rate);
    c.same(`${key}.long`, al.long, bl.long);
    c.same(`${key}.short`, al.short, bl.short);
    if (al.action === 'page' && bl.action !== 'page') c.add(`${key}.action`, al.action, bl.action);
  }
}
