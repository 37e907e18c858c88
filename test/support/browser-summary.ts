/// <reference lib="dom" />
import MarkdownIt from 'markdown-it';
import type { Page } from 'puppeteer-core';

// A job summary as GitHub shows it: GFM rendered to HTML (markdown-it is CommonMark, as GitHub's
// cmark-gfm is, with tables, strikethrough and autolinks), each ```mermaid block drawn by Mermaid,
// in a page styled after GitHub's Markdown body.

const md = new MarkdownIt({ html: true, linkify: true });

const CSS = `
body { margin: 0; background: #fff; color: #1f2328; font: 14px/1.5 "Liberation Sans", "DejaVu Sans", sans-serif; }
main { width: 860px; padding: 16px 24px; }
h3 { font-size: 1.25em; margin: 8px 0 12px; }
p, ul, table, details { margin: 0 0 12px; }
ul { padding-left: 2em; }
code { font: 85% "DejaVu Sans Mono", monospace; background: rgba(175,184,193,0.2); padding: .2em .4em; border-radius: 6px; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d1d9e0; padding: 4px 10px; }
th { font-weight: 600; }
tr:nth-child(2n) { background: #f6f8fa; }
sub { color: #59636e; }
.mermaid svg { max-width: 700px; }
`;

/** The summary's HTML, as GitHub's Markdown renderer would produce it. */
function summaryHtml(markdown: string): string {
  return md.render(markdown);
}

/** Loads a summary into the page (which has Mermaid) and draws its charts. */
export async function showSummary(page: Page, markdown: string): Promise<void> {
  await page.evaluate(
    async (html, css) => {
      const style = document.createElement('style');
      style.textContent = css;
      document.head.append(style);
      const main = document.createElement('main');
      main.innerHTML = html;
      document.body.replaceChildren(main);
      // biome-ignore lint/suspicious/noExplicitAny: mermaid is the page's global, loaded by a <script>
      const mermaid = (window as any).mermaid;
      mermaid.initialize({ startOnLoad: false, theme: 'default', securityLevel: 'strict' });
      let n = 0;
      for (const codeEl of [...main.querySelectorAll('pre > code.language-mermaid')]) {
        const { svg } = await mermaid.render(`summary-chart-${n++}`, codeEl.textContent ?? '');
        const div = document.createElement('div');
        div.className = 'mermaid';
        div.innerHTML = svg;
        codeEl.parentElement!.replaceWith(div);
      }
      for (const d of main.querySelectorAll('details')) d.open = true;
    },
    summaryHtml(markdown),
    CSS,
  );
}
