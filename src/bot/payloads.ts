import { z } from 'zod';

// The webhook fields the handlers read, validated so a payload missing one fails with its name.
// Everything else in GitHub's payloads is ignored, so new fields never break the bot.

const user = z.object({ login: z.string() });
const repository = z.object({
  name: z.string(),
  owner: user,
  default_branch: z.string(),
});
const installation = z.object({ id: z.number().int() });

export const deploymentStatusPayload = z.object({
  deployment_status: z.object({
    state: z.string(),
    environment: z.string().optional(),
    created_at: z.string(),
  }),
  deployment: z.object({ id: z.number().int(), sha: z.string(), environment: z.string() }),
  repository,
  installation,
});

export const protectionRulePayload = z.object({
  environment: z.string(),
  deployment_callback_url: z.string().url(),
  deployment: z.object({ id: z.number().int(), sha: z.string(), ref: z.string().optional() }),
  repository,
});

export const labeledPayload = z.object({
  label: z.object({ name: z.string() }),
  pull_request: z.object({
    number: z.number().int(),
    user: user.nullable(),
    head: z.object({ sha: z.string() }),
  }),
  sender: user,
  repository,
});

export function parsePayload<T extends z.ZodType>(schema: T, payload: unknown, event: string): z.output<T> {
  const r = schema.safeParse(payload);
  if (r.success) return r.data;
  const where = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new Error(`${event} payload: ${where}`);
}
