import { isGitHubFailure } from '../github/errors.ts';
import type { Gathered } from '../github/gather-change.ts';
import type { ChangeFacts } from '../policy/gate/ports.ts';
import { describeFailure } from './event.ts';

// When GitHub (or anything else) stops the gate before it can decide, the run still reports:
// a job summary and a failed check run with the failure in it, never only a red step whose log
// someone must open. And when only the look at what could let a blocked change through fails (an
// override label's history, a revert's evidence), the decision without it stands, with the failure
// said in it.

/** The gate could not decide; `markdown` is the job summary saying why (the check run was told too). */
export class GateFailure extends Error {
  readonly markdown: string;
  constructor(message: string, markdown: string, cause: unknown) {
    super(message, { cause });
    this.name = 'GateFailure';
    this.markdown = markdown;
  }
}

/** The job summary (and check-run text) of a run that could not decide. */
export function failureMarkdown(message: string, checkNote = ''): string {
  return [
    '## budget-gate could not decide',
    '',
    message,
    '',
    'Nothing was decided, so nothing is let through: the step fails (in `report` mode too). Fix what ' +
      'the line above names, then re-run the job. Every permission budget-gate uses, and what it is ' +
      'for, is listed in its documentation (docs/action.md, "Permissions").',
    ...(checkNote ? ['', checkNote] : []),
    '',
  ].join('\n');
}

/**
 * The change facts with the look further guarded: when GitHub refuses or fails it, the change is
 * judged on what was gathered first (still blocked: nothing unverified lets it through), and the
 * decision says what could not be checked and why. `failures` collects those lines for the log.
 */
export function guardedFacts(facts: ChangeFacts<Gathered>, failures: string[]): ChangeFacts<Gathered> {
  return {
    gather: () => facts.gather(),
    further: (g) =>
      facts.further(g)?.catch((e: unknown) => {
        if (!isGitHubFailure(e)) throw e;
        const labels = g.override_labels.map((l) => `\`${l}\``).join(', ');
        const what =
          g.override_labels.length === 0
            ? 'what could let this change through (a revert, an override label) could not be checked'
            : `${labels} could not be checked, so ${g.override_labels.length === 1 ? 'it is' : 'they are'} not honoured`;
        const line = `${what}: ${describeFailure(e)}`;
        failures.push(line);
        return { ...g, warnings: [...g.warnings, `${line}. Fix that and re-run the job.`] };
      }) ?? null,
  };
}
