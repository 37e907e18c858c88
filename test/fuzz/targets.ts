import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describeFailure, EventError, readEvent, readEventFile } from '../../src/action/event.ts';
import { AT, AT_ISO, check, cli, outcomes } from './harness.ts';

export const count = (key: string) => {
  outcomes[key] = (outcomes[key] ?? 0) + 1;
};

// The fuzz targets: each an arbitrary of adversarial inputs and the property every one must keep.
// Inputs grow from well-formed seeds by mutation, so they reach past the first parse.

export const dir = mkdtempSync(join(tmpdir(), 'bg-fuzz-'));
let serial = 0;
export const file = (name: string, content: string | Uint8Array) => {
  const path = join(dir, `${serial++}-${name}`);
  writeFileSync(path, content);
  return path;
};

// ── building blocks ─────────────────────────────────────────────────────────────────────────────

export const durationText = fc.oneof(
  fc.constantFrom(
    '1ms',
    '0s',
    '1m',
    '5m',
    '1h',
    '1d',
    '7d',
    '30d',
    '366d',
    '367d',
    '1w',
    '1h30m',
    'week',
    'month',
  ),
  fc
    .tuple(
      fc.stringMatching(/^\d{1,25}(\.\d{1,3})?$/),
      fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w', '', 'y'),
    )
    .map(([n, u]) => n + u),
  fc.string({ maxLength: 12 }),
);

const globText = fc.oneof(
  fc.constantFrom(
    'prompts/**',
    'models/**',
    '**/*.md',
    '**/*a*a*b',
    '**/*(a*)b',
    '{a,b}/**',
    'src/**/x/**/y/**',
    '[',
    '!',
    '**/*prompt*',
  ),
  fc
    .array(
      fc.constantFrom('*', '**', '?', 'a', 'b', '/', '{', '}', ',', '[', ']', '(', ')', '+', '@', '!', '.'),
      { maxLength: 40 },
    )
    .map((a) => a.join('')),
);

/** Replacement values: mostly the right kind for a policy (so the input gets past the schema), some not. */
export const leaf = fc.oneof(
  { weight: 4, arbitrary: durationText },
  { weight: 3, arbitrary: fc.double({ min: 0, max: 1.2, noNaN: true }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, '', '100%', '99.9%', '-5%', 'NaN', '1e309') },
  { weight: 3, arbitrary: globText },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** The range placeholder, written out: PromQL in a policy says `${window}` literally. */
const WINDOW = '$' + '{window}';

/** A policy as a team writes one, every key present, the starting point for mutations. */
export const seedPolicy = () => ({
  version: 1,
  slos: [
    {
      name: 'tasks',
      sli: { kind: 'latency', threshold_ms: 10000 },
      target: 0.95,
      window: '7d',
      scope: { tier: 'paid' },
      min_events: 10,
      source: { prometheus: { bad: `sum(increase(b[${WINDOW}]))`, total: `sum(increase(t[${WINDOW}]))` } },
    },
  ],
  states: {
    hard_pause: { consumed: 1, exhaustion_within: '1d' },
    soft_pause: { consumed: 0.5, pace_factor: 1, pace_lookback: '1d' },
    min_events: 100,
    on_telemetry_error: 'block',
  },
  risk: { default: 'low', rules: [{ paths: ['prompts/**', 'models/**'], class: 'high' }] },
  overrides: { reasons: ['slo-wrong'], expires_after: '24h' },
  auto_revert: { enabled: true, consumed: 0.2, within: '60m', interval: '1m', baseline: '1h' },
  alerts: [{ name: 'fast', severity: 'sev1', burn_rate: 14.4, long: '1h', short: '5m' }],
});

/** Paths to every leaf and object in a value, for mutations to aim at. */
function pathsOf(v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => void out.push(...pathsOf(x, [...prefix, i])));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) out.push(...pathsOf(x, [...prefix, k]));
  return out;
}

type Mutation = { at: number; op: 'set' | 'delete' | 'dup'; value: unknown };
export const mutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('set', 'set', 'set', 'delete', 'dup'),
  value: leaf,
});

