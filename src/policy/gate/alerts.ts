import type { Alert } from '../spec/schema.ts';
import type { FiringAlert, SloReport } from './decision-schema.ts';

/** Multi-window multi-burn-rate: an alert fires when both its long and its short window burn at or above its rate. */
export function firingAlerts(alerts: Alert[], slos: SloReport[]): FiringAlert[] {
  const out: FiringAlert[] = [];
  for (const slo of slos) {
    if (slo.insufficient_data) continue;
    for (const a of alerts) {
      const long = slo.burn_rates[a.long.text] ?? null;
      const short = slo.burn_rates[a.short.text] ?? null;
      if (long !== null && short !== null && long >= a.burn_rate && short >= a.burn_rate) {
        out.push({
          name: a.name,
          slo: slo.name,
          severity: a.severity,
          action: a.action,
          burn_rate: a.burn_rate,
          long: a.long.text,
          short: a.short.text,
          long_burn: long,
          short_burn: short,
          runbook: a.runbook ?? null,
        });
      }
    }
  }
  return out;
}
