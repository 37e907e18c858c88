import { evaluateChange } from '../../gate/evaluate-change.ts';
import { renderText } from '../../report/text.ts';
import { DEMO_END, DEMO_POLICY, DEMO_TELEMETRY } from '../../scenarios/demo.ts';
import { JsonlSource } from '../../telemetry/jsonl/source.ts';
import { localChangeFacts } from '../change-facts.ts';
import { readPolicy } from '../inputs.ts';
import { type CliIo, EXIT } from '../io.ts';

const CHANGES = [
  { title: 'A prompt rewrite', files: ['prompts/refund.md', 'src/agent/tools.ts'] },
  { title: 'A UI fix', files: ['src/ui/banner.tsx'] },
];

/** The bundled example, end to end: two changes gated against a month of rising failures. */
export async function demoCommand(_argv: string[], io: CliIo): Promise<number> {
  const loaded = await readPolicy(io, DEMO_POLICY);
  // Named as the README names it: the footer should not print a path on this machine.
  const source = new JsonlSource({ path: DEMO_TELEMETRY, label: 'examples/telemetry/demo.jsonl.gz' });
  const at = Date.parse(DEMO_END);
  io.stdout(
    `budget-gate demo — policy examples/error-budget.yml, telemetry examples/telemetry/demo.jsonl.gz, at ${DEMO_END}\n`,
  );
  for (const c of CHANGES) {
    const { decision } = await evaluateChange({
      loaded,
      at,
      source,
      facts: localChangeFacts({
        files: c.files,
        labels: [],
        author: null,
        last_push_at: null,
        title: c.title,
      }),
      audit: null,
      repo: null,
      origin: 'cli',
    });
    io.stdout(`\n━━ ${c.title}: ${c.files.join(', ')} ━━\n\n${renderText(decision)}`);
  }
  io.stdout(
    `\nTry it yourself:\n  budget-gate evaluate --policy examples/error-budget.yml --telemetry examples/telemetry/demo.jsonl.gz --at ${DEMO_END} --changed-files - --json\n  budget-gate simulate --scenario on-fire\n\nSee it in the browser (budgets, burn, alerts, on-call; http://127.0.0.1:8484/):\n  budget-gate dashboard --policy examples/error-budget.yml --telemetry examples/telemetry/demo.jsonl.gz --at ${DEMO_END}\n`,
  );
  return EXIT.allowed;
}
