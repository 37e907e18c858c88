import { z } from 'zod';

// A path a policy names inside the repository (a runbook, the postmortems folder). Whoever edits
// the policy chooses it, and a CI job prints what it reads: so it stays inside the checkout —
// relative, no `..` segment, no backslash tricks — and the reader also refuses symlinks that leave it.

/** Why `p` cannot be a repository path, or null. */
function repoPathProblem(p: string): string | null {
  if (p.startsWith('/') || /^[a-zA-Z]:/.test(p)) return 'expected a path relative to the repository root';
  if (p.includes('\\')) return 'expected forward slashes only';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u001f\u007f]/.test(p)) return 'expected no control characters';
  if (p.split('/').includes('..')) return 'expected a path inside the repository (no `..`)';
  return null;
}

export const repoPath = z
  .string()
  .min(1)
  .superRefine((p, ctx) => {
    const problem = repoPathProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const RUNBOOK_EXPECTED = 'expected an http(s) URL or a repository path to a .md file';

/** A runbook: an http(s) URL, or a repository path to a Markdown file (never `javascript:` or `file:`). */
export const runbookRef = z.string().superRefine((s, ctx) => {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(s)) {
    let ok = false;
    try {
      const u = new URL(s);
      ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '';
    } catch {
      ok = false;
    }
    if (!ok) ctx.addIssue({ code: 'custom', message: `${RUNBOOK_EXPECTED} (only http and https links)` });
    return;
  }
  const problem = repoPathProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
  else if (!/^[^\s:]+\.md(#[\w-]*)?$/.test(s)) ctx.addIssue({ code: 'custom', message: RUNBOOK_EXPECTED });
});
