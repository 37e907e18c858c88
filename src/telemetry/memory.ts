import type { TelemetrySource } from '../policy/gate/ports.ts';
import type { TelemetryRequest, TelemetryResult } from '../policy/gate/sample.ts';
import type { TaskRecord } from './jsonl/record.ts';
import { SloTally } from './jsonl/tally.ts';

/** Task records already in memory (the simulator's generated month), counted like the JSONL source. */
export class MemorySource implements TelemetrySource {
  readonly name: string;
  private readonly records: readonly TaskRecord[];

  constructor(name: string, records: readonly TaskRecord[]) {
    this.name = name;
    this.records = records;
  }

  async fetch(request: TelemetryRequest): Promise<TelemetryResult> {
    const tallies = request.slos.map((q) => new SloTally(q));
    for (const r of this.records) for (const t of tallies) t.add(r);
    const slos: TelemetryResult['slos'] = {};
    for (const t of tallies) slos[t.name] = t.samples();
    return { slos, stats: { requests: 0, records: this.records.length } };
  }
}
