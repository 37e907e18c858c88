import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fencesOf } from '../../scripts/docs/fences.ts';
import { docFiles, ROOT } from '../../scripts/docs/generate.ts';
import { loadPolicy } from '../../src/policy/spec/load.ts';
import { policySchema } from '../../src/policy/spec/schema.ts';

// The YAML the docs show is checked as what it is: a piece of a policy loads (placed in a minimal
// policy, or in an SLO for a `source:`), and a workflow's budget-gate step uses only the inputs
// action.yml declares. So an example cannot keep a key the schema dropped or renamed.

const POLICY_KEYS = new Set(Object.keys(policySchema.shape));
const MINIMAL_SLO = { name: 'x', sli: { kind: 'success' }, target: 0.95, window: '30d', scope: 'all' };
const ACTION_INPUTS = new Set(
  Object.keys((parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: object }).inputs),
);

const yamlBlocks = docFiles().flatMap((file) =>
  fencesOf(readFileSync(join(ROOT, file), 'utf8'))
    .filter((f) => f.lang === 'yaml' || f.lang === 'yml')
    .map((f) => ({ where: `${file}:${f.line}`, body: f.body })),
);

/** Every `with:` of a step that uses the budget-gate Action, wherever it sits in the document. */
function actionSteps(doc: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(doc)) return doc.flatMap(actionSteps);
  if (doc === null || typeof doc !== 'object') return [];
  const o = doc as Record<string, unknown>;
  const mine = typeof o.uses === 'string' && o.uses.startsWith('budget-gate/budget-gate@') ? [o] : [];
  return [...mine, ...Object.values(o).flatMap(actionSteps)];
}

describe('YAML in README.md and docs/*.md', () => {
  it('finds policy pieces and workflows', () => {
    expect(yamlBlocks.length).toBeGreaterThan(5);
  });

  it.each(yamlBlocks.map((b) => [b.where, b] as const))('%s is valid for what it is', (where, b) => {
    const doc = parse(b.body) as unknown;
    const steps = actionSteps(doc);
    if (steps.length > 0) {
      for (const s of steps)
        expect(
          Object.keys((s.with as object | undefined) ?? {}).filter((k) => !ACTION_INPUTS.has(k)),
          `${where}: inputs action.yml does not declare`,
        ).toEqual([]);
      return;
    }
    const keys = Object.keys(doc as object);
    if (keys.length === 1 && keys[0] === 'source') {
      loadPolicy(JSON.stringify({ version: 1, slos: [{ ...MINIMAL_SLO, ...(doc as object) }] }), where);
      return;
    }
    if (keys.includes('groups')) return; // Prometheus alerting rules: promtool checks them (test/bot/readme-alerts.test.ts)
    expect(
      keys.filter((k) => !POLICY_KEYS.has(k)),
      `${where}: not policy keys`,
    ).toEqual([]);
    loadPolicy(JSON.stringify({ version: 1, slos: [MINIMAL_SLO], ...(doc as object) }), where);
  });
});
