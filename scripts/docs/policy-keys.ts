import { z } from 'zod';
import { policySchema } from '../../src/policy/spec/schema.ts';
import { markdownTable } from './markdown.ts';

// The policy reference's key tables, generated from the zod schema the loader enforces
// (src/policy/spec/schema.ts, src/policy/oncall/schema.ts), so docs/policy.md cannot drift from it:
// every key, its type, its default and its meaning (the schema's `.describe()`). A key with no
// description is an error here, so a new key cannot ship undocumented.

/** A JSON Schema node as z.toJSONSchema writes it, plus the `doc*` metadata the policy schema adds. */
interface Node {
  type?: string | string[];
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, Node>;
  required?: string[];
  additionalProperties?: Node | boolean;
  items?: Node;
  prefixItems?: Node[];
  anyOf?: Node[];
  oneOf?: Node[];
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  /** How the value is written when the JSON type says too little ("duration 1m–366d"). */
  docType?: string;
  /** What an absent key means when there is no literal default, or the default is too long to show. */
  docDefault?: string;
}

interface Row {
  key: string;
  type: string;
  default: string;
  meaning: string;
}

const code = (v: unknown): string => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

function members(n: Node): Node[] | undefined {
  return n.anyOf ?? n.oneOf;
}

/** An object whose keys get rows of their own: it has properties and no description of its own. */
const isRecursed = (n: Node): boolean =>
  n.type === 'object' && n.properties !== undefined && n.description === undefined;

function typeOf(n: Node): string {
  if (n.docType) return n.docType;
  if (n.const !== undefined) return code(n.const);
  if (n.enum) return n.enum.map(code).join(' | ');
  const alternatives = members(n);
  if (alternatives) {
    const shown = [...new Set(alternatives.map(typeOf))];
    return shown.join(' or ');
  }
  switch (n.type) {
    case 'array':
      if (n.prefixItems) return `[${n.prefixItems.map(typeOf).join(', ')}]`;
      if (!n.items) return 'list';
      if (isRecursed(n.items)) return 'list';
      return `list of ${n.items.type === 'string' && !n.items.docType ? 'strings' : typeOf(n.items)}`;
    case 'object':
      if (n.properties) return `{${Object.keys(n.properties).join(', ')}}`;
      return 'map';
    case 'integer':
    case 'number': {
      const word = n.type === 'integer' ? 'integer' : 'number';
      const low =
        n.exclusiveMinimum !== undefined
          ? ` > ${n.exclusiveMinimum}`
          : n.minimum !== undefined && n.minimum > Number.MIN_SAFE_INTEGER
            ? ` ≥ ${n.minimum}`
            : '';
      const high =
        n.exclusiveMaximum !== undefined
          ? `, < ${n.exclusiveMaximum}`
          : n.maximum !== undefined && n.maximum < Number.MAX_SAFE_INTEGER
            ? `, ≤ ${n.maximum}`
            : '';
      return `${word}${low}${high}`;
    }
    case undefined:
      return 'any';
    default:
      return Array.isArray(n.type) ? n.type.join(' or ') : n.type;
  }
}

function defaultOf(n: Node, required: boolean): string {
  if (n.docDefault !== undefined) return n.docDefault;
  if (required) return 'required';
  if (n.default === undefined) return 'unset';
  const v = n.default;
  if (Array.isArray(v)) return v.length === 0 ? '`[]`' : v.map(code).join(', ');
  if (typeof v === 'object' && v !== null && Object.keys(v).length === 0) return '—';
  return code(v);
}

function walk(n: Node, key: string, required: boolean, rows: Row[]): void {
  if (isRecursed(n)) {
    for (const [k, child] of Object.entries(n.properties!))
      walk(child, `${key}.${k}`, n.required?.includes(k) ?? false, rows);
    return;
  }
  if (n.description === undefined)
    throw new Error(
      `policy key ${key} has no description: add .describe('…') to it in the schema (src/policy/spec/schema.ts or src/policy/oncall/schema.ts)`,
    );
  rows.push({ key: code(key), type: typeOf(n), default: defaultOf(n, required), meaning: n.description });
  if (n.type === 'array' && n.items && isRecursed(n.items))
    for (const [k, child] of Object.entries(n.items.properties!))
      walk(child, `${key}[].${k}`, n.items.required?.includes(k) ?? false, rows);
}

/**
 * The generated block of docs/policy.md: every top-level key in one table, then a table per section
 * that has keys of its own (`states`, `slos[]`, …), in the schema's order.
 */
export function policyKeysMarkdown(): string {
  const root = z.toJSONSchema(policySchema, { io: 'input', unrepresentable: 'any' }) as Node;
  const header = ['key', 'type', 'default', 'meaning'];
  const table = (rows: Row[]) =>
    markdownTable(
      header,
      rows.map((r) => [r.key, r.type, r.default, r.meaning]),
    );
  const top: Row[] = [];
  const sections: string[] = [];
  for (const [key, n] of Object.entries(root.properties!)) {
    const required = root.required?.includes(key) ?? false;
    if (n.description === undefined)
      throw new Error(`policy section ${key} has no description: add .describe('…') to it in the schema`);
    const inner = n.type === 'array' ? n.items : n;
    const sectioned = inner?.type === 'object' && inner.properties !== undefined;
    const prefix = n.type === 'array' ? `${key}[]` : key;
    top.push({
      // The heading `slos[]` has the anchor #slos.
      key: sectioned ? `[${code(prefix)}](#${key})` : code(key),
      type: sectioned && n.type === 'object' ? 'object' : typeOf(n),
      default: sectioned && n.type === 'object' ? 'per key' : defaultOf(n, required),
      meaning: n.description,
    });
    if (!sectioned || !inner?.properties) continue;
    const rows: Row[] = [];
    for (const [k, child] of Object.entries(inner.properties))
      walk(child, `${prefix}.${k}`, inner.required?.includes(k) ?? false, rows);
    sections.push(`### \`${prefix}\`\n\n${table(rows)}`);
  }
  return [table(top), ...sections].join('\n\n');
}
