import { parseDuration } from './duration.ts';

/**
 * A value the loader parsed from the policy's text: messages quote the text back as the person
 * wrote it (`String(v)`, and JSON), while the math reads the parsed fields.
 */
export abstract class Spelled {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

/** A policy duration: the milliseconds the math uses next to the text the person wrote. */
export class Duration extends Spelled {
  readonly ms: number;
  constructor(text: string, ms: number) {
    super(text);
    this.ms = ms;
  }
}

export function durationOf(text: string): Duration | null {
  const ms = parseDuration(text);
  return ms === null ? null : new Duration(text.trim(), ms);
}
