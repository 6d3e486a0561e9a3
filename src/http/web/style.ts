import { createHash } from "node:crypto";
import { Hono } from "hono";

// One small stylesheet: system fonts, readable line length, visible focus, WCAG AA contrast, and a layout that
// folds to one column on a phone. Served by Archway so the CSP can stay at style-src 'self'.
const CSS = `
:root{--fg:#1b1f24;--muted:#4d5661;--bg:#fff;--panel:#f4f6f8;--line:#d0d7de;--accent:#0b5cad;--ok:#1a7f37;--warn:#9a6700;--bad:#c0262d}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--bg);padding:4px 8px;z-index:2}
.top{display:flex;flex-wrap:wrap;gap:12px;align-items:center;justify-content:space-between;padding:10px 20px;background:#0d2b4f;color:#fff}
.top a{color:#fff}.brand{font-weight:700;font-size:1.15rem}
.top nav{display:flex;flex-wrap:wrap;gap:16px;align-items:center}
.top a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
.who{color:#dbe6f3}
main{max-width:1100px;margin:0 auto;padding:12px 20px 40px}
h1{font-size:1.6rem;margin:.6em 0}h2{font-size:1.25rem;margin:1.4em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:4px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:12px 0}
.grid{display:grid;gap:12px;grid-template-columns:repeat(auto-fill,minmax(300px,1fr))}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;background:var(--panel)}
.scroll{overflow-x:auto}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}
label{display:block;font-weight:600;margin:.6em 0 .2em}
input[type=text],input[type=password],textarea,select{width:100%;max-width:40rem;padding:8px;border:1px solid #8c959f;border-radius:6px;font:inherit}
textarea{min-height:5rem}
button,.button{display:inline-block;margin-top:10px;padding:8px 14px;border:1px solid var(--accent);border-radius:6px;background:var(--accent);color:#fff;font:inherit;cursor:pointer;text-decoration:none}
button.secondary{background:var(--bg);color:var(--accent)}
button.danger{background:var(--bad);border-color:var(--bad)}
button.link{background:none;border:none;color:#fff;text-decoration:underline;padding:0;margin:0}
form.inline{display:inline}
.notice{padding:10px 12px;border-radius:6px;border:1px solid}
.notice-ok{border-color:var(--ok);background:#e6f4ea}.notice-error{border-color:var(--bad);background:#fdecea}
.state-ok{color:var(--ok);font-weight:600}.state-warn{color:var(--warn);font-weight:600}.state-bad{color:var(--bad);font-weight:600}.state-none{color:var(--muted);font-weight:600}
.muted{color:var(--muted)}.nowrap{white-space:nowrap}
.pill{display:inline-block;padding:0 8px;border-radius:10px;background:#dde4ec;margin:0 4px 4px 0;font-size:.9em}
.filters{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-end}.filters label{margin:0}.filters input{width:12rem}
.fleet{display:grid;grid-template-columns:repeat(auto-fill,14px);gap:3px;margin:8px 0;padding:0;list-style:none}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.cell{display:block;width:14px;height:14px;border-radius:3px;background:#8c959f}
.cell-ok{background:var(--ok)}.cell-warn{background:var(--warn)}.cell-bad{background:var(--bad)}.cell-none{background:#afb8c1}
.cell-ok-text{border-left:6px solid var(--ok)}.cell-warn-text{border-left:6px solid var(--warn)}.cell-bad-text{border-left:6px solid var(--bad)}.cell-none-text{border-left:6px solid #afb8c1}
details>summary{cursor:pointer}
.card>h2:first-child,.card>h3:first-child,.card>input[type=hidden]+h2,.card>input[type=hidden]+input[type=hidden]+h2{margin-top:.2em}
td form button,li form.inline button{margin-top:0}.actions{margin:10px 0}
.filters input.wide{width:28rem;max-width:100%}
.num{text-align:right;font-variant-numeric:tabular-nums}
table.compact th,table.compact td{padding:3px 8px}
.plan-group{margin:6px 0;padding:6px 10px;border:1px solid var(--line);border-radius:6px}
.plan-clouds{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:2px 12px;margin:6px 0 0 12px}
.plan-cloud[open]{grid-column:1/-1}.ops{margin:4px 0;padding-left:20px}
.chart{width:100%;height:auto;display:block}
.chart-label{font:600 13px system-ui,sans-serif;fill:var(--fg)}.chart-scale,.chart-tick{font:11px system-ui,sans-serif;fill:var(--muted)}
.chart-base{stroke:var(--line);stroke-width:1}
.bar-runs{fill:var(--accent)}.bar-changes{fill:var(--ok)}.bar-failures{fill:var(--bad)}
@media (max-width:600px){main{padding:8px 12px 32px}th,td{padding:4px}}
`;

/** Where the stylesheet is served; the hash in the query lets browsers cache it for good. */
export const STYLESHEET_PATH = `/assets/archway.css?v=${createHash("sha256").update(CSS).digest("hex").slice(0, 12)}`;

/** Serves the stylesheet. */
export function styleRoutes() {
  const app = new Hono();
  app.get("/assets/archway.css", (c) =>
    c.body(CSS, 200, {
      "content-type": "text/css; charset=utf-8",
      "cache-control": "public, max-age=31536000, immutable",
      "x-content-type-options": "nosniff",
    }),
  );
  return app;
}
