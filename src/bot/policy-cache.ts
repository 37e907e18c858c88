import { LRUCache } from 'lru-cache';
import { loadPolicy } from '../policy/spec/load.ts';
import type { Policy } from '../policy/spec/schema.ts';

/**
 * Watches carry their policy's text; each distinct text is parsed once while in use. Bounded: a
 * long-running bot sees every policy revision of every repository, but only the live watches' count.
 */
export class PolicyCache {
  private readonly byText: LRUCache<string, Policy>;

  constructor(max = 256) {
    this.byText = new LRUCache({ max });
  }

  get(text: string, path: string): Policy {
    let p = this.byText.get(text);
    if (!p) {
      p = loadPolicy(text, path).policy;
      this.byText.set(text, p);
    }
    return p;
  }

  get size(): number {
    return this.byText.size;
  }
}
