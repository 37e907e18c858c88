import * as core from '@actions/core';
import { createOctokit, RequestCounter } from '../github/octokit.ts';
import type { PolicyProblem } from '../policy/spec/load.ts';
import { readinessMarkdown } from '../repo/files.ts';
import { describeFailure, EventError, readEventFile } from './event.ts';
import { failureMarkdown } from './failure.ts';
import { GateFailure, GateSetupError, runGate } from './gate.ts';
import { checkRunnerUrls, InputError, parseInputs, rawSecretsOf, secretsOf } from './inputs.ts';
import { outputsOf } from './outputs.ts';
import { auditSection } from './summary.ts';
import { openTelemetry } from './telemetry.ts';

// The Action's wiring: the runner's environment in, outputs and a job summary out. Everything it
// decides happens in runGate (and the shared pipeline under it); index.ts only calls run(), so
// this module imports cleanly in tests, as in actions/typescript-action.

const env = (name: string): string | undefined => process.env[name] || undefined;
const inputEnv = (name: string) => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;

const annotationOf = (p: PolicyProblem): core.AnnotationProperties => ({
  file: p.file,
  startLine: p.line,
  startColumn: p.col,
  title: `budget-gate: ${p.path}`,
});

/** The Action's run: the runner's environment in, outputs, a job summary and the step's status out. */
export async function run(): Promise<void> {
  const counter = new RequestCounter();
  try {
    // Masked before anything parses them: a refusal of a malformed input must not print its secret.
    const masked = new Set(rawSecretsOf((name) => core.getInput(name)));
    for (const secret of masked) core.setSecret(secret);
    const inputs = parseInputs(
      (name) => core.getInput(name),
      (name) => process.env[inputEnv(name)] !== undefined,
    );
    for (const secret of secretsOf(inputs)) if (!masked.has(secret)) core.setSecret(secret);
    checkRunnerUrls(process.env);
    const token = inputs.token ?? env('GITHUB_TOKEN');
    if (!token)
      throw new GateSetupError(
        'no GitHub token: leave the `token` input at its default (the job token) or pass one',
      );
    const eventPath = env('GITHUB_EVENT_PATH');
    if (!eventPath)
      throw new GateSetupError('GITHUB_EVENT_PATH is not set: run budget-gate as a workflow step');
    const gh = createOctokit({
      token,
      ...(env('GITHUB_API_URL') ? { baseUrl: env('GITHUB_API_URL')! } : {}),
      counter,
      log: { debug: core.debug, info: core.info, warn: core.warning, error: core.error },
    });
    const result = await runGate({
      gh,
      counter,
      inputs,
      event: {
        eventName: env('GITHUB_EVENT_NAME') ?? '',
        payload: readEventFile(eventPath),
        repository: env('GITHUB_REPOSITORY') ?? '',
        sha: env('GITHUB_SHA') ?? '',
      },
      workspace: env('GITHUB_WORKSPACE') ?? process.cwd(),
      now: () => Date.now(),
      openTelemetry,
      log: { info: core.info, warning: core.warning },
    });
    const { decision } = result;
    for (const p of result.policyWarnings) core.warning(p.message, annotationOf(p));
    for (const [k, v] of Object.entries(outputsOf(decision, result.change, counter.total)))
      core.setOutput(k, v);
    const audit = result.audit ? auditSection(result.audit, result.auditBranch, result.auditPath) : '';
    const workspace = env('GITHUB_WORKSPACE') ?? process.cwd();
    const ready = inputs.readiness ? readinessMarkdown(workspace, inputs.policy, Date.now()) : '';
    const missingCheck = result.checkError ? `\n> **No check run.** ${result.checkError}\n` : '';
    await writeSummary(result.markdown + missingCheck + audit + ready);
    for (const f of result.githubFailures) core.warning(f);
    core.info(result.headline);
    for (const r of decision.reasons) core.info(`  • ${r.message}`);
    for (const a of decision.actions) core.info(`  → ${a}`);
    if (result.failed) core.setFailed(result.headline);
  } catch (e) {
    // Whatever stopped it, the job summary says so (runGate has told the check run too).
    if (e instanceof GateFailure) {
      const setup = e.cause instanceof GateSetupError ? e.cause : null;
      for (const p of setup?.problems ?? []) core.error(p.message, annotationOf(p));
      await writeSummary(e.markdown);
      core.setFailed(e.message);
      return;
    }
    const message =
      e instanceof GateSetupError || e instanceof InputError || e instanceof EventError
        ? e.message
        : // One line, no stack: a GitHub refusal names the call and the permission; else a bug to report.
          describeFailure(e);
    await writeSummary(failureMarkdown(message));
    core.setFailed(message);
  }
}

/** The job summary, when the runner gives one (GITHUB_STEP_SUMMARY); a run without it still logs. */
async function writeSummary(markdown: string): Promise<void> {
  try {
    await core.summary.addRaw(markdown).write();
  } catch (e) {
    core.warning(`could not write the job summary: ${(e as Error).message}`);
  }
}
