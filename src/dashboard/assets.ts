import { GRID } from './charts.ts';

// The stylesheet and the one script, served from the dashboard itself (a strict CSP allows
// nothing else). Light and dark follow the viewer's prefers-color-scheme; every colour that
// carries meaning holds 3:1 on both backgrounds.

export const STYLESHEET = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --line: #d0d7de;
  --ship: #1a7f37; --soft: #9a6700; --hard: #cf222e; --link: #0969da; --panel: #f6f8fa; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d;
    --ship: #3fb950; --soft: #d29922; --hard: #f85149; --link: #4493f8; --panel: #161b22; }
  .chart path[stroke="${GRID}"] { stroke: #30363d; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, sans-serif; }
header.top { display: flex; gap: 1rem; align-items: center; padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 600; color: var(--fg); text-decoration: none; }
header.top .who { margin-left: auto; display: flex; gap: .6rem; align-items: center; color: var(--muted); }
main { padding: 1rem 1.2rem 3rem; max-width: 1100px; }
a { color: var(--link); }
nav.tabs { display: flex; gap: 1rem; margin: .4rem 0 1rem; border-bottom: 1px solid var(--line); }
nav.tabs a, nav.tabs span { padding: .3rem 0; text-decoration: none; }
nav.tabs [aria-current=page] { border-bottom: 2px solid var(--link); font-weight: 600; color: var(--fg); }
nav.tabs span.off { color: var(--muted); }
table { border-collapse: collapse; margin: .6rem 0 1rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .7rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
thead th { color: var(--muted); font-weight: 600; }
thead th a { color: inherit; }
.state { font-weight: 700; padding: 0 .35rem; border: 2px solid; border-radius: 4px; white-space: nowrap; }
.state-ship { color: var(--ship); }
.state-soft-pause { color: var(--soft); }
.state-hard-pause { color: var(--hard); }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .6rem 1rem; margin: 1rem 0; }
.note { color: var(--muted); }
.chart svg { max-width: 100%; height: auto; display: block; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1rem; }
figure { margin: 0; }
figcaption { color: var(--muted); font-size: .9em; }
time .local { color: var(--muted); }
button { font: inherit; cursor: pointer; }
code { font-size: .92em; }
ol.timeline { padding-left: 1.2rem; }
`;

/** Adds the viewer's own zone beside each UTC time: the server cannot know it, the page can. */
export const LOCAL_TIME_SCRIPT = `(() => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || zone === 'UTC' || zone === 'Etc/UTC') return;
  const f = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: zone, timeZoneName: 'short' });
  for (const t of document.querySelectorAll('time[datetime]')) {
    const d = new Date(t.getAttribute('datetime'));
    if (Number.isNaN(d.getTime())) continue;
    const s = document.createElement('span');
    s.className = 'local';
    s.textContent = ' (' + f.format(d) + ')';
    t.append(s);
  }
})();
`;
