import { describe, it } from 'vitest';
import { tempDir } from '../../support/tasks.ts';
import { expectCrashMatrix } from './matrix.ts';

// Every k from 1 to the revert's last GitHub request: the bot is SIGKILLed right after GitHub
// acted on its k-th request, restarted on the same SQLite file, and the end state must be the
// uninterrupted run's: one branch, one pull request with its labels, reviewers, body and
// auto-merge, one deployment status, one comment.

describe('crash matrix, SQLite', () => {
  it('a revert killed after any of its GitHub requests ends exactly as an uninterrupted one', async () => {
    await expectCrashMatrix(() => Promise.resolve(`sqlite:${tempDir('bg-crash-')}/watches.sqlite`));
  }, 300_000);
});
