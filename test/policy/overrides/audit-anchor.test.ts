import { describe, expect, it } from 'vitest';
import {
  type AuditAnchor,
  checkContinuity,
  checkHead,
  formatAnchor,
  parseAnchor,
} from '../../../src/policy/overrides/audit-anchor.ts';
import {
  type AuditEntry,
  type AuditRecord,
  chainRecord,
  serializeRecord,
  verifyChain,
} from '../../../src/policy/overrides/audit-chain.ts';
import { unrecordedAction } from '../../../src/policy/overrides/audit-entry.ts';

// What a branch rewrite can do to an unkeyed chain, and what the anchors (and `--head`) catch.

const entry = (i: number, actor = 'sre-lead'): AuditEntry => ({
  kind: 'override-applied',
  repo: 'acme/agents',
  pull_request: i,
  sha: 'a'.repeat(40),
  label: 'override:slo-wrong',
  reason: 'slo-wrong',
  actor,
  author: 'dev',
  at: new Date(Date.UTC(2026, 10, i)).toISOString(),
  state: 'hard-pause',
  message: `override ${i}`,
  source: 'action',
});

function chain(entries: AuditEntry[]): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const e of entries) out.push(chainRecord(out.at(-1) ?? null, e));
  return out;
}
const genuine = chain([1, 2, 3, 4].map((i) => entry(i)));
/** One anchor per append, as the gate writes them. */
const anchors: AuditAnchor[] = genuine.map((r) => ({
  seq: r.seq,
  hash: r.hash,
  source: `check run ${r.seq}`,
}));

describe('anchors', () => {
  it('round-trip through a check run external_id', () => {
    const id = formatAnchor(genuine[2]!);
    expect(id).toBe(`3:${genuine[2]!.hash}`);
    expect(parseAnchor(id)).toEqual({ seq: 3, hash: genuine[2]!.hash });
    for (const bad of ['3:abc', `0:${genuine[0]!.hash}`, `x:${genuine[0]!.hash}`, '', null]) {
      expect(parseAnchor(bad)).toBeNull();
    }
  });

  it('the genuine log, and the genuine log with unanchored records after the newest anchor, are continuous', () => {
    expect(checkContinuity(genuine, anchors)).toEqual({ ok: true, anchored: 4 });
    expect(checkContinuity(genuine, anchors.slice(0, 2))).toEqual({ ok: true, anchored: 2 });
    expect(checkContinuity([], [])).toEqual({ ok: true, anchored: 0 });
  });

  it('a recomputed chain verifies on its own, but the anchors name the first record that differs', () => {
    // Someone with contents: write edits record 3's actor and recomputes every hash after it.
    const forged = chain([entry(1), entry(2), entry(3, 'mallory'), entry(4)]);
    expect(verifyChain(forged.map(serializeRecord).join(''))).toMatchObject({ ok: true, count: 4 });
    expect(checkContinuity(forged, anchors)).toEqual({
      ok: false,
      seq: 3,
      problem: expect.stringMatching(
        /^record #3 is not the record that was anchored \(check run 3\) .*recomputed; the first record that differs is #3$/,
      ),
    });
  });

  it('with sparse anchors, the first record that differs is bounded by the anchors around it', () => {
    const forged = chain([entry(1), entry(2, 'mallory'), entry(3), entry(4)]);
    const c = checkContinuity(forged, [anchors[0]!, anchors[3]!]);
    expect(c).toMatchObject({ ok: false, seq: 2 });
    expect(c.ok === false && c.problem).toContain('the first record that differs is one of #2–#4');
  });

  it('removed newest records, and a deleted log, are caught', () => {
    expect(checkContinuity(genuine.slice(0, 2), anchors)).toEqual({
      ok: false,
      seq: 3,
      problem:
        'the log ends at record #2, but record #3 was anchored (check run 3): records #3–#4 were removed',
    });
    expect(checkContinuity([], anchors)).toMatchObject({
      ok: false,
      seq: 1,
      problem: expect.stringContaining('the audit log is gone, but records up to #4 were anchored'),
    });
  });
});

describe('audit verify --head', () => {
  const head = genuine[3]!.hash;
  it('passes when the chain ends at the head', () => {
    expect(checkHead(genuine, head)).toBeNull();
  });
  it('a removed last record: the head is nowhere in the log', () => {
    expect(checkHead(genuine.slice(0, 3), head)).toMatch(
      /^the chain ends at record #3 .*no record has the expected head .*records were removed/,
    );
  });
  it('a recomputed chain: same length, other hashes', () => {
    const forged = chain([entry(1), entry(2, 'mallory'), entry(3), entry(4)]);
    expect(checkHead(forged, head)).toMatch(/^the chain ends at record #4 .*no record has the expected head/);
  });
  it('records after the head, and an empty log', () => {
    expect(checkHead(genuine, genuine[1]!.hash)).toMatch(
      /^the chain goes on past the expected head: it is record #2, and 2 record\(s\) follow it/,
    );
    expect(checkHead([], head)).toMatch(/^the log is empty/);
  });
});

describe('an override the log could not record', () => {
  it('says what to do for each reason it could not', () => {
    expect(unrecordedAction('the audit log audit.jsonl on branch x was rewritten: record #2 …')).toMatch(
      /^restore the audit branch/,
    );
    expect(unrecordedAction("GitHub's rate limit refused PUT …")).toMatch(/rate limit resets/);
    expect(unrecordedAction('GitHub refused PUT: a branch protection rule or ruleset forbids it')).toMatch(
      /past its protection rule/,
    );
    expect(unrecordedAction('GitHub answered 403: the token needs `checks: write`')).toContain(
      'contents: write, checks: write',
    );
  });
});
