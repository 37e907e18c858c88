import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoFiles, repoReader } from '../../src/repo/files.ts';
import { confinedPath, InputFileError, readInputText } from '../../src/repo/read-input.ts';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/tasks.ts';

// Files that are not regular files, and paths that leave the repository: every command reads its
// inputs through one reader, which caps what it reads, ends what does not end, and refuses to
// follow a policy's path (or a symlink) out of the checkout.

const LIMITS = { maxBytes: 1 << 16, timeoutMs: 300 };
const HOSTILE = join(import.meta.dirname, '..', 'fixtures', 'hostile', 'policy');

function fifo(dir: string, name = 'fifo'): string {
  const p = join(dir, name);
  const r = spawnSync('mkfifo', [p]);
  expect(r.status).toBe(0);
  return p;
}

describe('readInputText', () => {
  it('reads a regular file, and refuses one over the cap before reading it, with its size', async () => {
    const d = tempDir('bg-input-');
    writeFileSync(join(d, 'ok.txt'), '\uFEFFhello\n');
    expect(await readInputText(join(d, 'ok.txt'), 'ok.txt', 'policy', LIMITS)).toBe('hello\n');
    writeFileSync(join(d, 'big.txt'), 'x'.repeat(LIMITS.maxBytes + 1));
    await expect(readInputText(join(d, 'big.txt'), 'big.txt', 'policy', LIMITS)).rejects.toThrow(
      `cannot read policy big.txt: ${LIMITS.maxBytes + 1} bytes, more than the ${LIMITS.maxBytes} a policy may have`,
    );
  });

  it('stops /dev/zero and /dev/urandom at the cap', async () => {
    for (const dev of ['/dev/zero', '/dev/urandom'])
      await expect(readInputText(dev, dev, 'change file', LIMITS)).rejects.toThrow(
        `cannot read change file ${dev}: more than the ${LIMITS.maxBytes} bytes a change file may have`,
      );
  });

  it('a FIFO nobody writes to ends in an error at the time limit, not a hang at open', async () => {
    const p = fifo(tempDir('bg-fifo-'));
    await expect(readInputText(p, 'fifo', 'policy', LIMITS)).rejects.toThrow(/did not end within 0\.3 s/);
  });

  it('an endless FIFO is cut at the cap; a FIFO that ends is read', async () => {
    const d = tempDir('bg-fifo-');
    const endless = fifo(d, 'endless');
    const yes = spawn('sh', ['-c', `yes > ${endless}`], { stdio: 'ignore' });
    try {
      await expect(
        readInputText(endless, 'endless', 'policy', { ...LIMITS, timeoutMs: 30_000 }),
      ).rejects.toThrow(/more than the 65536 bytes/);
    } finally {
      yes.kill();
    }
    const once = fifo(d, 'once');
    const writer = spawn('sh', ['-c', `printf 'a.md\\nb.md\\n' > ${once}`], { stdio: 'ignore' });
    expect(await readInputText(once, 'once', 'changed-files list', { ...LIMITS, timeoutMs: 30_000 })).toBe(
      'a.md\nb.md\n',
    );
    writer.kill();
  });

  it('a directory and a missing file are named as such', async () => {
    const d = tempDir('bg-input-');
    await expect(readInputText(d, 'dir', 'policy', LIMITS)).rejects.toThrow(
      'cannot read policy dir: a directory, not a file',
    );
    await expect(readInputText(join(d, 'nope'), 'nope', 'policy', LIMITS)).rejects.toThrow(
      'cannot read policy nope: no such file',
    );
  });
});

describe('repository paths stay in the repository', () => {
  function repo() {
    const root = tempDir('bg-repo-');
    const outside = tempDir('bg-outside-');
    writeFileSync(join(outside, 'secret.env'), 'TOKEN=ghs_do_not_print\n');
    mkdirSync(join(root, 'runbooks'));
    writeFileSync(join(root, 'runbooks', 'ok.md'), '# Fast burn\n');
    symlinkSync(join(outside, 'secret.env'), join(root, 'runbooks', 'leak.md'));
    symlinkSync('/dev/zero', join(root, 'runbooks', 'zero.md'));
    symlinkSync('ok.md', join(root, 'runbooks', 'alias.md'));
    fifo(join(root, 'runbooks'), 'fifo.md');
    return { root, outside };
  }

  it('reads a file inside, follows a symlink that stays inside, and says null for a missing one', () => {
    const { root } = repo();
    const read = repoReader(root);
    expect(read('runbooks/ok.md')).toBe('# Fast burn\n');
    expect(read('runbooks/alias.md')).toBe('# Fast burn\n');
    expect(read('runbooks/missing.md')).toBeNull();
  });

  it('refuses a symlink out of the checkout (its lines never reach the log), /dev/zero and a FIFO', () => {
    const { root } = repo();
    const read = repoReader(root);
    expect(() => read('runbooks/leak.md')).toThrow(
      /refused repository file runbooks\/leak\.md: a symbolic link that leaves the repository/,
    );
    expect(() => read('runbooks/zero.md')).toThrow(/a symbolic link that leaves the repository/);
    expect(() => read('runbooks/fifo.md')).toThrow(
      /refused repository file runbooks\/fifo\.md: not a regular file/,
    );
    expect(() => read('../bg-outside/secret.env')).toThrow(/outside the repository/);
    expect(() => confinedPath(root, '/etc/passwd', 'runbook')).toThrow(/outside the repository/);
  });

  it('a folder outside is refused too, and a root that does not exist is an error, not an empty repository', () => {
    const { root } = repo();
    expect(() => repoFiles(root).list('../../../../etc')).toThrow(InputFileError);
    expect(() => repoFiles('/nonexistent/checkout')).toThrow(
      'the repository root /nonexistent/checkout is not a folder that exists',
    );
  });
});

describe('the CLI on special files and escaping paths: exit 2 with the reason', () => {
  it('lint /dev/zero and --changed-files /dev/urandom stop at the cap', async () => {
    const lint = await cli(['lint', '/dev/zero']);
    expect(lint.code).toBe(2);
    expect(lint.stderr).toMatch(/\/dev\/zero: more than the 1048576 bytes a policy may have/);
    const ev = await cli([
      'evaluate',
      '--policy',
      'examples/error-budget.yml',
      '--telemetry',
      'examples/telemetry/demo.jsonl.gz',
      '--changed-files',
      '/dev/urandom',
    ]);
    expect(ev.code).toBe(2);
    expect(ev.stderr).toMatch(/cannot read changed-files list \/dev\/urandom: more than the 67108864 bytes/);
  });

  it('readiness --root on a folder that does not exist is refused, not scored', async () => {
    const r = await cli(['readiness', '--root', '/nonexistent/checkout']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the repository root /nonexistent/checkout is not a folder that exists');
  });

  it('lint refuses postmortems.dir out of the repository and a javascript: runbook, located', async () => {
    const pm = await cli(['lint', join(HOSTILE, 'postmortems-outside.yml')]);
    expect(pm.code).toBe(2);
    expect(pm.stderr).toMatch(
      /postmortems-outside\.yml:10:\d+ oncall\.postmortems\.dir: expected a path inside the repository/,
    );
    const js = await cli(['lint', join(HOSTILE, 'runbook-javascript.yml')]);
    expect(js.code).toBe(2);
    expect(js.stderr).toMatch(
      /runbook-javascript\.yml:14:\d+ alerts\[0\]\.runbook: expected an http\(s\) URL or a repository path/,
    );
  });
});
