import {
  ANNOTATION_MESSAGE_BYTES,
  ANNOTATION_TITLE_CHARS,
  ANNOTATIONS_PER_REQUEST,
  CHECK_TEXT_BYTES,
  truncateBytes,
  truncateChars,
} from './limits.ts';
import type { GitHubClient, RepoRef } from './octokit.ts';

// The gate's verdict as a check run, so a branch-protection rule can require it by name. One
// request when the decision is already made (created completed); start/complete for callers that
// want the check visible while they work.

/** GitHub refuses check-run summary and text longer than this many UTF-8 bytes. */
const CHECK_TEXT_LIMIT = CHECK_TEXT_BYTES;
/** GitHub accepts at most 50 annotations per request: the rest go in follow-up updates. */
const CHECK_ANNOTATIONS_LIMIT = ANNOTATIONS_PER_REQUEST;

type CheckConclusion = 'success' | 'failure' | 'neutral' | 'action_required' | 'cancelled' | 'skipped';

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

interface CheckOutput {
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

const TRUNCATED = '\n\n… (truncated: the full report is in the job summary)';

/** `s` within `limit` UTF-8 bytes (GitHub counts bytes, not characters), saying so when cut. */
function truncateForCheck(s: string, limit = CHECK_TEXT_LIMIT): string {
  return truncateBytes(s, limit, TRUNCATED);
}

function boundAnnotation(a: CheckAnnotation): CheckAnnotation {
  return {
    ...a,
    message: truncateBytes(a.message, ANNOTATION_MESSAGE_BYTES, ' … (truncated)'),
    ...(a.title !== undefined ? { title: truncateChars(a.title, ANNOTATION_TITLE_CHARS, '…') } : {}),
  };
}

/** The output without annotations, within GitHub's limits. */
function outputBody(output: CheckOutput) {
  return {
    title: truncateChars(output.title, 1000, '…'),
    summary: truncateForCheck(output.summary),
    ...(output.text ? { text: truncateForCheck(output.text) } : {}),
  };
}

/** Annotations in batches of 50: the first goes with the create, the others in updates. */
function annotationBatches(output: CheckOutput): CheckAnnotation[][] {
  const all = (output.annotations ?? []).map(boundAnnotation);
  const batches: CheckAnnotation[][] = [];
  for (let i = 0; i < all.length; i += CHECK_ANNOTATIONS_LIMIT) {
    batches.push(all.slice(i, i + CHECK_ANNOTATIONS_LIMIT));
  }
  return batches;
}

/** Sends the annotations beyond the first 50 as updates of the check run, 50 at a time. */
async function addAnnotations(
  gh: GitHubClient,
  repo: RepoRef,
  checkRunId: number,
  body: ReturnType<typeof outputBody>,
  batches: CheckAnnotation[][],
): Promise<void> {
  for (const annotations of batches) {
    await gh.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
      ...repo,
      check_run_id: checkRunId,
      output: { ...body, annotations },
    });
  }
}

/** Creates a completed check run in one request. */
export async function createCheckRun(
  gh: GitHubClient,
  repo: RepoRef,
  input: CheckRunInput,
): Promise<CheckRunRef> {
  const body = outputBody(input.output);
  const [first, ...rest] = annotationBatches(input.output);
  const res = await gh.request('POST /repos/{owner}/{repo}/check-runs', {
    ...repo,
    name: input.name,
    head_sha: input.head_sha,
    status: 'completed',
    conclusion: input.conclusion,
    output: { ...body, ...(first ? { annotations: first } : {}) },
    ...(input.details_url ? { details_url: input.details_url } : {}),
    ...(input.external_id ? { external_id: input.external_id } : {}),
  });
  const id = Number(res.data.id);
  await addAnnotations(gh, repo, id, body, rest);
  return { id, html_url: res.data.html_url ?? null };
}
