/**
 * Renders a `maestro report` page: one self-contained HTML file (inline CSS and script, an
 * inline SVG for the DAG, no network at all: a Content-Security-Policy forbids every fetch and
 * any script but its own). Everything is rendered here, so the page shows all of it even with
 * scripts off; the script adds filtering, sorting and selection.
 *
 * Task output is untrusted text: it is escaped, escape sequences are removed, and huge logs are
 * cut (head and tail) so the page stays small enough to open.
 *
 * @module
 */
import { Sha256 } from "../sha256.ts";
import { REPORT_CSS, REPORT_JS } from "./_report_assets.ts";
import { layoutDag } from "./dag_layout.ts";
import type { LogExcerpt } from "./log_text.ts";
import type { ReportData, ReportTask } from "./report_data.ts";

/** Above this many tasks the DAG is not drawn (a column of thousands helps nobody). */
export const DAG_MAX_TASKS = 1500;

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function num(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function seconds(s: number | null): string {
  if (s === null) return "-";
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

function usd(n: number | null): string {
  return n === null ? "-" : `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;
}

function time(iso: string | null): string {
  return iso ? `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso)}</time>` : "-";
}

/** A status as a class name or attribute value (run files are data: keep it to [a-z_]). */
function st(status: string): string {
  return status.replace(/[^a-z_]/g, "");
}

function badge(status: string): string {
  return `<span class="badge st-${st(status)}">${escapeHtml(status)}</span>`;
}

function summarySection(data: ReportData): string {
  const r = data.run;
  const counts = Object.entries(r.counts).map(([s, n]) => `${n} ${s}`).join(", ") || "none";
  const tokens = r.tokens
    ? `${r.tokens.total} (in ${r.tokens.input}, cached ${r.tokens.cached}, out ${r.tokens.output})`
    : "-";
  const crit = data.critical_path.path.length > 0
    ? `${data.critical_path.path.map((id) => `<code>${escapeHtml(id)}</code>`).join(" → ")} (${
      seconds(data.critical_path.seconds)
    })`
    : "-";
  const facts: [string, string][] = [
    ["Run", `<code>${escapeHtml(r.run_id)}</code>`],
    ["Status", badge(r.status)],
    ["Started", time(r.started_at)],
    ["Finished", time(r.finished_at)],
    ["Duration", seconds(r.duration_sec)],
    [
      "Tasks",
      `${data.tasks.length}${
        r.tasks_planned > data.tasks.length ? ` of ${r.tasks_planned}` : ""
      }: ${escapeHtml(counts)}`,
    ],
    ["Cost", usd(r.cost_usd)],
    ["Tokens", tokens],
    [
      "Parallelism",
      r.parallelism_savings_pct === null ? "-" : `${r.parallelism_savings_pct}% saved`,
    ],
    ["Profile", escapeHtml(r.execution_profile ?? "-")],
    ["Critical path", crit],
    ["Run directory", `<code>${escapeHtml(r.run_dir)}</code>`],
  ];
  if (r.resumed_from) facts.push(["Resumed from", `<code>${escapeHtml(r.resumed_from)}</code>`]);
  return `<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl>`;
}

function label(id: string, max: number): string {
  return id.length <= max ? id : `${id.slice(0, max - 1)}…`;
}

function dagSection(data: ReportData): string {
  if (!data.run.graph_known) {
    return `<p class="note">Dependencies are unknown: the run has no manifest (it was killed or is still running).</p>`;
  }
  if (data.tasks.length > DAG_MAX_TASKS) {
    return `<p class="note">${data.tasks.length} tasks: too many to draw (over ${DAG_MAX_TASKS}); <code>maestro graph &lt;plan&gt; --format dot</code> draws the plan.</p>`;
  }
  // a group's inner tasks hang off the group: its first inner tasks get a dashed edge from it
  const member = new Set<string>();
  // the manifest's task_graph does not mark groups: a group ran no process (no log) and has
  // tasks named under it
  const groups = new Set(data.tasks.filter((t) => t.log_path === null).map((t) => t.id));
  const graph = data.tasks.map((t) => {
    const slash = t.id.lastIndexOf("/");
    const group = slash > 0 ? t.id.slice(0, slash) : "";
    if (!group || t.depends_on.some((d) => d.startsWith(`${group}/`))) return t;
    if (!groups.has(group)) return t;
    member.add(`${group}\n${t.id}`);
    return { ...t, depends_on: [...t.depends_on, group] };
  });
  const layout = layoutDag(graph);
  const pad = 8;
  const byId = new Map(data.tasks.map((t) => [t.id, t]));
  const crit = new Set(data.critical_path.path);
  const critEdge = new Set<string>();
  for (let i = 1; i < data.critical_path.path.length; i++) {
    critEdge.add(`${data.critical_path.path[i - 1]}\n${data.critical_path.path[i]}`);
  }
  const chars = Math.floor((layout.nodeWidth - 16) / 7.3);
  const edges = layout.edges.map((e) =>
    `<path class="edge${critEdge.has(`${e.from}\n${e.to}`) ? " crit" : ""}${
      member.has(`${e.from}\n${e.to}`) ? " member" : ""
    }" data-from="${escapeHtml(e.from)}" data-to="${escapeHtml(e.to)}" d="${e.d}"/>`
  ).join("");
  const nodes = layout.nodes.map((n) => {
    const t = byId.get(n.id)!;
    return `<g class="node${crit.has(n.id) ? " crit" : ""}" data-task="${
      escapeHtml(n.id)
    }" data-status="${st(t.status)}" transform="translate(${n.x} ${n.y})"><title>${
      escapeHtml(
        `${n.id} — ${t.status} (${seconds(t.duration_sec)})${t.message ? `\n${t.message}` : ""}`,
      )
    }</title><rect class="fill-${
      st(t.status)
    }" width="${layout.nodeWidth}" height="${layout.nodeHeight}" rx="5"/><text x="8" y="${
      layout.nodeHeight / 2 + 4
    }">${escapeHtml(label(n.id, chars))}</text></g>`;
  }).join("");
  const w = layout.width + 2 * pad;
  const h = layout.height + 2 * pad;
  return `<div class="scroll"><svg class="dag" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="${-pad} ${-pad} ${w} ${h}" role="img" aria-label="task graph">${edges}${nodes}</svg></div>`;
}

