import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { DEFAULT_POLICY_PATH } from '../policy/spec/load.ts';
import { MAX_TIME_MS, parseTime } from '../telemetry/jsonl/record.ts';
import { parseHeaderText } from '../telemetry/prometheus/headers.ts';

// The action's inputs (action.yml documents each one). Defaults live here too, so the gate runs
// the same when started without action.yml (tests, local replays).

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(blankToUndefined, z.string().optional());

/** `Name: value` lines, or a JSON object; header names as HTTP allows them. */
const headersSchema = z.preprocess(
  blankToUndefined,
  z
    .string()
    .optional()
    .transform((text, ctx): Record<string, string> => {
      if (!text) return {};
      const parsed = parseHeaderText(text);
      if (parsed.ok) return parsed.headers;
      ctx.addIssue({
        code: 'custom',
        message:
          parsed.problem === 'json'
            ? 'expected a JSON object of header names to string values'
            : `line ${parsed.index + 1}: expected \`Header-Name: value\``,
      });
      return z.NEVER;
    }),
);

const inputsSchema = z.object({
  policy: z.preprocess(blankToUndefined, z.string().default(DEFAULT_POLICY_PATH)),
  token: optionalString,
  'prometheus-url': z.preprocess(
    blankToUndefined,
    z
      .url({ protocol: /^https?$/ })
      .refine((u) => !hasMalformedCredentials(u), {
        message: 'the user or password in the URL has a % that starts no percent-escape: write % as %25',
      })
      .optional(),
  ),
  'prometheus-token': optionalString,
  'prometheus-headers': headersSchema,
  'telemetry-file': optionalString,
  environment: optionalString,
  mode: z.preprocess(
    blankToUndefined,
    z.enum(['enforce', 'report'], { error: 'expected enforce or report' }).default('enforce'),
  ),
  /** `true` adds the readiness verdict to the job summary; anything but true or false is refused. */
  readiness: z.preprocess(
    blankToUndefined,
    z
      .enum(['true', 'false'], { error: 'expected true or false' })
      .default('false')
      .transform((v) => v === 'true'),
  ),
  /** Empty means: no check run (the job's own status is the verdict). */
  'check-name': z.preprocess((v) => (v === undefined ? 'budget-gate' : v), z.string()),
  at: z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (s === undefined) return undefined;
        // As the CLI's --at: an offset is required, so the runner's time zone cannot change the answer.
        const ms = /^\d{1,16}$/.test(s) ? Number(s) : parseTime(s);
        if (Number.isNaN(ms) || ms > MAX_TIME_MS) {
          ctx.addIssue({
            code: 'custom',
            message:
              'expected an ISO-8601 time with an offset such as 2026-11-01T12:00:00Z, or epoch milliseconds',
          });
          return z.NEVER;
        }
        return ms;
      }),
  ),
});

export type Inputs = z.output<typeof inputsSchema>;
const INPUT_NAMES = Object.keys(inputsSchema.shape) as Array<keyof typeof inputsSchema.shape>;

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * Reads every input through `get` (core.getInput in the action: '' when unset). `check-name` is
 * the one input where '' means something (no check run), so unset is told apart by `has`.
 */
export function parseInputs(get: (name: string) => string, has: (name: string) => boolean): Inputs {
  const raw: Record<string, string | undefined> = {};
  for (const name of INPUT_NAMES) raw[name] = has(name) ? get(name) : undefined;
  const parsed = inputsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InputError(
      parsed.error.issues.map((i) => `input \`${String(i.path[0] ?? '')}\`: ${i.message}`).join('\n'),
    );
  }
  return parsed.data;
}

/** `%` not followed by two hex digits: decodeURIComponent throws on it. */
const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

function hasMalformedCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return MALFORMED_ESCAPE.test(u.username) || MALFORMED_ESCAPE.test(u.password);
  } catch {
    return false;
  }
}

/** A percent-encoded value decoded, or as it is when it does not decode. */
function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The values that must never appear in logs, read from the raw inputs before anything parses them:
 * an input that fails to parse is reported, and the report must not carry its secret. `get` is
 * core.getInput (or a test's stand-in).
 */
export function rawSecretsOf(get: (name: string) => string): string[] {
  const out: string[] = [get('token'), get('prometheus-token')];
  const headers = get('prometheus-headers');
  const parsed = parseHeaderText(headers);
  if (parsed.ok) out.push(...Object.values(parsed.headers));
  else
    for (const line of headers.split('\n')) {
      const colon = line.indexOf(':');
      out.push((colon >= 0 ? line.slice(colon + 1) : line).trim());
    }
  // https://user:pass@host: the password as written (encoded), and decoded as an error may show it.
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^@/?#]*)@/i.exec(get('prometheus-url').trim())?.[1];
  if (userinfo?.includes(':')) {
    const password = userinfo.slice(userinfo.indexOf(':') + 1);
    out.push(password, decoded(password));
  }
  return out.map((s) => s.trim()).filter((s) => s.length >= 4);
}

/** Values that must never appear in logs. */
export function secretsOf(inputs: Inputs): string[] {
  const out = [inputs.token, inputs['prometheus-token'], ...Object.values(inputs['prometheus-headers'])];
  // https://user:pass@host: the password may appear encoded in the URL and decoded in an error.
  const url = inputs['prometheus-url'] ? new URL(inputs['prometheus-url']) : null;
  if (url?.password) out.push(url.password, decoded(url.password));
  return out.filter((s): s is string => typeof s === 'string' && s.length >= 4);
}

/**
 * A file an input names, inside the workspace: `telemetry-file: /etc/shadow` or `../../x` would
 * have the gate read (and quote lines of) files outside the repository it judges. Symbolic links
 * are followed before the check, so a link in the repository cannot lead out either.
 */
export function workspaceFile(workspace: string, file: string, input: string): string {
  const named = isAbsolute(file) ? file : resolve(workspace, file);
  const root = realOrSelf(resolve(workspace));
  const rel = relative(root, realOrSelf(named));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    throw new InputError(
      `input \`${input}\`: ${file} is outside the workspace (${workspace}): name a file in the repository`,
    );
  // The path as named, not as resolved: it is the source's name in the decision.
  return named;
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * The runner's own settings that the gate's HTTP clients read: a malformed one is named here, not
 * discovered as an "Invalid URL" stack inside a request.
 */
export function checkRunnerUrls(env: Record<string, string | undefined>): void {
  for (const name of ['GITHUB_API_URL', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) {
    const value = env[name];
    if (!value) continue;
    const protocol = URL.canParse(value) ? new URL(value).protocol : '';
    if (protocol !== 'http:' && protocol !== 'https:') {
      const shown = value.replace(/\/\/[^@/]*@/, '//***@').slice(0, 80);
      throw new InputError(
        `${name} is "${shown}": expected an http(s) URL such as http://proxy.internal:3128`,
      );
    }
  }
}
