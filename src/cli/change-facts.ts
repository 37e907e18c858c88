import type { Change } from '../policy/gate/change.ts';
import type { ChangeFacts } from '../policy/gate/ports.ts';
import { isOverrideLabel } from '../policy/overrides/overrides.ts';

/**
 * Change facts given on the command line, handed to the pipeline in the same two steps the Action
 * gathers them in GitHub (override labels set aside until the change is blocked), so a replayed
 * decision is the same JSON, warnings included.
 */
export function localChangeFacts(change: Change): ChangeFacts {
  const overrideLabels = change.labels.filter((l) => isOverrideLabel(l.name)).map((l) => l.name);
  return {
    gather: async () => ({
      change: { ...change, labels: change.labels.filter((l) => !isOverrideLabel(l.name)) },
      pull_request: null,
      sha: 'local',
      override_labels: overrideLabels,
      warnings: change.warnings ?? [],
    }),
    further: (g) => (g.override_labels.length > 0 ? Promise.resolve({ ...g, change }) : null),
  };
}