/** 1, 2 or 5 × 10^k seconds: about `target` ticks over `span`. */
function tickStep(span: number, target = 8): number {
  const raw = Math.max(span / target, 0.001);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function ganttSection(data: ReportData): string {
  const ran = data.tasks.filter((t) =>
    t.started_at !== null && !Number.isNaN(Date.parse(t.started_at))
  );
  if (ran.length === 0) return `<p class="note">No task ran.</p>`;
  const startOf = (t: ReportTask) => Date.parse(t.started_at!);
  const endOf = (t: ReportTask) => {
    const end = t.finished_at ? Date.parse(t.finished_at) : NaN;
    return Number.isNaN(end) ? startOf(t) + t.duration_sec * 1000 : end;
  };
  const runStart = data.run.started_at ? Date.parse(data.run.started_at) : NaN;
  const t0 = Math.min(...ran.map(startOf), Number.isNaN(runStart) ? Infinity : runStart);
  const runEnd = data.run.finished_at ? Date.parse(data.run.finished_at) : NaN;
  const t1 = Math.max(...ran.map(endOf), Number.isNaN(runEnd) ? -Infinity : runEnd);
  const span = Math.max((t1 - t0) / 1000, 0.001);
  const pct = (ms: number) => num(Math.min(100, Math.max(0, ms / 1000 / span * 100)));
  const step = tickStep(span);
  const ticks: string[] = [];
  for (let s = 0; s <= span + 1e-9; s += step) {
    ticks.push(
      `<span class="tick" style="left:${num(s / span * 100)}%">${
        seconds(Math.round(s * 1000) / 1000)
      }</span>`,
    );
  }
  const rows = [...ran].sort((a, b) => startOf(a) - startOf(b)).map((t) => {
    const left = startOf(t) - t0;
    const width = Math.max(0, endOf(t) - startOf(t));
    const tip = `${t.id}: ${t.status}, ${seconds(t.duration_sec)}, +${
      seconds(Math.round(left) / 1000)
    } from start`;
    return `<div class="row" data-task="${escapeHtml(t.id)}" data-status="${st(t.status)}" title="${
      escapeHtml(tip)
    }"><div class="label">${escapeHtml(t.id)}</div><div class="track"><div class="bar fill-${
      st(t.status)
    } st-${st(t.status)}${t.critical ? " crit" : ""}" style="left:${pct(left)}%;width:${
      pct(width)
    }%"></div></div></div>`;
  }).join("");
  const longest = Math.min(40, Math.max(8, ...ran.map((t) => t.id.length)));
  const notRun = data.tasks.length - ran.length;
  return `<div class="scroll"><div class="gantt" style="--label:${
    Math.round(longest * 7.5 + 16)
  }px"><div class="axis">${ticks.join("")}</div>${rows}</div></div>${
    notRun > 0 ? `<p class="note">${notRun} task(s) did not run and are not shown.</p>` : ""
  }`;
}

function tokensCell(t: ReportTask): string {
  if (!t.tokens) return `<td class="num" data-v="-1">-</td>`;
  return `<td class="num" data-v="${t.tokens.total}" title="in ${t.tokens.input}, cached ${t.tokens.cached}, out ${t.tokens.output}">${t.tokens.total}</td>`;
}

function tasksSection(data: ReportData, logs: ReadonlyMap<string, LogExcerpt | null>): string {
  const statuses = [...new Set(data.tasks.map((t) => t.status))];
  const rows = data.tasks.map((t) => {
    const model = t.model ? ` <span class="note">${escapeHtml(t.model)}</span>` : "";
    const cost = t.cost_usd === null
      ? `<td class="num" data-v="-1">-</td>`
      : `<td class="num" data-v="${t.cost_usd}" title="${escapeHtml(t.cost_source ?? "")}">${
        usd(t.cost_usd)
      }</td>`;
    const log = logs.has(t.id) ? ` <a class="to-log" href="#log-${escapeHtml(t.id)}">log</a>` : "";
    return `<tr data-task="${escapeHtml(t.id)}" data-status="${st(t.status)}"><td class="mono">${
      escapeHtml(t.id)
    }${t.critical ? ` <span title="on the critical path">★</span>` : ""}</td><td>${
      badge(t.status)
    }</td><td>${escapeHtml(t.engine)}${model}</td><td class="num" data-v="${t.duration_sec}">${
      seconds(t.duration_sec)
    }</td><td class="num">${t.attempts}</td><td class="num">${t.exit_code ?? "-"}</td>${cost}${
      tokensCell(t)
    }<td class="msg">${escapeHtml(t.message)}${log}</td></tr>`;
  }).join("");
  const r = data.run;
  const totalSec = data.tasks.reduce((s, t) => s + t.duration_sec, 0);
  const foot = `<tfoot><tr><td>total</td><td></td><td></td><td class="num">${
    seconds(Math.round(totalSec * 1000) / 1000)
  }</td><td class="num">${
    data.tasks.reduce((s, t) => s + t.attempts, 0)
  }</td><td></td><td class="num">${usd(r.cost_usd)}</td><td class="num">${
    r.tokens?.total ?? "-"
  }</td><td></td></tr></tfoot>`;
  return `<div class="controls"><input id="filter-text" type="search" placeholder="filter tasks by id" aria-label="filter tasks by id"><select id="filter-status" aria-label="status"><option value="">every status</option>${
    statuses.map((s) => `<option value="${st(s)}">${st(s)}</option>`).join("")
  }</select><span id="filter-count" class="note"></span></div><div class="scroll"><table class="sortable"><thead><tr><th>Task</th><th>Status</th><th>Engine</th><th class="num">Duration</th><th class="num">Attempts</th><th class="num">Exit</th><th class="num">Cost</th><th class="num">Tokens</th><th>Message</th></tr></thead><tbody>${rows}</tbody>${foot}</table></div>`;
}

function logsSection(data: ReportData, logs: ReadonlyMap<string, LogExcerpt | null>): string {
  const parts: string[] = [];
  for (const t of data.tasks) {
    if (!logs.has(t.id)) continue;
    const excerpt = logs.get(t.id) ?? null;
    const open = t.status === "failed" ? " open" : "";
    const size = excerpt
      ? `${excerpt.bytes} bytes${excerpt.omitted > 0 ? `, ${excerpt.omitted} omitted` : ""}`
      : "unreadable";
    const body = excerpt
      ? `<pre>${escapeHtml(excerpt.text)}</pre>`
      : `<p class="note">The log ${escapeHtml(t.log_path ?? "")} cannot be read.</p>`;
    parts.push(
      `<details class="log" id="log-${escapeHtml(t.id)}" data-task="${
        escapeHtml(t.id)
      }" data-status="${st(t.status)}"${open}><summary><code>${escapeHtml(t.id)}</code> ${
        badge(t.status)
      } <span class="note">${size}</span></summary>${body}</details>`,
    );
  }
  if (parts.length === 0) return `<p class="note">No task wrote a log.</p>`;
  return `<div class="controls"><button id="logs-expand" type="button">expand all</button><button id="logs-collapse" type="button">collapse all</button></div>${
    parts.join("")
  }`;
}

/** The data as a JSON script block: `<` escaped so no text can close the element. */
function dataBlock(data: ReportData): string {
  const json = JSON.stringify(data).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
  return `<script type="application/json" id="maestro-report-data">${json}</script>`;
}

/**
 * Renders the page.
 *
 * @param data the report's data
 * @param logs each task's log excerpt (tasks without a log are absent; null: unreadable)
 * @returns the HTML document
 */
export function renderReportHtml(
  data: ReportData,
  logs: ReadonlyMap<string, LogExcerpt | null>,
): string {
  const scriptHash = btoa(String.fromCharCode(...new Sha256().update(REPORT_JS).digestBytes()));
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; ` +
    "img-src data:; base-uri 'none'; form-action 'none'";
  const title = `${data.run.plan_name} · ${data.run.run_id} · ${data.run.status}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="generator" content="maestro report">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(data.run.plan_name)} ${badge(data.run.status)}</h1>
${summarySection(data)}
<nav><a href="#graph">Graph</a><a href="#timeline">Timeline</a><a href="#tasks">Tasks</a><a href="#logs">Logs</a></nav>
</header>
<main>
<section id="graph"><h2>Graph</h2>${dagSection(data)}</section>
<section id="timeline"><h2>Timeline</h2>${ganttSection(data)}</section>
<section id="tasks"><h2>Tasks</h2>${tasksSection(data, logs)}</section>
<section id="logs"><h2>Logs</h2>${logsSection(data, logs)}</section>
</main>
${dataBlock(data)}
<script>${REPORT_JS}</script>
</body>
</html>
`;
}
