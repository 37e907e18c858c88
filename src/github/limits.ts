// GitHub's size limits on what we send, and truncation that respects them: check-run output is
// limited in UTF-8 bytes (GitHub answers 422 "summary exceeds a maximum bytesize of 65535"), pull
// request and comment bodies in characters. A cut never splits a character, and says it was cut.

/** Check run `output.summary` and `output.text`: UTF-8 bytes. */
export const CHECK_TEXT_BYTES = 65_535;
/** Check run annotation `message` and `raw_details`: 64 KB. */
export const ANNOTATION_MESSAGE_BYTES = 65_535;
/** Check run annotation `title`: characters. */
export const ANNOTATION_TITLE_CHARS = 255;
/** Annotations per create/update request; more are sent in follow-up updates. */
export const ANNOTATIONS_PER_REQUEST = 50;
/** Pull request and issue comment `body`: characters. */
export const BODY_CHARS = 65_536;

/** `s` cut to at most `maxBytes` UTF-8 bytes, ending with `note` when cut. */
export function truncateBytes(s: string, maxBytes: number, note = ''): string {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length <= maxBytes) return s;
  const room = Math.max(0, maxBytes - Buffer.byteLength(note, 'utf8'));
  let cut = room;
  // Back off continuation bytes (10xxxxxx) to the start of the character being cut.
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return bytes.subarray(0, cut).toString('utf8') + (room > 0 ? note : '');
}

/** `s` cut to at most `maxChars` UTF-16 units (GitHub counts characters; never fewer units than that). */
export function truncateChars(s: string, maxChars: number, note = ''): string {
  if (s.length <= maxChars) return s;
  let cut = Math.max(0, maxChars - note.length);
  // Do not leave half of a surrogate pair.
  if (cut > 0 && /[\uD800-\uDBFF]/.test(s[cut - 1]!)) cut--;
  return s.slice(0, cut) + note;
}

/** The note a truncated pull request or comment body ends with. */
export const BODY_NOTE = '\n\n… (truncated to fit GitHub’s 65,536-character limit)';
