/**
 * Paths a diff touches. A rename counts as both paths: moving a prompt out of `prompts/` changes
 * what ships from `prompts/` too.
 */
export function filePaths(items: ReadonlyArray<{ filename: string; previous_filename?: string }>): string[] {
  const out = new Set<string>();
  for (const f of items) {
    out.add(f.filename);
    if (f.previous_filename) out.add(f.previous_filename);
  }
  return [...out];
}
