import { parseDuration } from './duration.ts';

/**
 * A policy duration, parsed once by the loader: the milliseconds the math uses next to the text the
 * person wrote, which every message quotes back (`String(d)` and JSON give the text).
 */
export class Duration {
  readonly text: string;
  readonly ms: number;
  constructor(text: string, ms: number) {
    this.text = text;
    this.ms = ms;
  }
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

export function durationOf(text: string): Duration | null {
  const ms = parseDuration(text);
  return ms === null ? null : new Duration(text.trim(), ms);
}
