import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fencesOf } from '../../scripts/docs/fences.ts';
import { ROOT } from '../../scripts/docs/generate.ts';

// Every permission an error of the Action can ask for is listed in docs/action.md's Permissions
// table, read from the bundle the Action runs (dist/index.js), not from a list kept by hand; and
// every workflow the docs show grants what its gate needs.

const PERMISSION =
  /\b(actions|checks|contents|deployments|issues|members|metadata|pull-requests|statuses): (read|write)\b/g;
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

function permissionsSection(): string {
  const doc = read('docs/action.md');
  const from = doc.indexOf('## Permissions');
  expect(from, 'docs/action.md has a Permissions section').toBeGreaterThan(0);
  return doc.slice(from, doc.indexOf('\n## ', from + 1) === -1 ? undefined : doc.indexOf('\n## ', from + 1));
}

describe('the permissions the Action can ask for', () => {
  it('are each in the table of docs/action.md', () => {
    const named = new Set([...read('dist/index.js').matchAll(PERMISSION)].map((m) => m[0]));
    expect(named.size).toBeGreaterThan(5);
    const listed = new Set([...permissionsSection().matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]!));
    expect([...named].filter((p) => !listed.has(p)).sort()).toEqual([]);
  });

  it('are granted by every workflow the README and docs/action.md show', () => {
    const workflows = ['README.md', 'docs/action.md'].flatMap((f) =>
      fencesOf(read(f))
        .filter((b) => b.lang === 'yaml' && b.body.includes('budget-gate/budget-gate@'))
        .map((b) => ({
          where: `${f}:${b.line}`,
          doc: parse(b.body) as Record<string, unknown>,
        })),
    );
    expect(workflows.length).toBe(3);
    for (const { where, doc } of workflows) {
      const granted = doc.permissions as Record<string, string>;
      const on = doc.on as Record<string, unknown>;
      const needs: Record<string, string> = {
        contents: 'read',
        checks: 'write',
        'pull-requests': 'read',
        issues: 'read',
        ...(on.push ? { deployments: 'read' } : {}),
      };
      for (const [k, level] of Object.entries(needs))
        expect(
          ['read', 'write'].indexOf(granted[k] ?? 'none'),
          `${where}: ${k}: ${level}`,
        ).toBeGreaterThanOrEqual(['read', 'write'].indexOf(level));
    }
  });
});
