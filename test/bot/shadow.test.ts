import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { collectingLog } from '../../src/bot/log.ts';
import { reportShadow } from '../../src/bot/shadow.ts';
import { Watcher } from '../../src/bot/watcher.ts';
import { SqliteWatchStore } from '../../src/store/sqlite.ts';
import { assertAllCalled, useNock } from '../support/nock.ts';
import { tempDir } from '../support/tasks.ts';
import { firstBreachMinute } from './oracle.ts';
import {
  API,
  DEPLOYED_SHA,
  DEPLOYMENT_ID,
  MIN,
  POLICY_TEXT,
  REPO_PATH,
  SHIPPED_PR,
  scenarioBot,
  scenarioTasks,
  startWatch,
  T0,
} from './support.ts';

// auto_revert.mode: shadow, end to end: a real deployment_status webhook starts the watch, the
// watcher judges the same bad deploy the revert test reverts, and GitHub (nock) receives a
// deployment status and a comment saying it would revert — and no branch, commit or pull request.

useNock();

const SHADOW_POLICY = POLICY_TEXT.replace('auto_revert:\n', 'auto_revert:\n  mode: shadow\n');

describe('shadow mode', () => {
  it('judges as enforce does, then posts "would revert" with the evidence and records it, reverting nothing', async () => {
    expect(SHADOW_POLICY).toContain('  mode: shadow\n');
    const tasks = scenarioTasks(0.005, 0.0525);
    const store = new SqliteWatchStore(`${tempDir('bg-shadow-')}/watches.sqlite`);
    const { source, clock, probot } = scenarioBot(tasks, store);
    const log = collectingLog();
    const reverts: number[] = [];
    const watcher = new Watcher({
      store,
      source,
      clock: clock.now,
      replica: 'r1',
      log,
      revert: async (w) => {
        reverts.push(w.deployment_id);
        throw new Error('shadow mode must not revert');
      },
      shadow: async (w, e) => reportShadow(await probot.auth(w.installation_id), w, e, log),
    });

    await startWatch(probot, 'delivery-shadow', { policy: SHADOW_POLICY });
    expect((await store.get(DEPLOYMENT_ID))!.status).toBe('watching');

    // The same minute the enforce-mode judge would revert at.
    const breachAt = firstBreachMinute(tasks, T0)!;
    for (let m = 1; m < breachAt; m++) {
      clock.set(T0 + m * MIN);
      const r = await watcher.tick();
      expect(r.shadowed, `minute ${m}`).toEqual([]);
      expect(r.errors).toEqual([]);
    }

    const sent: { status?: Record<string, string>; comment?: { body: string }; paths: string[] } = {
      paths: [],
    };
    // The installation token from the webhook is still cached: no second token request.
    const gh = nock(API)
      .post(`${REPO_PATH}/issues/${SHIPPED_PR}/comments`, (b) => {
        sent.comment = b as { body: string };
        return true;
      })
      .reply(201, { id: 1, html_url: `https://github.com/Codertocat/Hello-World/pull/${SHIPPED_PR}#c1` })
      .post(`${REPO_PATH}/deployments/${DEPLOYMENT_ID}/statuses`, (b) => {
        sent.status = b as Record<string, string>;
        return true;
      })
      .reply(201, { id: 2, state: 'success' });
    gh.on('request', (req: { method: string; url: string }) =>
      sent.paths.push(`${req.method} ${new URL(req.url).pathname}`),
    );
    clock.set(T0 + breachAt * MIN);
    const report = await watcher.tick();
    assertAllCalled();
    expect(report.errors).toEqual([]);
    expect(report.shadowed).toEqual([DEPLOYMENT_ID]);
    expect(report.reverted).toEqual([]);
    expect(reverts).toEqual([]);
    // Only the two reports: no refs, trees, commits or pulls.
    expect(sent.paths).toEqual([
      `POST ${REPO_PATH}/issues/${SHIPPED_PR}/comments`,
      `POST ${REPO_PATH}/deployments/${DEPLOYMENT_ID}/statuses`,
    ]);

    expect(sent.status).toMatchObject({
      state: 'success',
      environment: 'production',
      log_url: `https://github.com/Codertocat/Hello-World/pull/${SHIPPED_PR}`,
    });
    expect(sent.status!.description).toMatch(
      /^budget-gate shadow: would revert: tasks-success: revert by the share rule/,
    );
    expect(sent.status!.description!.length).toBeLessThanOrEqual(140);

    const body = sent.comment!.body;
    expect(body).toContain('**budget-gate would revert this change** (shadow mode: nothing was reverted)');
    expect(body).toContain(
      `Deployment ${DEPLOYMENT_ID} (\`${DEPLOYED_SHA.slice(0, 7)}\` to \`production\`), ${breachAt}m after it went live`,
    );
    expect(body).toContain(
      '| Verdict | revert by the share rule (auto_revert.consumed 20% within 60m): at 99% confidence, holding over every check of the watch |',
    );
    expect(body).toMatch(/\| After the deploy \| bad ratio 5\.\d%: \d+ of \d+ tasks \(5\.\dx burn\) \|/);
    expect(body).toContain('| Before it | bad ratio 0.5% over the 1h before (0.50x burn) |');
    expect(body).toContain('`auto_revert.mode: shadow`');
    expect(body).toContain(`<!-- budget-gate:shadow deployment=${DEPLOYMENT_ID} -->`);

    // Recorded, and not judged again.
    const w = await store.get(DEPLOYMENT_ID);
    expect(w).toMatchObject({ status: 'shadowed', revert_pr: null, lease_owner: null });
    expect(w!.reason).toMatch(/^shadow mode, would revert: tasks-success: revert by the share rule/);
    clock.set(T0 + (breachAt + 1) * MIN);
    expect((await watcher.tick()).claimed).toBe(0);
    expect(log.lines.some((l) => l.includes('(shadow mode): would revert'))).toBe(true);
  });
});
