// The status page, kept current: polls /api/status (computed at most once a second by the
// exporter) and re-renders the parts marked data-part, and draws the trend charts as SVG.
// Values are set with textContent only: nothing from the data is parsed as HTML.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["var(--series)", "var(--series2)", "#e36209", "#1a7f37", "#bf3989"];

function part(name) {
  return document.querySelector(`[data-part="${name}"]`);
}

function text(value) {
  if (value === null || value === undefined) return "\u2013";
  if (typeof value === "number" && !Number.isInteger(value)) {
    return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1);
  }
  return String(value);
}

function setText(name, value) {
  const element = part(name);
  if (element) element.textContent = text(value);
}

function fillList(name, items) {
  const list = part(name);
  if (!list) return;
  list.replaceChildren(...(items.length ? items : ["none"]).map((item) => {
    const li = document.createElement("li");
    li.textContent = item;
    return li;
  }));
}

function workflowLink(id) {
  const a = document.createElement("a");
  a.href = `/api/metrics/workflow/${encodeURIComponent(id)}`;
  a.textContent = id;
  return a;
}

function fillTable(name, rows) {
  const body = part(name)?.querySelector("tbody");
  if (!body) return;
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      if (cell instanceof Node) td.append(cell); else td.textContent = text(cell);
      tr.append(td);
    }
    return tr;
  }));
}

function chart(name, series, { max = null, levels = null } = {}) {
  const svg = document.querySelector(`svg[data-chart="${name}"]`);
  if (!svg) return;
  const values = series.flatMap((s) => s.values).filter((v) => v !== null);
  const top = max ?? Math.max(1, ...values) * 1.1;
  const y = (v) => 100 - (v / top) * 100;
  const children = [];
  for (const [level, value] of Object.entries(levels ?? {})) {
    const line = document.createElementNS(SVG, "line");
    line.setAttribute("x1", "0"); line.setAttribute("x2", "300");
    line.setAttribute("y1", y(value)); line.setAttribute("y2", y(value));
    line.setAttribute("class", `level-${level}`);
    children.push(line);
  }
  series.forEach((s, index) => {
    const n = s.values.length;
    const points = s.values.map((v, i) => v === null ? null : `${(i / Math.max(1, n - 1)) * 300},${y(v)}`)
      .filter((p) => p !== null).join(" ");
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points);
    line.setAttribute("stroke", PALETTE[index % PALETTE.length]);
    const title = document.createElementNS(SVG, "title");
    const last = s.values.filter((v) => v !== null).at(-1);
    title.textContent = `${s.label}: latest ${text(last)}`;
    line.append(title);
    children.push(line);
  });
  const label = document.createElementNS(SVG, "text");
  label.setAttribute("x", "2"); label.setAttribute("y", "9");
  label.textContent = `max ${Math.round(top)}`;
  children.push(label);
  svg.replaceChildren(...children);
  svg.setAttribute("aria-description", series.map((s) => `${s.label} latest ${text(s.values.filter((v) => v !== null).at(-1))}`).join("; "));
}

function byName(map) {
  return Object.entries(map).map(([label, values]) => ({ label, values }));
}

function render(status) {
  const health = status.health;
  const badge = part("health-status");
  badge.textContent = health.status;
  badge.className = `state state-${health.status}`;
  setText("generated", status.generated);
  fillList("reasons", [...health.critical_alerts, ...health.warnings].length
    ? [...health.critical_alerts, ...health.warnings] : ["All within levels."]);
  fillTable("resources", health.resources.map((r) => [r.name, r.percent, r.warning_percent, r.critical_percent]));

  const trends = status.trends;
  const levels = (resource) => ({ warning: trends.levels[resource].warning_percent, critical: trends.levels[resource].critical_percent });
  chart("cpu", [{ label: "CPU", values: trends.cpu_percent }], { max: 100, levels: levels("cpu") });
  chart("memory", [{ label: "memory", values: trends.memory_percent }], { max: 100, levels: levels("memory") });
  chart("disk", byName(trends.disk_percent), { max: 100, levels: levels("disk") });
  chart("groups-cpu", byName(trends.groups_cpu_percent));
  chart("groups-memory", byName(trends.groups_memory_mb));

  const workflows = status.workflows;
  chart("throughput", [{ label: "finished per minute", values: workflows.throughput.finished }]);
  chart("success", [{ label: "completed %", values: workflows.throughput.success_percent }], { max: 100 });
  setText("active-total", workflows.active_total);
  fillList("active-by-complexity", Object.entries(workflows.active_by_complexity).sort()
    .map(([complexity, count]) => `${complexity}: ${count}`));
  fillTable("durations", Object.entries(workflows.duration_by_complexity).sort()
    .map(([complexity, d]) => [complexity, d.count, d.p50_ms, d.p95_ms]));
  fillTable("running", workflows.running.map((w) => [workflowLink(w.workflow_id), w.complexity, w.duration_ms, w.progress_percent]));
  fillTable("finished", workflows.latest_finished.map((w) => [workflowLink(w.workflow_id), w.complexity, w.status, w.duration_ms]));
  fillTable("agents", status.agents.map((a) => [a.agent, a.steps, a.error_percent, a.p50_ms, a.p95_ms]));

  const exporter = status.exporter;
  setText("approvals-pending", status.approvals.pending);
  setText("approval-p95", status.approvals.wait.p95_ms);
  setText("events-accepted", exporter.events_accepted);
  setText("sample-age", `${text(exporter.last_sample_age_seconds)} s ago`);
  setText("monitoring", exporter.monitoring_active ? "on" : "stopped");
  fillList("rejected", Object.entries(exporter.events_rejected).map(([reason, count]) => `${reason}: ${count}`));
  fillList("collectors", Object.entries(exporter.collectors).map(([name, ok]) => `${name}: ${ok ? "ok" : "failing"}`));
}

async function refresh() {
  try {
    const reply = await fetch("/api/status", { credentials: "same-origin", cache: "no-store" });
    if (reply.ok) render(await reply.json());
  } catch (error) {
    setText("generated", "exporter unreachable, retrying");
  }
}

const seconds = Math.min(10, Math.max(2, Number(document.body.dataset.interval) || 5));
refresh();
setInterval(refresh, seconds * 1000);
