import { parseArgs } from 'node:util';
import { assessDeployment, planCanaryRequest } from '../../policy/canary/assess.ts';
import type { CanaryWatch } from '../../policy/canary/plan.ts';
import { planReplayRequest } from '../../policy/canary/plan.ts';
import { gridResult, replayDeployment } from '../../policy/canary/replay.ts';
import type { TelemetryResult } from '../../policy/gate/sample.ts';
import type { Policy } from '../../policy/spec/schema.ts';
import { pct } from '../../report/format.ts';
import { TelemetryError } from '../../telemetry/errors.ts';
import { parseAt, readPolicy } from '../inputs.ts';
import { CliError, type CliIo, EXIT } from '../io.ts';
import { openTelemetry, SOURCE_OPTIONS } from '../telemetry.ts';

export const CANARY_USAGE = `budget-gate canary --policy FILE (--telemetry FILE | --prometheus URL) --deployed-at TIME [--at TIME | --replay] [--json]

The bot's auto-revert check for one deployment: with always-valid confidence, is it burning past
auto_revert.burn_rate or auto_revert.consumed beyond the pre-deploy baseline? Keeps watching while
the evidence is short; at the end of the watch says kept or inconclusive.
--replay judges the whole watch interval by interval as the bot would have, and prints the minute
and reason of the verdict (the first revert, or the keep at the end of the watch).
exit 0 keep, 1 it would be reverted, 2 invalid input`;

export async function canaryCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...SOURCE_OPTIONS,
      'deployed-at': { type: 'string' },
      deployment: { type: 'string', default: 'local' },
      at: { type: 'string' },
      json: { type: 'boolean' },
      replay: { type: 'boolean' },
    },
  });
  if (!values['deployed-at'])
    throw new CliError('--deployed-at TIME is required: when the deployment went live');
  const { policy } = await readPolicy(io, values.policy);
  const at = parseAt(io, values.at);
  const watch = { id: values.deployment, deployed_at: parseAt(io, values['deployed-at'], '--deployed-at') };
  if (values.replay && values.at) throw new CliError('--replay judges the whole watch: leave --at out');
  // A deployment judged before it went live has no tasks of its own: "KEEP (watching)" would be an
  // answer about nothing.
  // (--replay judges the watch the telemetry holds, whenever it ran.)
  if (!values.replay && watch.deployed_at > at)
    throw new CliError(
      `--deployed-at ${values['deployed-at']} is after ${values.at ? `--at ${values.at}` : `now (${new Date(at).toISOString()})`}: the deployment was not live yet${values.at ? '; give an --at after it' : ''}`,
    );
  const source = await openTelemetry(io, values);
  if (values.replay) return replay(io, policy, watch, source, values.json === true);
  let result: TelemetryResult;
  try {
    result = await source.fetch(planCanaryRequest(policy, [watch], at, { onset: true }));
  } catch (e) {
    if (e instanceof TelemetryError) throw new CliError(e.message);
    throw e;
  }
  const assessment = assessDeployment(policy, watch, result, at);
  if (values.json) {
    io.stdout(
      `${JSON.stringify({ deployment: watch.id, deployed_at: new Date(watch.deployed_at).toISOString(), at: new Date(at).toISOString(), ...assessment }, null, 2)}\n`,
    );
  } else {
    const w = assessment.worst;
    const head = assessment.breach
      ? `REVERT — deployment ${watch.id}: ${w!.slo} burns past the line at ${pct(policy.auto_revert.confidence)} confidence (${w!.rules.map((r) => `auto_revert.${r}`).join(', ')})${policy.auto_revert.mode === 'shadow' ? '; shadow mode: the bot would only report it' : ''}`
      : assessment.expired
        ? assessment.slos.some((s) => s.status === 'inconclusive')
          ? `KEEP (inconclusive) — deployment ${watch.id}: the ${policy.auto_revert.within} watch ended without ${pct(policy.auto_revert.confidence)} evidence either way for ${assessment.slos
              .filter((s) => s.status === 'inconclusive')
              .map((s) => s.slo)
              .join(', ')}`
          : `KEEP — deployment ${watch.id} stayed under the lines for the whole ${policy.auto_revert.within} watch`
        : `KEEP (watching) — deployment ${watch.id}: no SLO past its line at ${pct(policy.auto_revert.confidence)} confidence yet`;
    io.stdout(`${[head, ...assessment.slos.map((s) => `  • ${s.message}`)].join('\n')}\n`);
  }
  return assessment.breach ? EXIT.blocked : EXIT.allowed;
}

async function replay(
  io: CliIo,
  policy: Policy,
  watch: CanaryWatch,
  source: Awaited<ReturnType<typeof openTelemetry>>,
  json: boolean,
): Promise<number> {
  const request = planReplayRequest(policy, watch);
  let fetched: TelemetryResult;
  try {
    fetched = await source.fetch(request);
  } catch (e) {
    if (e instanceof TelemetryError) throw new CliError(e.message);
    throw e;
  }
  const grid = gridResult(request, fetched);
  if (grid === null)
    throw new CliError('--replay needs task counts: this source gives bad ratios only (recording rules)');
  const { replay: r } = replayDeployment(policy, watch, grid);
  if (json) io.stdout(`${JSON.stringify(r, null, 2)}\n`);
  else {
    const head =
      r.verdict === 'revert'
        ? `REVERT at minute ${r.minute} — deployment ${r.deployment}: ${r.slo} by auto_revert.${r.rule}${policy.auto_revert.mode === 'shadow' ? ' (shadow mode: the bot would only report it)' : ''}`
        : `KEEP (${r.outcome}) at minute ${r.minute} — deployment ${r.deployment}: no revert in the ${policy.auto_revert.within} watch`;
    io.stdout(`${[head, `  ${r.reason}`, ...r.slos.map((s) => `  • ${s.message}`)].join('\n')}\n`);
  }
  return r.verdict === 'revert' ? EXIT.blocked : EXIT.allowed;
}
