/**
 * The dashboard's stylesheet, served from the package at /ui/assets/ui.css (no CDN, no build step).
 * Colours keep a contrast of at least 4.5:1 on their backgrounds (WCAG AA); focus is always visible.
 */
export const STYLES = `
:root { --fg:#1b1f24; --muted:#4a5563; --bg:#fff; --panel:#f4f6f8; --line:#c9d1d9; --accent:#0b5cad;
  --ok:#116329; --bad:#a40e26; --warn:#7d4e00; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
* { box-sizing: border-box; }
body { margin:0; color:var(--fg); background:var(--bg); font-size:15px; line-height:1.45; }
a { color:var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible
  { outline:3px solid #e8a317; outline-offset:2px; }
.skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:4px 8px; z-index:9; }
header.top { display:flex; align-items:center; gap:1.5rem; padding:.5rem 1rem; background:#14263d; color:#fff; flex-wrap:wrap; }
header.top a { color:#fff; text-decoration:none; padding:.25rem .4rem; border-radius:3px; }
header.top a[aria-current="page"] { background:#2f4b70; text-decoration:underline; }
header.top .brand { font-weight:700; font-size:1.1rem; }
header.top nav ul { display:flex; gap:.25rem; list-style:none; margin:0; padding:0; flex-wrap:wrap; }
header.top form { margin-left:auto; }
header.top button { background:#2f4b70; color:#fff; border:1px solid #8aa4c8; }
.banner { padding:.5rem 1rem; background:#fff4d6; color:#4d3000; border-bottom:1px solid #d9b45a; }
.flash { padding:.5rem .75rem; margin:.75rem 0; border-left:4px solid var(--accent); background:var(--panel); }
.flash.error { border-color:var(--bad); color:var(--bad); }
main { padding:0 1rem 2rem; max-width:1400px; }
h1 { font-size:1.4rem; margin:1rem 0 .5rem; } h2 { font-size:1.1rem; margin:1.25rem 0 .5rem; }
table { border-collapse:collapse; width:100%; font-size:.9rem; }
th, td { text-align:left; padding:.3rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:var(--panel); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:.85rem; }
pre { background:var(--panel); padding:.5rem; overflow:auto; max-height:28rem; white-space:pre-wrap; word-break:break-all; }
.status { display:inline-block; padding:0 .4rem; border-radius:3px; font-size:.85rem; border:1px solid currentColor; }
.status.ok { color:var(--ok); } .status.bad { color:var(--bad); } .status.warn { color:var(--warn); } .status.idle { color:var(--muted); }
.muted { color:var(--muted); }
form.filters { display:flex; gap:.75rem; flex-wrap:wrap; align-items:flex-end; background:var(--panel); padding:.5rem .75rem; border:1px solid var(--line); }
form.filters label, form.stack label { display:flex; flex-direction:column; font-size:.85rem; gap:.15rem; }
input, select, button { font:inherit; padding:.25rem .4rem; border:1px solid #6e7781; border-radius:3px; background:#fff; color:var(--fg); }
button { cursor:pointer; background:var(--accent); color:#fff; border-color:var(--accent); }
button.secondary { background:#fff; color:var(--accent); }
button.danger { background:var(--bad); border-color:var(--bad); }
form.inline { display:inline; }
.actions { display:flex; gap:.5rem; flex-wrap:wrap; align-items:flex-end; margin:.5rem 0; }
.actions form { display:flex; gap:.4rem; align-items:flex-end; }
.pager { display:flex; gap:1rem; margin:.75rem 0; align-items:center; }
.cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(300px, 1fr)); gap:1rem; }
.card { border:1px solid var(--line); border-radius:4px; padding:.5rem .75rem; }
.chart { margin:0; } .chart figcaption { font-weight:600; }
.chart svg { width:100%; height:auto; max-width:720px; display:block; }
.chart .bar.plain { fill:#0b5cad; } .chart .bar.ok { fill:#116329; } .chart .bar.bad { fill:#a40e26; }
.chart .axis { stroke:#6e7781; stroke-width:1; }
.chart text { font-size:9px; fill:#4a5563; }
.legend { margin:.25rem 0; font-size:.85rem; }
.key::before { content:""; display:inline-block; width:.7rem; height:.7rem; margin-right:.3rem; vertical-align:middle; }
.key.plain::before { background:#0b5cad; } .key.ok::before { background:#116329; } .key.bad::before { background:#a40e26; }
.charts { margin-bottom:1rem; }
.timeline { list-style:none; padding:0; margin:0; border-left:3px solid var(--line); }
.timeline li { margin:0 0 1rem; padding-left:.75rem; }
details > summary { cursor:pointer; }
progress { width:20rem; height:1rem; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:.2rem 1rem; margin:.5rem 0; }
dl.facts dt { font-weight:600; } dl.facts dd { margin:0; }
.signin { max-width:28rem; margin:4rem auto; padding:1rem 1.5rem; border:1px solid var(--line); border-radius:4px; }
.signin label { display:flex; flex-direction:column; gap:.25rem; margin:.75rem 0; }
`;
