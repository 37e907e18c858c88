import { loadPolicy } from '../policy/load.ts';
import type { Policy } from '../policy/schema.ts';

/** Watches carry their policy's text; each distinct text is parsed once per process. */
export class PolicyCache {
  private readonly byText = new Map<string, Policy>();

  get(text: string, path: string): Policy {
    let p = this.byText.get(text);
    if (!p) {
      p = loadPolicy(text, path).policy;
      this.byText.set(text, p);
    }
    return p;
  }
}