export function mutate<T>(seed: T, ms: Mutation[]): T {
  const v = structuredClone(seed) as unknown;
  for (const m of ms) {
    const paths = pathsOf(v).filter((p) => p.length > 0);
    if (paths.length === 0) break;
    const path = paths[m.at % paths.length]!;
    let parent = v as Record<string | number, unknown>;
    for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
    const key = path.at(-1)!;
    if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else if (m.op === 'dup' && Array.isArray(parent)) parent.push(structuredClone(parent[key as number]));
    else parent[key] = m.value;
  }
  return v as T;
}

// ── policies ────────────────────────────────────────────────────────────────────────────────────

export const yamlNoise = fc
  .array(
    fc.constantFrom(
      'version: 1\n',
      'slos:\n',
      '  - ',
      'name: a\n',
      '&x ',
      '*x ',
      '*y',
      '<<: *x\n',
      '[',
      ']',
      '{',
      '}',
      ': ',
      '\n',
      '  ',
      '"',
      "'",
      '#',
      '!!binary ',
      '? ',
      '|\n',
      '- &a [*a]\n',
      '\t',
    ),
    { maxLength: 60 },
  )
  .map((a) => a.join(''));

const policyText = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.array(mutation, { maxLength: 3 }).map((ms) => stringify(mutate(seedPolicy(), ms))),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(mutation, { maxLength: 3 })
      .map((ms) => `${stringify(mutate(seedPolicy(), ms))}${'x: &a [1]\n'}`),
  },
  { weight: 2, arbitrary: yamlNoise },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

/** Changed files an attacker would name: long runs of one letter, deep paths, odd bytes. */
const changedPath = fc.oneof(
  fc.constantFrom(
    'prompts/a.md',
    'src/x.ts',
    `x/${'a'.repeat(255)}`,
    `${'a/'.repeat(400)}b`,
    'a'.repeat(2000),
  ),
  fc.string({ maxLength: 80 }),
);

const TASKS = (() => {
  const lines: string[] = [];
  for (let i = 0; i < 300; i++)
    lines.push(
      JSON.stringify({
        time: AT - i * 60_000,
        ok: i % 7 !== 0,
        latency_ms: 1000 + i * 50,
        attrs: { tier: 'paid' },
      }),
    );
  return `${lines.join('\n')}\n`;
})();
export const TASK_FILE = file('tasks.jsonl', TASKS);

const policyTarget = fc.asyncProperty(
  policyText,
  fc.array(changedPath, { maxLength: 30 }),
  async (text, paths) => {
    const path = file('policy.yml', text);
    const lint = await cli(['lint', path]);
    check('lint', lint, [0, 2], /^.+:\d+:\d+/m);
    if (lint.code !== 0) return;
    const changed = file('changed.txt', paths.join('\n'));
    const r = await cli([
      'evaluate',
      '--policy',
      path,
      '--telemetry',
      TASK_FILE,
      '--changed-files',
      changed,
      '--at',
      AT_ISO,
    ]);
    check('evaluate', r, [0, 1, 2], /:\d+|--[a-z-]+ /);
  },
);

// ── telemetry JSONL ─────────────────────────────────────────────────────────────────────────────

export const timeValue = fc.oneof(
  fc.integer({ min: AT - 10 * 86_400_000, max: AT }).map((t) => new Date(t).toISOString()),
  fc.integer({ min: AT - 10 * 86_400_000, max: AT }),
  fc.integer({ min: 0, max: 2_000_000_000 }),
  fc.constantFrom(
    '2026-11-19T12:00:00',
    '2026-02-30T00:00:00Z',
    '2026-11-19T12:00:1e1Z',
    '2026-11-19T12:00:00+25:00',
    1e17,
    -1,
    1.5,
    '',
    null,
  ),
  fc.string({ maxLength: 30 }),
  fc.double(),
);

const record = fc.record(
  {
    time: timeValue,
    ok: fc.oneof(fc.boolean(), fc.constantFrom('true', 0, null)),
    latency_ms: fc.oneof(fc.nat(), fc.double(), fc.constant(-1)),
    cost_usd: fc.double(),
    attrs: fc.oneof(
      fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 })),
      fc.constant({ tier: 'paid' }),
      fc.jsonValue({ maxDepth: 1 }),
    ),
  },
  { requiredKeys: ['time', 'ok'] },
);

