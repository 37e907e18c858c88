import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CheckAnnotation, createCheckRun } from '../../src/github/checks.ts';
import { truncateBytes, truncateChars } from '../../src/github/limits.ts';
import { assertAllCalled, setupNock } from '../support/nock.ts';
import { api, REPO, testOctokit } from './helpers.ts';

// Check-run limits as GitHub enforces them: summary and text in UTF-8 bytes, 50 annotations per
// request, annotation titles of 255 characters. The mock answers as GitHub does when a limit is
// crossed, so a body that would be refused fails the test.

const RUNS = '/repos/acme/agents/check-runs';
const BYTESIZE_422 = (field: string) => ({
  message: 'Validation Failed',
  errors: [
    { resource: 'CheckRun', code: 'custom', field, message: `${field} exceeds a maximum bytesize of 65535` },
  ],
  documentation_url: 'https://docs.github.com/rest/checks/runs#create-a-check-run',
  status: '422',
});

type Output = { title: string; summary: string; text?: string; annotations?: CheckAnnotation[] };
/** GitHub's own validation of an output, or null when it accepts it. */
function githubRefuses(output: Output): object | null {
  for (const field of ['summary', 'text'] as const) {
    const v = output[field];
    if (v !== undefined && Buffer.byteLength(v, 'utf8') > 65_535) return BYTESIZE_422(field);
  }
  if ((output.annotations?.length ?? 0) > 50)
    return {
      message: 'Validation Failed',
      errors: [{ resource: 'CheckRun', code: 'custom', field: 'annotations' }],
    };
  for (const a of output.annotations ?? []) {
    if ((a.title?.length ?? 0) > 255)
      return {
        message: 'Validation Failed',
        errors: [{ resource: 'CheckRun', code: 'custom', field: 'title' }],
      };
  }
  return null;
}

const sent: Array<{ method: string; output: Output }> = [];
/** The check-runs endpoints, answering as GitHub does: 422 for an output over a limit. */
function githubChecks(id = 42) {
  const refused = (b: { output: Output }) => githubRefuses(b.output) !== null;
  const accepted = (method: string) => (b: { output: Output }) => {
    if (refused(b)) return false;
    sent.push({ method, output: b.output });
    return true;
  };
  const ok = { id, html_url: `https://github.com/acme/agents/runs/${id}` };
  return {
    post: () =>
      api()
        .post(RUNS, refused)
        .optionally()
        .reply(422, BYTESIZE_422('summary'))
        .post(RUNS, accepted('POST'))
        .reply(201, ok),
    patch: (times = 1) =>
      api()
        .patch(`${RUNS}/${id}`, refused)
        .optionally()
        .reply(422, BYTESIZE_422('summary'))
        .patch(`${RUNS}/${id}`, accepted('PATCH'))
        .times(times)
        .reply(200, ok),
  };
}

beforeEach(() => {
  setupNock();
  sent.length = 0;
});
afterEach(assertAllCalled);

const annotation = (i: number, extra: Partial<CheckAnnotation> = {}): CheckAnnotation => ({
  path: '.github/error-budget.yml',
  start_line: i,
  end_line: i,
  annotation_level: 'warning',
  message: `problem ${i}`,
  ...extra,
});

describe('createCheckRun within GitHub’s limits', () => {
  it('cuts a summary of multi-byte characters to 65,535 bytes (not 65,535 UTF-16 units), saying so', async () => {
    const { gh } = testOctokit();
    githubChecks().post();
    // 30,000 UTF-16 units, 90,000 bytes: a character count would let it through and GitHub would answer 422.
    const summary = '€'.repeat(30_000);
    const text = `${'😀'.repeat(20_000)}`;
    const r = await createCheckRun(gh, REPO, {
      name: 'budget-gate',
      head_sha: 'a'.repeat(40),
      conclusion: 'failure',
      output: { title: 'HARD-PAUSE', summary, text },
    });
    expect(r.id).toBe(42);
    const out = sent[0]!.output;
    expect(Buffer.byteLength(out.summary)).toBeLessThanOrEqual(65_535);
    expect(Buffer.byteLength(out.summary)).toBeGreaterThan(65_000);
    expect(out.summary).toMatch(/^€+\n\n… \(truncated: the full report is in the job summary\)$/);
    expect(out.text).toMatch(/^(😀)+\n\n… \(truncated/);
    expect(out.text).not.toContain('\uFFFD');
  });

  it('sends 120 annotations as 50 with the create and 50 + 20 in updates, none dropped', async () => {
    const { gh } = testOctokit();
    const c = githubChecks();
    c.post();
    c.patch(2);
    const annotations = Array.from({ length: 120 }, (_, i) => annotation(i + 1));
    await createCheckRun(gh, REPO, {
      name: 'budget-gate',
      head_sha: 'a'.repeat(40),
      conclusion: 'failure',
      output: { title: 'invalid policy', summary: 'problems', annotations },
    });
    expect(sent.map((s) => [s.method, s.output.annotations?.length])).toEqual([
      ['POST', 50],
      ['PATCH', 50],
      ['PATCH', 20],
    ]);
    expect(sent.flatMap((s) => s.output.annotations!.map((a) => a.start_line))).toEqual(
      annotations.map((a) => a.start_line),
    );
    // An update's output needs its title and summary again.
    expect(sent[1]!.output).toMatchObject({ title: 'invalid policy', summary: 'problems' });
  });

  it('bounds annotation titles to 255 characters and messages to 64 KB', async () => {
    const { gh } = testOctokit();
    githubChecks().post();
    await createCheckRun(gh, REPO, {
      name: 'budget-gate',
      head_sha: 'a'.repeat(40),
      conclusion: 'neutral',
      output: {
        title: 't',
        summary: 's',
        annotations: [annotation(1, { title: 'x'.repeat(300), message: 'é'.repeat(40_000) })],
      },
    });
    const a = sent[0]!.output.annotations![0]!;
    expect(a.title).toHaveLength(255);
    expect(a.title!.endsWith('…')).toBe(true);
    expect(Buffer.byteLength(a.message)).toBeLessThanOrEqual(65_535);
    expect(a.message.endsWith(' … (truncated)')).toBe(true);
  });
});

describe('truncation never splits a character', () => {
  /** Any text of up to 200 graphemes (surrogate pairs, combining marks) and a limit in [min, max]. */
  const textAndLimit = (min: number, max: number) =>
    [fc.string({ unit: 'grapheme', maxLength: 200 }), fc.integer({ min, max })] as const;

  it('truncateBytes: within the byte limit, a prefix of the input, no replacement characters', () => {
    fc.assert(
      fc.property(...textAndLimit(0, 400), (s, max) => {
        const note = '…';
        const out = truncateBytes(s, max, note);
        expect(Buffer.byteLength(out)).toBeLessThanOrEqual(
          Math.max(max, Buffer.byteLength(s) <= max ? Buffer.byteLength(s) : 0),
        );
        if (out === s) return;
        const body = out.endsWith(note) ? out.slice(0, -note.length) : out;
        expect(s.startsWith(body)).toBe(true);
        expect(out).not.toContain('\uFFFD');
      }),
    );
  });

  it('truncateChars: within the limit and never ends on half a surrogate pair', () => {
    fc.assert(
      fc.property(...textAndLimit(2, 300), (s, max) => {
        const out = truncateChars(s, max, '…');
        expect(out.length).toBeLessThanOrEqual(Math.max(max, s.length <= max ? s.length : 0));
        expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      }),
    );
  });
});
