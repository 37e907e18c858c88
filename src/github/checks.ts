import { needing } from './errors.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';

// The gate's verdict as a check run, so a branch-protection rule can require it by name. One
// request when the decision is already made (created completed); start/complete for callers that
// want the check visible while they work.

/** GitHub refuses check-run output fields longer than this. */
export const CHECK_TEXT_LIMIT = 65_535;
/** GitHub accepts at most 50 annotations per request. */
export const CHECK_ANNOTATIONS_LIMIT = 50;

export type CheckConclusion = 'success' | 'failure' | 'neutral' | 'action_required' | 'cancelled' | 'skipped';

export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
}

export interface CheckOutput {
  /** The headline: "SOFT-PAUSE — prompts/refund.md is high risk — …". */
  title: string;
  /** The Markdown report. */
  summary: string;
  text?: string;
  annotations?: CheckAnnotation[];
}

export interface CheckRunInput {
  name: string;
  head_sha: string;
  conclusion: CheckConclusion;
  output: CheckOutput;
  details_url?: string;
  external_id?: string;
}

export interface CheckRunRef {
  id: number;
  html_url: string | null;
}

export function truncateForCheck(s: string, limit = CHECK_TEXT_LIMIT): string {
  if (s.length <= limit) return s;
  const note = '\n\n… (truncated: the full report is in the job summary)';
  return s.slice(0, limit - note.length) + note;
}

function outputBody(output: CheckOutput) {
  return {
    title: truncateForCheck(output.title, 1000),
    summary: truncateForCheck(output.summary),
    ...(output.text ? { text: truncateForCheck(output.text) } : {}),
    ...(output.annotations?.length
      ? { annotations: output.annotations.slice(0, CHECK_ANNOTATIONS_LIMIT) }
      : {}),
  };
}

const permissionCall = (repo: RepoRef) => `POST /repos/${repo.owner}/${repo.repo}/check-runs`;

/** Creates a completed check run in one request. */
export async function createCheckRun(
  gh: GitHubClient,
  repo: RepoRef,
  input: CheckRunInput,
): Promise<CheckRunRef> {
  const res = await needing('checks: write', permissionCall(repo), () =>
    gh.request('POST /repos/{owner}/{repo}/check-runs', {
      ...repo,
      name: input.name,
      head_sha: input.head_sha,
      status: 'completed',
      conclusion: input.conclusion,
      output: outputBody(input.output),
      ...(input.details_url ? { details_url: input.details_url } : {}),
      ...(input.external_id ? { external_id: input.external_id } : {}),
    }),
  );
  return { id: Number(res.data.id), html_url: res.data.html_url ?? null };
}
