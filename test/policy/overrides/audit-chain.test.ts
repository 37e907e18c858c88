import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditEntry,
  type AuditRecord,
  chainRecord,
  GENESIS,
  parseAuditLog,
  serializeRecord,
  verifyChain,
} from '../../../src/policy/overrides/audit-chain.ts';

const entry = (i: number): AuditEntry => ({
  kind: 'override-applied',
  repo: 'acme/agents',
  pull_request: i,
  sha: 'a'.repeat(40),
  label: 'override:catastrophic-event',
  reason: 'catastrophic-event',
  actor: 'sre-lead',
  author: 'dev',
  at: new Date(Date.UTC(2026, 10, i)).toISOString(),
  state: 'soft-pause',
  message: `override ${i}`,
  slos: [{ name: 'refunds-success', consumed: 0.62, state: 'soft-pause' }],
  source: 'action',
});

function log(n: number): { text: string; records: AuditRecord[] } {
  const records: AuditRecord[] = [];
  for (let i = 1; i <= n; i++) records.push(chainRecord(records.at(-1) ?? null, entry(i)));
  return { text: records.map(serializeRecord).join(''), records };
}

describe('audit chain', () => {
  it('chains each record to the previous one and verifies', () => {
    const { text, records } = log(4);
    expect(records[0]!.prev_hash).toBe(GENESIS);
    expect(records[1]!.prev_hash).toBe(records[0]!.hash);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    const v = verifyChain(text);
    expect(v).toMatchObject({ ok: true, count: 4 });
    expect(parseAuditLog(text)).toEqual(records);
  });

  it('finds an edited record', () => {
    const lines = log(4).text.split('\n');
    lines[2] = lines[2]!.replace('override 3', 'nothing to see');
    expect(verifyChain(lines.join('\n'))).toMatchObject({
      ok: false,
      line: 3,
      seq: 3,
      problem: 'record 3 was edited: its hash does not match its content',
    });
  });

  it('finds a missing record', () => {
    const lines = log(4).text.split('\n');
    lines.splice(1, 1);
    expect(verifyChain(lines.join('\n'))).toMatchObject({
      ok: false,
      line: 2,
      problem: 'record 2 is missing (found 3)',
    });
  });

  it('finds reordered records', () => {
    const lines = log(4).text.split('\n');
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    expect(verifyChain(lines.join('\n'))).toMatchObject({ ok: false, line: 2 });
  });

  it('finds a record re-hashed after an edit, by its broken link', () => {
    const { records } = log(3);
    const forged = chainRecord(records[0]!, { ...entry(2), actor: 'mallory' });
    const text = [records[0]!, forged, records[2]!].map(serializeRecord).join('');
    expect(verifyChain(text)).toMatchObject({
      ok: false,
      line: 3,
      problem: 'record 3 does not chain to record 2: the log was reordered or a record replaced',
    });
  });

  it('refuses to parse a tampered log', () => {
    expect(() => parseAuditLog('{"seq":1}\n')).toThrow(/audit log line 1: not an audit record/);
  });
});

// `audit verify` checks the bytes on disk: a change that leaves the parsed record the same (so the
// hash over the parsed record would still match) is still a change to the log.
describe('audit verify reads the bytes, not the parsed record', () => {
  const lines = () => log(3).text.split('\n');

  it('finds an added key, naming it and the line', () => {
    const l = lines();
    l[1] = l[1]!.replace('{"actor"', '{"approved_by":"mallory","actor"');
    expect(verifyChain(l.join('\n'))).toEqual({
      ok: false,
      line: 2,
      seq: 2,
      problem: 'an added key `approved_by`: not part of an audit record',
    });
  });

  it('finds a duplicated key that JSON.parse would silently resolve', () => {
    const l = lines();
    // The second `actor` wins in JSON.parse: the record would parse as the original one.
    l[1] = l[1]!.replace('{"actor":"sre-lead"', '{"actor":"mallory","actor":"sre-lead"');
    expect(JSON.parse(l[1]!).actor).toBe('sre-lead');
    expect(verifyChain(l.join('\n'))).toMatchObject({
      ok: false,
      line: 2,
      seq: 2,
      problem: 'the key `actor` appears twice in one object: a record has each key once',
    });
  });

  it('finds a duplicated key inside a nested object', () => {
    const l = lines();
    l[2] = l[2]!.replace('"consumed":0.62', '"consumed":0.1,"consumed":0.62');
    expect(verifyChain(l.join('\n'))).toMatchObject({
      ok: false,
      line: 3,
      problem: expect.stringContaining('`consumed` appears twice'),
    });
  });

  it('finds reordered keys, with the column where the bytes differ', () => {
    const l = lines();
    const rec = JSON.parse(l[0]!) as Record<string, unknown>;
    const { actor, ...rest } = rec;
    l[0] = JSON.stringify({ ...rest, actor });
    const v = verifyChain(l.join('\n'));
    expect(v).toMatchObject({ ok: false, line: 1, seq: 1 });
    expect(v.ok === false && v.problem).toMatch(
      /^record 1 is not written in canonical form.*keys are out of order.*column 2 has "\\"at\\":.* where "\\"actor/,
    );
  });

  it('finds whitespace: pretty-printing, a trailing space, a CRLF line end', () => {
    for (const edit of [
      (s: string) => JSON.stringify(JSON.parse(s), null, 1).replace(/\n/g, ''),
      (s: string) => `${s} `,
      (s: string) => `${s}\r`,
    ]) {
      const l = lines();
      l[1] = edit(l[1]!);
      const v = verifyChain(l.join('\n'));
      expect(v).toMatchObject({ ok: false, line: 2, seq: 2 });
      expect(v.ok === false && v.problem).toContain('whitespace was added');
    }
  });

  it('finds a blank line and a last record without its newline', () => {
    const { text } = log(2);
    expect(verifyChain(text.replace('\n', '\n\n'))).toMatchObject({
      ok: false,
      line: 2,
      problem: expect.stringContaining('a blank line'),
    });
    expect(verifyChain(text.slice(0, -1))).toMatchObject({
      ok: false,
      line: 2,
      seq: 2,
      problem: 'record 2 does not end with a newline: every record is one line ending in \\n',
    });
  });

  it('accepts any log the writer wrote (property: serialize ∘ chain verifies, and any one-byte edit is caught)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            message: fc.string(),
            actor: fc.option(fc.string()),
            consumed: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true })),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        fc.nat(),
        fc.integer({ min: 32, max: 126 }),
        (items, pos, byte) => {
          const records: AuditRecord[] = [];
          for (const [i, it] of items.entries()) {
            records.push(
              chainRecord(records.at(-1) ?? null, {
                ...entry(i + 1),
                message: it.message,
                actor: it.actor,
                slos: [{ name: 'x', consumed: it.consumed, state: 'ship' }],
              }),
            );
          }
          const text = records.map(serializeRecord).join('');
          expect(verifyChain(text)).toMatchObject({ ok: true, count: items.length });
          const at = pos % text.length;
          const ch = String.fromCharCode(byte);
          fc.pre(text[at] !== ch && text[at] !== '\n');
          const edited = text.slice(0, at) + ch + text.slice(at + 1);
          expect(verifyChain(edited).ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
