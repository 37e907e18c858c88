import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';
import { tempDir } from '../support/tasks.ts';

// `npm run bot` on a fresh clone: no APP_ID, no .env, no telemetry, no store. The README says
// Probot's setup page opens to register the app; nothing should ask for telemetry first.

const START = fileURLToPath(new URL('../../scripts/bot-start.mjs', import.meta.url));
const APP_YML = fileURLToPath(new URL('../../app.yml', import.meta.url));

it('with no configuration, npm run bot serves Probot’s setup page', async () => {
  const dir = tempDir();
  copyFileSync(APP_YML, join(dir, 'app.yml'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    PORT: String(port),
    LOG_LEVEL: 'warn',
  };
  const child = spawn(process.execPath, [START], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b;
  });
  try {
    let page = '';
    for (let i = 0; i < 100 && !page; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/probot`);
        page = await res.text();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(page).toContain('Setup Your App');
    expect(stderr).toContain('no APP_ID (environment or .env): opening Probot’s setup');
    expect(stderr).not.toMatch(/telemetry|BUDGET_GATE_/);
  } finally {
    child.kill();
  }
}, 30_000);
