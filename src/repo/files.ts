import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RepoReader } from '../policy/readiness/runbook-policy.ts';
import { assessReadiness, type RepoFiles, renderReadiness } from '../policy/readiness/verdict.ts';
import { DEFAULT_POLICY_PATH } from '../policy/spec/load.ts';

// The repository's files as the pure runbook and readiness judges read them: a checkout on disk
// (the CLI's --root, the Action's workspace). Missing files are null, never an exception.

export function repoReader(root: string): RepoReader {
  return (path) => {
    try {
      return readFileSync(resolve(root, path), 'utf8');
    } catch {
      return null;
    }
  };
}

export function repoFiles(root: string): RepoFiles {
  return {
    read: repoReader(root),
    list: (dir) => {
      try {
        return readdirSync(resolve(root, dir));
      } catch {
        return null;
      }
    },
  };
}

/** The flags of every command that judges the repository's files. */
export const REPO_OPTIONS = {
  policy: { type: 'string', default: DEFAULT_POLICY_PATH },
  root: { type: 'string', default: '.' },
  at: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** For the Action's job summary (`readiness: true`): the verdict on the checkout, as Markdown. */
export function readinessMarkdown(root: string, policyPath: string, now: number): string {
  return renderReadiness(assessReadiness(repoFiles(root), policyPath, now));
}
