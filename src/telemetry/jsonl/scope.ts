import type { Slo } from '../../policy/spec/schema.ts';

/** A predicate over a task's attributes for an SLO's scope; `all` matches every task. */
export function scopeMatcher(scope: Slo['scope']): (attrs: Record<string, unknown> | undefined) => boolean {
  if (scope === 'all') return () => true;
  const wants = Object.entries(scope).map(([key, v]) => [key, new Set(Array.isArray(v) ? v : [v])] as const);
  return (attrs) => {
    if (!attrs) return false;
    for (const [key, allowed] of wants) {
      const value = attrs[key];
      if (value === undefined || !allowed.has(String(value))) return false;
    }
    return true;
  };
}
