import { z } from 'zod';
import { type DurationBounds, durationProblem, formatDuration } from '../time/duration.ts';
import { type Duration, durationOf } from '../time/duration-value.ts';

// Its own module so both the policy schema and the oncall schema (which the policy schema imports)
// can share it without an import cycle.
// Parse, don't validate: a duration leaves the loader as a typed value (milliseconds next to the
// text), so nothing downstream parses a policy string again. It is bounded at lint as at use: a
// step that waits 99999999d is a time no clock can print.
/** A duration between `bounds` (duration.ts says why each kind has the bounds it has). */
export const boundedDuration = (bounds: DurationBounds) =>
  z
    .string()
    .transform((s, ctx): Duration => {
      const problem = durationProblem(s, bounds);
      const d = problem === null ? durationOf(s) : null;
      if (d === null) {
        ctx.addIssue({
          code: 'custom',
          message: problem ?? 'expected a duration such as 5m, 1h, 1d or 1h30m',
        });
        return z.NEVER;
      }
      return d;
    })
    .meta({ docType: `duration, ${formatDuration(bounds.min)}–${formatDuration(bounds.max)}` });
