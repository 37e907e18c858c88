import type { Decision } from '../policy/gate/decision-schema.ts';
import { renderMarkdown } from './markdown.ts';
import { renderText } from './text.ts';

/** The ways a decision can be printed: for a terminal, as the Action's job summary, as JSON. */
const FORMATS = ['text', 'markdown', 'json'] as const;
export type Format = (typeof FORMATS)[number];

/** The format `--format` and `--json` ask for (`--json` is the older spelling of `--format json`). */
export function chooseFormat(
  format: string | undefined,
  json: boolean | undefined,
): { format: Format } | { error: string } {
  const wanted = format ?? (json ? 'json' : 'text');
  if (!(FORMATS as readonly string[]).includes(wanted))
    return { error: `--format ${wanted}: expected one of ${FORMATS.join(', ')}` };
  if (json && wanted !== 'json') return { error: `--json and --format ${wanted} disagree: pick one` };
  return { format: wanted as Format };
}

/**
 * One decision in the chosen format. `markdown` is byte for byte the job summary the Action
 * writes (given the same workspace), so a team can preview it before it is wired into CI.
 */
export function renderDecision(d: Decision, format: Format, opts: { workspace?: string } = {}): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(d, null, 2)}\n`;
    case 'markdown':
      return renderMarkdown(d, opts);
    case 'text':
      return renderText(d);
  }
}