const line = fc.oneof(
  { weight: 6, arbitrary: record.map((r) => Buffer.from(JSON.stringify(r))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.nat({ max: 300_000 }).map((n) => Buffer.from(`{"pad":"${'a'.repeat(n)}"}`)) },
  { weight: 1, arbitrary: fc.nat({ max: 5000 }).map((n) => Buffer.from('['.repeat(n))) },
);

const jsonlTarget = fc.asyncProperty(
  fc.array(line, { maxLength: 40 }),
  fc.constantFrom('\n', '\r\n'),
  fc.constantFrom('plain', 'gzip', 'truncated-gzip'),
  fc.boolean(),
  async (lines, eol, form, skip) => {
    let bytes = Buffer.concat(lines.flatMap((l) => [l, Buffer.from(eol)]));
    if (form !== 'plain') bytes = gzipSync(bytes);
    if (form === 'truncated-gzip') bytes = bytes.subarray(0, Math.max(2, bytes.length >> 1));
    const path = file('tasks.jsonl', bytes);
    const policy = file('p.yml', stringify(seedPolicy()));
    const r = await cli([
      'evaluate',
      '--policy',
      policy,
      '--telemetry',
      path,
      '--at',
      AT_ISO,
      ...(skip ? ['--skip-bad-lines'] : []),
    ]);
    check('evaluate', r, [0, 1, 2], /tasks\.jsonl(:\d+: | \(|: )/);
  },
);

// ── the Action's event ──────────────────────────────────────────────────────────────────────────

const require = createRequire(import.meta.url);
export const examples = require('@octokit/webhooks-examples') as Array<{ name: string; examples: unknown[] }>;
const example = (name: string) => examples.find((e) => e.name === name)!.examples[0]!;
const EVENT_NAMES = [
  'pull_request',
  'pull_request_target',
  'push',
  'deployment',
  'workflow_dispatch',
  'issues',
  '',
] as const;

const eventTarget = fc.asyncProperty(
  fc.constantFrom(...EVENT_NAMES),
  fc.constantFrom('pull_request', 'push', 'deployment'),
  fc.array(mutation, { maxLength: 5 }),
  fc.oneof(
    fc.constant('whole'),
    fc.constant('bom'),
    fc.nat().map((n) => `cut:${n}`),
    fc.constant('bytes'),
  ),
  fc.uint8Array({ maxLength: 40 }),
  async (eventName, base, ms, form, noise) => {
    let text: Buffer = Buffer.from(JSON.stringify(mutate(example(base), ms)));
    if (form === 'bom') text = Buffer.concat([Buffer.from('\ufeff'), text]);
    else if (form.startsWith('cut:')) text = text.subarray(0, Number(form.slice(4)) % (text.length + 1));
    else if (form === 'bytes') text = Buffer.from(noise);
    const path = file('event.json', text);
    try {
      readEvent({ eventName, payload: readEventFile(path), repository: 'o/r', sha: 'f'.repeat(40) });
      count('read:ok');
    } catch (e) {
      // Anything but an EventError would reach the Action's top-level handler.
      if (!(e instanceof EventError)) throw new Error(`not an EventError: ${describeFailure(e)}`);
      count('read:EventError');
    }
  },
);

// ── a metrics server's answers ──────────────────────────────────────────────────────────────────

const numberText = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 1_000_000 }).map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: fc.constantFrom('NaN', '+Inf', '-Inf', '-1', '1e400', '', 'x', '0x10', '1_000') },
);

type Answer = { status: number; body: (ids: string[]) => string | Buffer; gzip: boolean };

