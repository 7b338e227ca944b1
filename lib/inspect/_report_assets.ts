/**
 * The stylesheet and script inlined in `maestro report` pages (no network: no CDN, no font,
 * no image). The script only adds comfort: local times, selecting a task across the views,
 * filtering, sorting, expanding logs. Without it the page shows everything.
 *
 * @module
 */

/** The page's CSS. */
export const REPORT_CSS = `
:root{--bg:#fff;--fg:#1d2329;--muted:#5f6b76;--line:#d8dee4;--panel:#f6f8fa;--accent:#0b62d6;
--success:#1f883d;--failed:#cf222e;--soft_failed:#bc4c00;--skipped:#8c959f;--cancelled:#8250df;
--dry_run:#0969da;--running:#0969da;--sel:#fff8c5}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;
--panel:#161b22;--accent:#4493f8;--sel:#3b2e00}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg)}
header,main>section{padding:16px 24px}
header{border-bottom:1px solid var(--line);background:var(--panel)}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:0 0 12px}
nav{display:flex;gap:16px;margin-top:8px}nav a{color:var(--accent);text-decoration:none}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600;vertical-align:middle}
.st-success{background:var(--success)}.st-failed{background:var(--failed)}.st-soft_failed{background:var(--soft_failed)}
.st-skipped{background:var(--skipped)}.st-cancelled{background:var(--cancelled)}.st-dry_run{background:var(--dry_run)}
.st-running{background:var(--running)}.st-interrupted{background:var(--cancelled)}.st-incomplete{background:var(--soft_failed)}
dl.facts{display:grid;grid-template-columns:max-content 1fr max-content 1fr;gap:4px 16px;margin:8px 0 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.note{color:var(--muted);font-style:italic}
.controls{display:flex;gap:8px;align-items:center;margin-bottom:12px;flex-wrap:wrap}
.controls input,.controls select,.controls button{font:inherit;padding:3px 8px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
.scroll{overflow:auto;border:1px solid var(--line);border-radius:6px;background:var(--panel)}
svg.dag{display:block}
svg.dag .edge{fill:none;stroke:var(--muted);stroke-width:1.2;opacity:.55}
svg.dag .edge.member{stroke-dasharray:4 3}
svg.dag .edge.crit{stroke:var(--accent);stroke-width:2.2;opacity:.9}
svg.dag .edge.hl{stroke:var(--fg);stroke-width:2.4;opacity:1}
svg.dag .node{cursor:pointer}
svg.dag .node rect{stroke:rgba(0,0,0,.25);stroke-width:1}
svg.dag .node.crit rect{stroke:var(--accent);stroke-width:2.5}
svg.dag .node text{fill:#fff;font-size:12px;font-family:ui-monospace,monospace;pointer-events:none}
svg.dag .node.dim{opacity:.2}
svg.dag .node.selected rect{stroke:var(--fg);stroke-width:3}
.fill-success{fill:var(--success)}.fill-failed{fill:var(--failed)}.fill-soft_failed{fill:var(--soft_failed)}
.fill-skipped{fill:var(--skipped)}.fill-cancelled{fill:var(--cancelled)}.fill-dry_run{fill:var(--dry_run)}.fill-running{fill:var(--running)}
.gantt{position:relative;min-width:640px;padding:4px 0}
.gantt .axis{position:relative;height:20px;margin:0 16px 0 var(--label);border-bottom:1px solid var(--line)}
.gantt .tick{position:absolute;top:0;font-size:11px;color:var(--muted);transform:translateX(-50%)}
.gantt .row{display:flex;align-items:center;height:22px;cursor:pointer}
.gantt .row:hover,.gantt .row.selected{background:var(--sel)}
.gantt .label{width:var(--label);flex:none;padding:0 8px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-family:ui-monospace,monospace;font-size:12px}
.gantt .track{position:relative;flex:1;height:100%;margin-right:16px}
.gantt .bar{position:absolute;top:4px;height:14px;min-width:2px;border-radius:3px}
.gantt .bar.crit{outline:2px solid var(--accent);outline-offset:1px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{cursor:pointer;user-select:none;white-space:nowrap;background:var(--panel);position:sticky;top:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.selected td{background:var(--sel)}
tfoot td{font-weight:600}
.msg{max-width:420px;overflow-wrap:anywhere}
details.log{border:1px solid var(--line);border-radius:6px;margin:6px 0}
details.log>summary{cursor:pointer;padding:6px 10px;background:var(--panel)}
details.log.selected>summary{background:var(--sel)}
details.log pre{margin:0;padding:8px 10px;max-height:480px;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere}
.hidden{display:none!important}
`;

