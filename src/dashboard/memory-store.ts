import { fleetFigures } from './figures.ts';
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
const fleetRow = (v: RepositoryView): FleetRow => ({
  repo: v.repo,
  environment: v.environment,
  ...fleetFigures(v.decision),
  evaluated_at: v.decision.evaluated_at,
});

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
