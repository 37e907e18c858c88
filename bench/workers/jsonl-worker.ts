// One measurement in a fresh process, so peak RSS belongs to that measurement alone.
//   node jsonl-worker.ts baseline|evaluate FILE
import { readFileSync } from 'node:fs';
import { planRequest } from '../../src/policy/gate/plan.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { DEMO_POLICY } from '../../src/scenarios/demo.ts';
import { forEachLine, openByteStream } from '../../src/telemetry/jsonl/lines.ts';
import { JsonlSource } from '../../src/telemetry/jsonl/source.ts';

const [mode, file, atIso] = process.argv.slice(2);
const t0 = performance.now();
let records = 0;
if (mode === 'baseline') {
  // The floor: read the same stream, split lines, JSON.parse each — nothing else.
  let keep = 0;
  records = await forEachLine(await openByteStream(file!), (line) => {
    const v = JSON.parse(line);
    if (v.ok) keep++;
  });
  if (keep < 0) console.log(keep);
} else {
  const { policy } = loadPolicy(readFileSync(DEMO_POLICY, 'utf8'), DEMO_POLICY);
  const request = planRequest(policy, Date.parse(atIso!), { series: 24, quantiles: true });
  const res = await new JsonlSource({ path: file! }).fetch(request);
  records = res.stats!.records!;
}
const ms = performance.now() - t0;
// What the run keeps once its garbage is gone: flat if nothing is held per record.
globalThis.gc?.();
const retainedMb = process.memoryUsage().heapUsed / 2 ** 20;
console.log(JSON.stringify({ mode, records, ms, maxRssKb: process.resourceUsage().maxRSS, retainedMb }));
