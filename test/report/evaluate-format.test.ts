import { describe, expect, it } from 'vitest';
import { DEMO_END } from '../../src/scenarios/demo.ts';
import { GH_REPO, gate, payload, workspace } from '../action/support.ts';
import { api } from '../github/helpers.ts';
import { cli } from '../support/cli.ts';
import { useNock } from '../support/nock.ts';

// `budget-gate evaluate --format markdown` is the Action's job summary, character for character:
// the same workspace, change and time through the gate (GitHub played by nock) and through the CLI.

useNock('all-called');

const FILES = ['prompts/refund.md', 'src/agent/tools.ts'];

describe('evaluate --format', () => {
  it('markdown prints the job summary exactly as the Action writes it', async () => {
    const ws = workspace();
    const opened = payload('pull_request', (e) => e.action === 'opened');
    api()
      .get(`${GH_REPO}/pulls/2/files`)
      .query(true)
      .reply(
        200,
        FILES.map((filename) => ({ filename, status: 'modified', sha: 'a'.repeat(40) })),
      )
      .post(`${GH_REPO}/check-runs`)
      .reply(201, { id: 7, html_url: 'https://github.test/checks/7' });
    const action = await gate('pull_request', opened);

    const local = await cli(
      [
        'evaluate',
        '--telemetry',
        'telemetry.jsonl.gz',
        '--changed-files',
        '-',
        '--author',
        'Codertocat', // the pull request's author in the example payload
        '--at',
        DEMO_END,
        '--format',
        'markdown',
      ],
      { cwd: ws, stdin: `${FILES.join('\n')}\n` },
    );
    expect(local.code).toBe(1);
    // The Action adds one section the local run has no fact for: where it read the policy in force
    // (the pull request's base, through the API). Everything else is the same text.
    const inForce = /\n### The policy in force\n\nJudged by [^\n]+\n/;
    expect(action.markdown).toMatch(inForce);
    expect(local.stdout).toBe(action.markdown.replace(inForce, ''));
    // The footer names the telemetry file inside the workspace, never the runner's absolute path.
    expect(local.stdout).toContain('telemetry: jsonl `telemetry.jsonl.gz`');
    expect(local.stdout).not.toContain(ws);
  });

  it('json and --json print the decision; text is the default; a wrong format is refused with exit 2', async () => {
    const args = [
      'evaluate',
      '--policy',
      'examples/error-budget.yml',
      '--telemetry',
      'examples/telemetry/demo.jsonl.gz',
    ];
    const json = await cli([...args, '--at', DEMO_END, '--format', 'json']);
    const alias = await cli([...args, '--at', DEMO_END, '--json']);
    expect(json.stdout).toBe(alias.stdout);
    expect(JSON.parse(json.stdout)).toMatchObject({
      state: 'soft-pause',
      allowed: true,
      evaluated_at: '2026-11-20T09:00:00.000Z',
    });
    const text = await cli([...args, '--at', DEMO_END]);
    expect(text.stdout).toBe((await cli([...args, '--at', DEMO_END, '--format', 'text'])).stdout);
    expect(text.stdout).toContain('Budget consumed: ');

    const bad = await cli([...args, '--format', 'html']);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toContain('--format html: expected one of text, markdown, json');
    const clash = await cli([...args, '--format', 'text', '--json']);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain('--json and --format text disagree');
  });
});