/** The page's script (its SHA-256 goes in the Content-Security-Policy). */
export const REPORT_JS = `
(function () {
  "use strict";
  var doc = document;
  function all(sel, root) { return Array.prototype.slice.call((root || doc).querySelectorAll(sel)); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  all("time[datetime]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d.getTime())) return;
    el.title = el.getAttribute("datetime");
    el.textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  });
  var tagged = all("[data-task]");
  function select(id, scrollTo) {
    tagged.forEach(function (el) { el.classList.toggle("selected", el.getAttribute("data-task") === id); });
    if (scrollTo) {
      var target = tagged.filter(function (el) {
        return el.getAttribute("data-task") === id && el.matches(scrollTo);
      })[0];
      if (target) {
        if (target.tagName === "DETAILS") target.open = true;
        target.scrollIntoView({ block: "center" });
      }
    }
  }
  all("svg.dag .node, .gantt .row").forEach(function (el) {
    el.addEventListener("click", function () { select(el.getAttribute("data-task"), "tr"); });
  });
  all("a.to-log").forEach(function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      select(a.closest("tr").getAttribute("data-task"), "details.log");
    });
  });
  var edges = all("svg.dag .edge");
  all("svg.dag .node").forEach(function (node) {
    var id = node.getAttribute("data-task");
    node.addEventListener("mouseenter", function () {
      edges.forEach(function (e) {
        e.classList.toggle("hl", e.getAttribute("data-from") === id || e.getAttribute("data-to") === id);
      });
    });
    node.addEventListener("mouseleave", function () {
      edges.forEach(function (e) { e.classList.remove("hl"); });
    });
  });
  var text = doc.getElementById("filter-text");
  var status = doc.getElementById("filter-status");
  function applyFilter() {
    var q = (text.value || "").toLowerCase();
    var s = status.value;
    var shown = 0;
    all("[data-task][data-status]").forEach(function (el) {
      var ok = (!q || el.getAttribute("data-task").toLowerCase().indexOf(q) >= 0) &&
        (!s || el.getAttribute("data-status") === s);
      if (el.matches("svg .node")) el.classList.toggle("dim", !ok);
      else el.classList.toggle("hidden", !ok);
      if (ok && el.tagName === "TR") shown++;
    });
    doc.getElementById("filter-count").textContent = shown + " shown";
  }
  if (text && status) {
    text.addEventListener("input", applyFilter);
    status.addEventListener("change", applyFilter);
    applyFilter();
  }
  all("table.sortable th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var tbody = th.closest("table").tBodies[0];
      var dir = th.getAttribute("data-dir") === "asc" ? "desc" : "asc";
      all("th", th.parentNode).forEach(function (o) { o.removeAttribute("data-dir"); });
      th.setAttribute("data-dir", dir);
      var rows = Array.prototype.slice.call(tbody.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-v") || a.cells[col].textContent;
        var y = b.cells[col].getAttribute("data-v") || b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
        return dir === "asc" ? c : -c;
      });
      rows.forEach(function (r) { tbody.appendChild(r); });
    });
  });
  function openAll(open) { all("details.log").forEach(function (d) { d.open = open; }); }
  var ex = doc.getElementById("logs-expand"), co = doc.getElementById("logs-collapse");
  if (ex) ex.addEventListener("click", function () { openAll(true); });
  if (co) co.addEventListener("click", function () { openAll(false); });
  doc.documentElement.setAttribute("data-ready", "true");
})();
`;
