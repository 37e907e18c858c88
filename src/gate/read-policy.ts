import { isAbsolute, resolve } from 'node:path';
import { type LoadedPolicy, loadPolicy, MAX_POLICY_BYTES, PolicyError } from '../policy/spec/load.ts';
import { InputFileError, readInputText } from '../repo/read-input.ts';

// The one reader of a policy on disk, for the Action (its checkout) and the CLI. The bot reads the
// same file from the repository (src/github/policy-file.ts); both hand the text to loadPolicy.

/** No policy at the path: each surface says what to do about it in its own words. */
export class PolicyMissingError extends Error {
  readonly file: string;
  constructor(file: string) {
    super(`no policy file at ${file}`);
    this.name = 'PolicyMissingError';
    this.file = file;
  }
}

export interface ReadPolicyOptions {
  /** `-` reads the policy from standard input, where the surface has one. */
  stdin?: () => Promise<string>;
}

/** Reads and loads `file` (relative to `baseDir`): a PolicyError names every located problem. */
export async function readPolicy(
  file: string,
  baseDir: string,
  opts: ReadPolicyOptions = {},
): Promise<LoadedPolicy> {
  let text: string;
  if (file === '-' && opts.stdin) {
    text = await opts.stdin();
  } else {
    const path = isAbsolute(file) ? file : resolve(baseDir, file);
    try {
      // Refused before it is read: a policy is a page of YAML, not a file (or a FIFO, or /dev/zero)
      // that fills the memory.
      text = await readInputText(path, file, 'policy', { maxBytes: MAX_POLICY_BYTES, timeoutMs: 30_000 });
    } catch (e) {
      if (e instanceof InputFileError && /: no such file$/.test(e.message))
        throw new PolicyMissingError(file);
      throw new PolicyError([
        {
          file,
          line: 1,
          col: 1,
          path: '',
          message:
            e instanceof InputFileError ? e.message : `cannot read the policy: ${(e as Error).message}`,
        },
      ]);
    }
  }
  return loadPolicy(text, file);
}
