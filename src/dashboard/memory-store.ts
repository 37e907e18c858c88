import { paceBurn } from '../report/format.ts';
import type {
  Capabilities,
  DashboardStore,
  FleetRow,
  HistoryView,
  OncallView,
  RepoName,
  RepositoryView,
  WatchView,
} from './ports.ts';

// The dashboard port over values held in memory: what `budget-gate dashboard` computes once at
// start-up, and the fixture the tests and the bench fill. The fleet rows are derived when a
// repository is put, never on a page load.

export interface RepoRecord {
  repository: RepositoryView;
  deployments?: WatchView[];
  history?: HistoryView;
  oncall?: OncallView;
}

/** The fleet line of a repository view: its worst SLO (least budget left) and that SLO's burn. */
function fleetRow(v: RepositoryView): FleetRow {
  const d = v.decision;
  const known = d.slos.filter((s) => s.remaining !== null);
  const worst =
    known.length > 0 ? known.reduce((a, b) => (b.remaining! < a.remaining! ? b : a)) : (d.slos[0] ?? null);
  return {
    repo: v.repo,
    environment: v.environment,
    state: d.state,
    worst_slo: worst?.name ?? null,
    remaining: worst?.remaining ?? null,
    burn: worst ? (paceBurn(worst)?.value ?? null) : null,
    alerts: d.alerts.length,
    evaluated_at: d.evaluated_at,
  };
}

export class MemoryDashboardStore implements DashboardStore {
  readonly #repos = new Map<RepoName, RepoRecord>();
  #fleet: FleetRow[] = [];

  readonly capabilities: Capabilities;

  constructor(capabilities: Capabilities, records: RepoRecord[] = []) {
    this.capabilities = capabilities;
    for (const r of records) this.#repos.set(r.repository.repo, r);
    this.#fleet = [...this.#repos.values()].map((r) => fleetRow(r.repository));
  }

  put(record: RepoRecord): void {
    this.#repos.set(record.repository.repo, record);
    this.#fleet = [...this.#repos.values()].map((r) => fleetRow(r.repository));
  }

  async fleet(): Promise<FleetRow[]> {
    return this.#fleet;
  }
  async repository(repo: RepoName): Promise<RepositoryView | null> {
    return this.#repos.get(repo)?.repository ?? null;
  }
  async deployments(repo: RepoName): Promise<WatchView[] | null> {
    const r = this.#repos.get(repo);
    return r ? (r.deployments ?? []) : null;
  }
  async history(repo: RepoName): Promise<HistoryView | null> {
    const r = this.#repos.get(repo);
    return r ? (r.history ?? { decisions: [], audit: [], incidents: [] }) : null;
  }
  async oncall(repo: RepoName): Promise<OncallView | null> {
    return this.#repos.get(repo)?.oncall ?? null;
  }
}
