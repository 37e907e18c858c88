import { readdirSync, statSync } from 'node:fs';
import type { RepoReader } from '../policy/readiness/runbook-policy.ts';
import { assessReadiness, type RepoFiles, renderReadiness } from '../policy/readiness/verdict.ts';
import { DEFAULT_POLICY_PATH } from '../policy/spec/load.ts';
import { confinedPath, InputFileError, readRepoFileSync } from './read-input.ts';

// The repository's files as the pure runbook and readiness judges read them: a checkout on disk
// (the CLI's --root, the Action's workspace). Missing files are null, never an exception.

/** A runbook or postmortem is a page of Markdown: past this it is not one. */
const MAX_REPO_FILE_BYTES = 1 << 20;
/** A postmortems folder listing past this many entries is cut (the newest are judged by name). */
const MAX_DIR_ENTRIES = 10_000;

/** The root must be a folder that exists: judging a mistyped --root would score an empty repository. */
function checkedRoot(root: string): string {
  let ok = false;
  try {
    ok = statSync(root).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new InputFileError(`the repository root ${root} is not a folder that exists`);
  return root;
}

const missing = (e: unknown) => e instanceof InputFileError && /: no such file$/.test(e.message);

export function repoReader(root: string): RepoReader {
  checkedRoot(root);
  return (path) => {
    try {
      return readRepoFileSync(root, path, 'repository file', MAX_REPO_FILE_BYTES);
    } catch (e) {
      // Missing is an answer the judges expect (null); leaving the root, or a special file, is refused.
      if (missing(e)) return null;
      throw e;
    }
  };
}

export function repoFiles(root: string): RepoFiles {
  const read = repoReader(root);
  return {
    read,
    list: (dir) => {
      let real: string;
      try {
        real = confinedPath(root, dir, 'folder');
      } catch (e) {
        if (missing(e)) return null;
        throw e;
      }
      try {
        return readdirSync(real).slice(0, MAX_DIR_ENTRIES);
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
  try {
    return renderReadiness(assessReadiness(repoFiles(root), policyPath, now));
  } catch (e) {
    // The readiness section is advice in the summary: a refused file must not fail the gate.
    if (e instanceof InputFileError) return `\n### Readiness\n\nNot judged: ${e.message}\n`;
    throw e;
  }
}
