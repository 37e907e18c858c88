import { z } from 'zod';
import { looseningSchema } from '../spec/loosening.ts';
import { permissionLevel } from '../spec/schema.ts';

// The change being gated, as facts: a pull request, or what a deploy ships. The Action and the
// protection rule gather them from GitHub; the CLI reads them from flags or a `--change` file (the
// Action's `change` output), so a decision made in GitHub replays locally to the same result.

/** Year 9999's last millisecond: past it a time cannot be printed, and no label was applied then. */
const LAST_INSTANT = 253_402_300_799_999;

/** ms since epoch, written as ISO-8601 with an offset (or epoch ms) in a change file. */
const instant = z.union([
  z.number().int().nonnegative().max(LAST_INSTANT, 'expected a time before year 10000'),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
]);

/** Who applied a label, and what GitHub says about them. */
const labelEventSchema = z.strictObject({
  name: z.string().min(1),
  applied_by: z.string().nullable(),
  applied_at: instant.nullable(),
  /** `org/team-slug` for each team the applier belongs to that the policy names (as far as the token can see). */
  applier_teams: z.array(z.string()).default([]),
  applier_permission: z
    .union([permissionLevel, z.literal('none')])
    .nullable()
    .default(null),
});

/**
 * Why a change counts as a revert: facts GitHub vouches for, gathered through its API — never a
 * title, a branch name or a commit message, which anyone can write.
 */
export const revertEvidenceSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    /** The revert pull request the budget-gate App opened: author and every commit are the App's. */
    kind: z.literal('app-pull-request'),
    app: z.string(),
    pull_request: z.number().int(),
    branch: z.string(),
  }),
  z.strictObject({
    /** After the change, every file it touches is as it was before the reverted commit. */
    kind: z.literal('inverse-diff'),
    reverts: z.string(),
    files: z.number().int().nonnegative(),
  }),
  z.strictObject({
    /** A deployment of a sha that the environment ran before. */
    kind: z.literal('rollback'),
    sha: z.string(),
    environment: z.string(),
    deployment_id: z.number().int(),
  }),
]);
export type RevertEvidence = z.output<typeof revertEvidenceSchema>;

/**
 * The change touches the policy file: what its copy loosens against the policy in force (empty
 * when it only tightens). Gathered by the surface (src/github/policy-change.ts), so a replay
 * judges the same facts.
 */
const policyChangeSchema = z.strictObject({
  path: z.string(),
  /** Where the policy in force was read (a base or a deployed sha); null when the text was given. */
  in_force_at: z.string().nullable(),
  loosens: z.array(looseningSchema),
});
export type PolicyChange = z.output<typeof policyChangeSchema>;
/** Someone who wrote part of the change, as GitHub names them. */
const contributorSchema = z.strictObject({
  login: z.string(),
  /** A commit's author or committer (GitHub's `web-flow` aside), or a `Co-authored-by:` trailer. */
  as: z.enum(['author', 'committer', 'co-author']),
  /** The commit that names them (the first one that does). */
  commit: z.string(),
});
export type Contributor = z.output<typeof contributorSchema>;

export const changeSchema = z.strictObject({
  files: z.array(z.string()),
  labels: z.array(labelEventSchema).default([]),
  author: z.string().nullable().default(null),
  /** Overrides must be applied after this. */
  last_push_at: instant.nullable().default(null),
  /**
   * Why the last push time could not be read from the server, and what would fix it: an override
   * cannot be shown to come after the last push, so it is refused. Absent when it was read (or, on
   * the command line, when nobody asked).
   */
  last_push_unknown: z.string().optional(),
  /** Everyone besides the opener who wrote the change's commits: none of them may approve it. */
  contributors: z.array(contributorSchema).optional(),
  /**
   * Why who wrote the change is not fully known (a commit email linked to no account, a co-author
   * that is not a GitHub noreply address, a commit list GitHub cut at 250): each refuses an override.
   */
  contributors_unknown: z.array(z.string()).optional(),
  title: z.string().nullable().optional(),
  head_ref: z.string().nullable().optional(),
  commit_messages: z.array(z.string()).optional(),
  /** GitHub listed only part of the files: the rest are unknown, so never judged as whole. */
  files_partial: z.boolean().optional(),
  /** What GitHub vouches for when the change is a revert; null when it does not. */
  revert_evidence: revertEvidenceSchema.nullable().optional(),
  policy_change: policyChangeSchema.optional(),
  /**
   * What gathering these facts found worth saying (a deploy that goes backwards, a revert claim not
   * verified): the decision's warnings from GitHub, carried so a replay says the same. Never a fact
   * the decision is made on.
   */
  warnings: z.array(z.string()).optional(),
});

export type LabelEvent = z.output<typeof labelEventSchema>;
export type Change = z.output<typeof changeSchema>;

/** A label whose applier was not (yet) looked up. */
export const bareLabel = (name: string): LabelEvent => ({
  name,
  applied_by: null,
  applied_at: null,
  applier_teams: [],
  applier_permission: null,
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The change as a person (and `changeSchema`) reads it back: times in ISO-8601. */
export function changeToJson(change: Change): z.input<typeof changeSchema> {
  return {
    ...change,
    labels: change.labels.map((l) => ({ ...l, applied_at: iso(l.applied_at) })),
    last_push_at: iso(change.last_push_at),
  };
}
