import { runDist, type Scenario, startServers } from './lib/action-run.ts';
import type { Figure } from './lib/report.ts';

// 2. Requests per decision: what one gate run asks GitHub and the metrics server, by scenario.

const TARGETS: Partial<Record<Scenario, number>> = { pr: 3 };
const LABEL: Record<Scenario, string> = {
  pr: 'on a PR',
  push: 'on a push-triggered deploy',
  override: 'on a PR with an override to verify (and record)',
};

export async function requestsPerDecision(): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const scenario of ['pr', 'push', 'override'] as Scenario[]) {
    const servers = await startServers();
    try {
      const { code } = await runDist(servers, scenario);
      if (code !== 0) throw new Error(`the gate exited ${code} on the ${scenario} scenario`);
      const gh = servers.gh.requests.length;
      const target = TARGETS[scenario];
      figures.push({
        bench: 'requests',
        metric: `GitHub REST requests ${LABEL[scenario]}`,
        value: gh,
        unit: '',
        ...(target !== undefined ? { target: `<= ${target}`, met: gh <= target } : {}),
        note: servers.gh.requests
          .map((r) => `${r.method} ${r.path.replace('/repos/Codertocat/Hello-World', '')}`)
          .join(', '),
      });
      figures.push({
        bench: 'requests',
        metric: `metrics requests ${LABEL[scenario]}`,
        value: servers.prom.requests,
        unit: '',
      });
    } finally {
      await servers.close();
    }
  }
  return figures;
}
