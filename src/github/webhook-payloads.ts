import { z } from 'zod';
import type { RepoRef } from './octokit.ts';

// The webhook fields budget-gate reads, for the Action's triggering event and the bot's deliveries
// alike. Only these are validated, so GitHub adding fields never breaks either, and a payload
// missing one names it.

const user = z.object({ login: z.string(), type: z.string().optional() });
const repository = z.object({ name: z.string(), owner: user, default_branch: z.string().optional() });
/** The bot reads the policy from the default branch for label events: there it must be present. */
const repositoryWithDefault = repository.extend({ default_branch: z.string() });
const installation = z.object({ id: z.number().int() });

export const repoOf = (r: z.infer<typeof repository>): RepoRef => ({ owner: r.owner.login, repo: r.name });

export const pullRequestPayload = z.object({
  pull_request: z.object({
    number: z.number().int(),
    title: z.string(),
    user: user.nullable(),
    labels: z.array(z.object({ name: z.string() })).default([]),
    head: z.object({ sha: z.string(), ref: z.string(), repo: repository.nullable() }),
    base: z.object({ sha: z.string(), ref: z.string() }),
  }),
  repository,
});

export const pushPayload = z.object({
  after: z.string(),
  before: z.string().nullable().optional(),
  ref: z.string(),
  head_commit: z.object({ message: z.string() }).nullable().optional(),
  repository,
});

export const deploymentPayload = z.object({
  deployment: z.object({
    id: z.number().int(),
    sha: z.string(),
    ref: z.string(),
    environment: z.string(),
    creator: user.nullable().optional(),
  }),
  repository,
});

export const deploymentStatusPayload = z.object({
  deployment_status: z.object({
    state: z.string(),
    environment: z.string().optional(),
    created_at: z.string(),
  }),
  deployment: z.object({ id: z.number().int(), sha: z.string(), environment: z.string() }),
  repository: repositoryWithDefault,
  installation,
});

export const protectionRulePayload = z.object({
  environment: z.string(),
  deployment_callback_url: z.string().url(),
  deployment: z.object({ id: z.number().int(), sha: z.string(), ref: z.string().optional() }),
  repository: repositoryWithDefault,
});

export const labeledPayload = z.object({
  label: z.object({ name: z.string() }),
  pull_request: z.object({
    number: z.number().int(),
    user: user.nullable(),
    head: z.object({ sha: z.string() }),
  }),
  sender: user,
  repository: repositoryWithDefault,
});

export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

export function parsePayload<T extends z.ZodType>(schema: T, payload: unknown, event: string): z.output<T> {
  const r = schema.safeParse(payload);
  if (r.success) return r.data;
  const where = r.error.issues.map((i) => `\`${i.path.join('.') || '(root)'}\` (${i.message})`).join('; ');
  throw new PayloadError(`the ${event} event payload has no usable ${where}`);
}
