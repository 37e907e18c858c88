import { z } from 'zod';
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

export const inputsSchema = z.object({
  policy: z.preprocess(blankToUndefined, z.string().default('.github/error-budget.yml')),
  token: optionalString,
  'prometheus-url': z.preprocess(blankToUndefined, z.url({ protocol: /^https?$/ }).optional()),
  'prometheus-token': optionalString,
  'prometheus-headers': headersSchema,
  'telemetry-file': optionalString,
  environment: optionalString,
  mode: z.preprocess(
    blankToUndefined,
    z.enum(['enforce', 'report'], { error: 'expected enforce or report' }).default('enforce'),
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
        const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
        if (Number.isNaN(ms)) {
          ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 time such as 2026-11-01T12:00:00Z' });
          return z.NEVER;
        }
        return ms;
      }),
  ),
});

export type Inputs = z.output<typeof inputsSchema>;
export const INPUT_NAMES = Object.keys(inputsSchema.shape) as Array<keyof typeof inputsSchema.shape>;

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

/** Values that must never appear in logs. */
export function secretsOf(inputs: Inputs): string[] {
  const out = [inputs.token, inputs['prometheus-token'], ...Object.values(inputs['prometheus-headers'])];
  // https://user:pass@host: the password may appear encoded in the URL and decoded in an error.
  const url = inputs['prometheus-url'] ? new URL(inputs['prometheus-url']) : null;
  if (url?.password) out.push(url.password, decodeURIComponent(url.password));
  return out.filter((s): s is string => typeof s === 'string' && s.length >= 4);
}
