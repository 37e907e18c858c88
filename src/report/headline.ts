import type { Decision } from '../policy/gate/decision-schema.ts';
import { burn, pct, STATE_LABEL } from './format.ts';

const PAUSE_CODES = new Set(['soft-pause', 'hard-pause', 'exhaustion']);

/**
 * One line for a check-run title, a Slack message or a log: the state, then the facts behind it —
 * "SOFT-PAUSE — prompts/refund.md is high risk — tasks-success-paid 62% consumed at 2.1x pace".
 */
export function renderHeadline(d: Decision): string {
  return headlineParts(d).join(' — ');
}

/**
 * The headline's facts alone, for a summary whose title already states the state and the verdict
 * ("### 🔴 HARD-PAUSE — blocked"): saying them again is noise the author reads twice.
 */
export function headlineFacts(d: Decision): string | null {
  const parts = headlineParts(d).slice(1);
  if (parts.at(-1) === 'blocked' || parts.at(-1) === 'allowed') parts.pop();
  return parts.length > 0 ? parts.join(' — ') : null;
}

function headlineParts(d: Decision): string[] {
  const parts: string[] = [STATE_LABEL[d.state]];
  if (d.revert) parts.push('a revert: reverts always pass');
  else if (d.override && d.allowed)
    parts.push(`allowed by \`${d.override.label}\` (@${d.override.applied_by})`);

  const telemetry = d.reasons.find((r) => r.code === 'telemetry-error');
  if (telemetry) parts.push(`telemetry unavailable (${d.telemetry.error ?? 'no data'})`);

  const high = d.risk_files.filter((f) => f.class === 'high');
  if (d.state !== 'ship' && high.length > 0) {
    parts.push(
      high.length === 1
        ? `${high[0]!.path} is high risk`
        : `${high[0]!.path} and ${high.length - 1} more are high risk`,
    );
  } else if (d.state === 'soft-pause' && d.risk === 'low') {
    parts.push('low-risk change ships');
  }

  const pausing = d.reasons.filter((r) => PAUSE_CODES.has(r.code));
  const sloNames = [...new Set(pausing.map((r) => r.slo).filter((s): s is string => s !== null))];
  for (const name of sloNames.slice(0, 2)) {
    const slo = d.slos.find((s) => s.name === name);
    if (!slo) continue;
    const pace = slo.burn_rates['1d'] ?? Object.values(slo.burn_rates).at(-1) ?? null;
    parts.push(`${name} ${pct(slo.consumed)} consumed at ${burn(pace)} pace`);
  }
  if (sloNames.length > 2) parts.push(`${sloNames.length - 2} more SLOs paused`);

  if (parts.length === 1) {
    const ship = d.reasons.find((r) => r.code === 'ship');
    parts.push(ship ? ship.message : d.allowed ? 'allowed' : 'blocked');
  } else if (!d.allowed && !telemetry) {
    parts.push('blocked');
  }
  return parts;
}
