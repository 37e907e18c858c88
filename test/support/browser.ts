import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect } from 'vitest';

// Debian's headless Chromium, driven over the DevTools protocol, with the real `mermaid` packages
// served from node_modules by a loopback HTTP server: what GitHub does to a ```mermaid block, minus
// GitHub. Nothing leaves the machine: every request to another origin is aborted and recorded.

const CHROMIUM = process.env.BUDGET_GATE_CHROMIUM ?? '/usr/bin/chromium';

/** The Mermaid builds under test: the current release and 11.3, an older one GitHub has served. */
export const MERMAIDS = {
  current: 'mermaid',
  '11.3': 'mermaid-11-3',
} as const;
export type MermaidVersion = keyof typeof MERMAIDS;

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--font-render-hinting=none',
];

const ROOT = resolve(import.meta.dirname, '../..');

export interface TestBrowser {
  /** The loopback origin pages are served from. */
  origin: string;
  /** A fresh page with the given Mermaid build loaded, or none. */
  page(mermaid?: MermaidVersion): Promise<Page>;
  /** Requests to anywhere but the loopback server (there must be none). */
  blocked: string[];
  /** Lets pages reach another loopback origin too (a dashboard under test, a stand-in GitHub). */
  allow(origin: string): void;
  close(): Promise<void>;
}

function page(script: string | null): string {
  return `<!doctype html><html><head><meta charset="utf-8">${script ? `<script src="${script}"></script>` : ''}</head><body></body></html>`;
}

async function serve(): Promise<{ server: Server; origin: string }> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const vendor = /^\/vendor\/([\w-]+)\/mermaid\.min\.js$/.exec(url.pathname);
    if (vendor && Object.values(MERMAIDS).includes(vendor[1] as never)) {
      const body = await readFile(join(ROOT, 'node_modules', vendor[1]!, 'dist', 'mermaid.min.js'));
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(body);
      return;
    }
    const versioned = /^\/mermaid\/([\w.-]+)$/.exec(url.pathname);
    const pkg = versioned ? MERMAIDS[versioned[1] as MermaidVersion] : undefined;
    if (pkg) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page(`/vendor/${pkg}/mermaid.min.js`));
      return;
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page(null));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('the test page server has no address');
  return { server, origin: `http://127.0.0.1:${addr.port}` };
}

async function startBrowser(): Promise<TestBrowser> {
  const { server, origin } = await serve();
  const profile = await mkdtemp(join(tmpdir(), 'budget-gate-chromium-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: false, // the flags below say --headless themselves
      args: [...FLAGS, `--user-data-dir=${profile}`],
      defaultViewport: { width: 900, height: 700, deviceScaleFactor: 1 },
    });
  } catch (e) {
    server.close();
    await rm(profile, { recursive: true, force: true });
    throw new Error(
      `could not start Chromium at ${CHROMIUM} (scripts/test-deps installs Debian's chromium): ${(e as Error).message}`,
    );
  }
  const blocked: string[] = [];
  const allowed = [`${origin}/`];
  return {
    origin,
    blocked,
    allow(other) {
      allowed.push(`${other}/`);
    },
    async page(mermaid) {
      const p = await browser.newPage();
      await p.setRequestInterception(true);
      p.on('request', (r) => {
        if (allowed.some((o) => r.url().startsWith(o)) || r.url().startsWith('data:')) void r.continue();
        else {
          blocked.push(r.url());
          void r.abort();
        }
      });
      await p.goto(mermaid ? `${origin}/mermaid/${mermaid}` : `${origin}/`, { waitUntil: 'load' });
      return p;
    },
    async close() {
      await browser.close();
      await new Promise<void>((ok) => server.close(() => ok()));
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * One browser for the test file, started before its tests and closed after them; nothing may have
 * been fetched from anywhere but loopback.
 */
export function useBrowser(): Omit<TestBrowser, 'close'> {
  let started: TestBrowser | undefined;
  beforeAll(async () => {
    started = await startBrowser();
  });
  afterAll(async () => {
    await started?.close();
    expect(started?.blocked ?? []).toEqual([]);
  });
  const b = () => {
    if (!started) throw new Error('the browser did not start');
    return started;
  };
  return {
    get origin() {
      return b().origin;
    },
    get blocked() {
      return b().blocked;
    },
    page: (mermaid) => b().page(mermaid),
    allow: (origin) => b().allow(origin),
  };
}
