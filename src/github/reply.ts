import type { z } from 'zod';
import { formatPath } from '../policy/spec/load.ts';

/** The reply GitHub's answer did not have the shape of: which call, which field. */
class GitHubReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitHubReplyError';
  }
}

/**
 * A REST reply parsed with the schema of the fields budget-gate reads, so an answer of another
 * shape (a proxy's error page, an API change) is a located error, never a TypeError later.
 */
export function parseReply<T extends z.ZodType>(schema: T, data: unknown, call: string): z.output<T> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new GitHubReplyError(
    `GitHub's answer to ${call} has no usable \`${formatPath(issue.path) || '(root)'}\` (${issue.message})`,
  );
}
