import { type Document, type EmptyStream, LineCounter, type Node, parseAllDocuments, visit } from 'yaml';
import type { PrometheusSource } from '../policy/spec/schema.ts';

// What an importer turns a spec into, before it is written as a policy: SLOs budget-gate can run,
// and, named, everything it could not carry over. Pure: text in, values out.

/** A Sloth alert kind and what the spec said about it. */
export interface ImportedAlerting {
  /** Sloth's `alerting.name`, e.g. MyServiceHighErrorRate. */
  name: string | null;
  /** Labels of the page alert, or null when the spec disables it. */
  page: Record<string, string> | null;
  ticket: Record<string, string> | null;
  /** The `runbook` (or `runbook_url`) annotation of each kind, when the spec gives one. */
  runbooks: { page: string | null; ticket: string | null };
}

export interface ImportedSlo {
  name: string;
  description?: string;
  /** A fraction, or the spec's own percentage ("99.9%") so it reads as written. */
  target: number | string;
  /** `30d`, `week`, `month`: the policy's window syntax. */
  window: string;
  /** Counts (bad or good, and total), or the recording rules of the tool that wrote the spec. */
  source: PrometheusSource;
  /** `sloth getting-started.yml:12 myservice/requests-availability`: where it came from. */
  origin: string;
  /** What was changed on the way (rate() read as increase(), a default window). */
  notes: string[];
  alerting?: ImportedAlerting;
}

/** Something in a spec that is not carried over, and why. */
export interface Skipped {
  origin: string;
  why: string;
}

export interface ImportResult {
  slos: ImportedSlo[];
  skipped: Skipped[];
}

export interface ImportOptions {
  /** Window for specs that name none (Sloth has no window field; its default period is 30d). */
  defaultWindow: string;
}

export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

/** A YAML file's documents, each with a way to say which line a node is on. */
export interface SpecDocument {
  doc: Document.Parsed;
  value: unknown;
  /** 1-based line of the node at `path` (the document's start when there is none). */
  lineOf(path: (string | number)[]): number;
}

/** Alias expansions a spec may make: real reuse needs a few, a "billion laughs" bomb needs millions. */
const MAX_ALIAS_COUNT = 100;

export function readDocuments(text: string, file: string): SpecDocument[] {
  const lines = new LineCounter();
  let docs: Document.Parsed[] | EmptyStream;
  try {
    docs = parseAllDocuments(text, { lineCounter: lines });
  } catch (e) {
    // Deep nesting ([[[[…]]]]) overflows the parser's stack: a refusal, not a crash.
    if (e instanceof RangeError)
      throw new ImportError(`${file}:1:1: not valid YAML: nested too deeply to read`);
    throw e;
  }
  if (!Array.isArray(docs)) return [];
  const out: SpecDocument[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const at = lines.linePos(err.pos[0]);
      throw new ImportError(
        `${file}:${at.line}:${at.col}: not valid YAML: ${err.message.split('\n')[0]!.replace(/:$/, '')}`,
      );
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
    } catch (e) {
      // yaml refuses an alias bomb, or an alias to an anchor that is not defined, with a ReferenceError.
      if (e instanceof ReferenceError) {
        const at = lines.linePos(firstAliasOffset(doc));
        throw new ImportError(`${file}:${at.line}:${at.col}: not valid YAML: ${e.message.split('\n')[0]}`);
      }
      if (e instanceof RangeError)
        throw new ImportError(`${file}:1:1: not valid YAML: nested too deeply to read`);
      throw e;
    }
    if (value === null || value === undefined) continue;
    out.push({
      doc,
      value,
      lineOf(path) {
        const node = doc.getIn(path, true) as Node | undefined;
        const offset = node?.range?.[0] ?? doc.contents?.range?.[0] ?? 0;
        return lines.linePos(offset).line;
      },
    });
  }
  return out;
}

function firstAliasOffset(doc: Document.Parsed): number {
  let offset = doc.contents?.range?.[0] ?? 0;
  visit(doc, {
    Alias(_key, node) {
      if (node.range) offset = node.range[0];
      return visit.BREAK;
    },
  });
  return offset;
}

/** A document that is a YAML list of objects (OpenSLO's SDK writes several that way) is several. */
export function itemsOf(d: SpecDocument): { value: unknown; path: (string | number)[] }[] {
  if (Array.isArray(d.value)) return d.value.map((value, i) => ({ value, path: [i] }));
  return [{ value: d.value, path: [] }];
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A policy SLO name from a spec's: letters, digits, `.`, `_`, `-`. */
export function policyName(...parts: (string | undefined)[]): string {
  const joined = parts
    .filter((p): p is string => !!p)
    .join('-')
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/-+$/, '');
  return joined || 'slo';
}

/** Makes names unique in import order: a second `x` becomes `x-2`. */
export function uniqueNames(slos: ImportedSlo[]): ImportedSlo[] {
  const seen = new Map<string, number>();
  return slos.map((s) => {
    const n = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, n);
    return n === 1
      ? s
      : { ...s, name: `${s.name}-${n}`, notes: [...s.notes, `renamed from ${s.name}: the name was taken`] };
  });
}
