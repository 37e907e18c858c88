import { describe, expect, it } from 'vitest';
import {
  type AuditEntry,
  type AuditRecord,
  chainRecord,
  GENESIS,
  parseAuditLog,
  serializeRecord,
  verifyChain,
} from '../../src/policy/index.ts';

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