const answer: fc.Arbitrary<Answer> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({
        values: fc.array(numberText, { minLength: 1, maxLength: 4 }),
        drop: fc.oneof(fc.constant(0), fc.nat(5)),
        extra: fc.boolean(),
      })
      .map(({ values, drop, extra }) => ({
        status: 200,
        gzip: extra,
        body: (ids: string[]) =>
          JSON.stringify({
            status: 'success',
            data: {
              resultType: 'vector',
              result: ids
                .filter((_, i) => drop === 0 || i % (drop + 1) !== 0)
                .map((id, i) => ({ metric: { bg_key: id }, value: [AT / 1000, values[i % values.length]] })),
            },
          }),
      })),
  },
  {
    weight: 2,
    arbitrary: fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => ({
      status: 200,
      gzip: false,
      body: (ids: string[]) =>
        JSON.stringify(
          mutate(
            {
              status: 'success',
              warnings: ['PromQL info: x'],
              data: {
                resultType: 'vector',
                result: ids.map((id) => ({ metric: { bg_key: id }, value: [AT / 1000, '1'] })),
              },
            },
            ms,
          ),
        ),
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        status: fc.constantFrom(200, 400, 401, 404, 422, 429, 500),
        body: fc.oneof(
          fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j)),
          fc.string({ maxLength: 100 }),
        ),
      })
      .map(({ status, body }) => ({ status, gzip: false, body: () => body })),
  },
  { weight: 1, arbitrary: fc.constant({ status: 200, gzip: true, body: () => bomb() }) },
);

/** 40 MiB of spaces, gzipped once: a body that is small on the wire and past the cap unpacked. */
let bombBytes: Buffer | null = null;
const bomb = () => {
  bombBytes ??= gzipSync(Buffer.alloc(40 << 20, 0x20));
  return bombBytes;
};

let next: Answer | null = null;
let server: Server | null = null;
let serverUrl = '';

/** The loopback metrics server the metrics target talks to; it answers whatever `next` says. */
export async function startMetricsServer(): Promise<void> {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => {
      raw += d;
    });
    req.on('end', () => {
      const query = new URLSearchParams(raw).get('query') ?? '';
      const ids = [...query.matchAll(/"bg_key", "(q\d+)"/g)].map((m) => m[1]!);
      const a = next!;
      const body = a.body(ids);
      res.writeHead(a.status, {
        'content-type': 'application/json',
        ...(a.gzip ? { 'content-encoding': 'gzip' } : {}),
      });
      res.end(a.gzip && !Buffer.isBuffer(body) ? gzipSync(body) : body);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  serverUrl = `http://127.0.0.1:${addr.port}`;
}

export const stopMetricsServer = () => new Promise<void>((r) => (server ? server.close(() => r()) : r()));

const metricsTarget = fc.asyncProperty(answer, async (a) => {
  next = a;
  const policy = file('p.yml', stringify(seedPolicy()));
  const r = await cli(['evaluate', '--policy', policy, '--prometheus', serverUrl, '--at', AT_ISO], {
    BUDGET_GATE_PROMETHEUS_TIMEOUT: '5s',
  });
  check('evaluate', r, [0, 1, 2], /Prometheus at http:\/\/127\.0\.0\.1:\d+|\d+ for tasks |for tasks /);
});

// ── audit logs ──────────────────────────────────────────────────────────────────────────────────

const auditLike = fc.record(
  {
    kind: fc.constantFrom('override-applied', 'override-refused', 'x'),
    repo: fc.string({ maxLength: 10 }),
    seq: fc.oneof(fc.nat(5), fc.double()),
    prev_hash: fc.oneof(fc.constant('0'.repeat(64)), fc.stringMatching(/^[0-9a-f]{64}$/), fc.string()),
    hash: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string()),
    at: fc.string({ maxLength: 25 }),
    slos: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);

const auditTarget = fc.asyncProperty(
  fc.array(
    fc.oneof(
      auditLike.map((r) => JSON.stringify(r)),
      fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j)),
      fc.string({ maxLength: 80 }),
    ),
    { maxLength: 12 },
  ),
  async (lines) => {
    const path = file('audit.jsonl', lines.join('\n'));
    const r = await cli(['audit', 'verify', path]);
    check('verify', r, [0, 1, 2], /audit/);
    if (r.code === 1 && !/audit\.jsonl:\d+: /.test(r.stdout))
      throw new Error(`a broken chain without its line: ${r.stdout}`);
  },
);

export const TARGETS = {
  policy: policyTarget,
  jsonl: jsonlTarget,
  event: eventTarget,
  metrics: metricsTarget,
  audit: auditTarget,
} as const;
