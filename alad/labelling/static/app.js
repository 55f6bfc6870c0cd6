// The labelling page of alad: talks to alad/labelling/server.py, draws with uPlot.
"use strict";

const TOKEN = document.querySelector('meta[name="alad-token"]').content;
const COLORS = { anomaly: "#c0392b", normal: "#27ae60", unsure: "#7f8c8d",
                 query: "#2e86de", current: "rgba(245, 215, 110, 0.45)" };
const $ = (id) => document.getElementById(id);

let S = null;          // state from /api/state
let cur = 0;           // index of the shown window in S.windows
let W = null;          // data of the shown window
let brush = null;      // {cursor, start, end} while brushing
let plots = [];        // uPlot charts of the window
let labelling = false; // a label request is on its way: the next waits for it
let overviewPlot = null, curvePlot = null, overviewData = null;

async function api(path, body) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), 30000);
  try {
    const opts = { signal: ctrl.signal };
    if (body !== undefined) {
      opts.method = "POST";
      opts.headers = { "Content-Type": "application/json", "X-Alad-Token": TOKEN };
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    // an error the server did not write as JSON (a proxy, a wrong Host)
    // is shown as its status, not as a JSON parse error
    const json = (res.headers.get("content-type") || "").includes("application/json");
    const data = json ? await res.json() : { error: `${res.status} ${res.statusText}` };
    if (!res.ok) {
      const err = new Error(data.error || res.statusText);
      err.status = res.status;
      throw err;
    }
    return data;
  } finally {
    clearTimeout(timer);
  }
}

function message(text) { $("message").textContent = text || ""; }

function current() { return S && S.windows.length ? S.windows[cur] : null; }

// -- state and panels ------------------------------------------------------
async function loadState(resetCursor) {
  S = await api("/api/state");
  if (resetCursor || cur >= S.windows.length) cur = firstUnlabelled();
  renderHeader();
  renderQueue();
  await loadOverview();
  renderCurve();
  await loadWindow();
  document.body.dataset.round = String(S.round);
  document.body.dataset.busy = "0";
}

function firstUnlabelled() {
  const i = S.windows.findIndex((w) => !w.label);
  return i < 0 ? 0 : i;
}

function renderHeader() {
  $("round").textContent = S.round;
  $("n-labelled").textContent = S.n_labelled;
  $("budget-left").textContent = S.budget === null ? "unlimited" : S.budget_left;
  $("threshold").textContent = S.threshold.toFixed(4);
  $("submit").disabled = !S.windows.some((w) => w.label);
}

function renderQueue() {
  const list = $("queue");
  list.innerHTML = "";
  if (!S.windows.length) {
    list.innerHTML = "<li>nothing left to ask: the budget is spent or every window is labelled</li>";
  }
  S.windows.forEach((w, i) => {
    const li = document.createElement("li");
    li.dataset.window = w.window;
    li.className = (w.label || "") + (i === cur ? " current" : "");
    const part = w.range ? ` rows ${w.range[0]}–${w.range[1] - 1}` : "";
    li.innerHTML = `window ${w.window} <small>score ${w.score.toFixed(3)}</small>` +
      `<span class="tag">${w.label ? w.label + part : ""}</span>`;
    li.onclick = () => {
      if (labelling) return;  // the answer decides which window is shown
      cur = i; brush = null; renderQueue(); loadWindow();
    };
    list.appendChild(li);
  });
}

// -- the window: one chart per channel and one of the score -----------------
async function loadWindow() {
  const w = current();
  const clear = () => { plots.forEach((p) => p.destroy()); plots = []; $("charts").innerHTML = ""; };
  if (!w) { clear(); $("window-title").textContent = "No window to label"; W = null; return; }
  const data = await api(`/api/window/${w.window}`);
  // another window was chosen while this one loaded (keys held down): its own
  // load draws it; clearing only now keeps one window's charts on the page
  if (!current() || current().window !== w.window) return;
  clear();
  W = data;
  document.body.dataset.window = String(w.window);
  $("window-title").textContent =
    `Window ${w.window}: rows ${w.start}–${w.stop - 1} of ${S.n_rows}`;
  $("window-meta").textContent =
    `mean score ${w.score.toFixed(4)} (threshold ${S.threshold.toFixed(4)}), ` +
    `shown with ${w.start - W.lo} rows before and ${W.hi - w.stop} after` +
    (w.queried ? "" : " (labelled by hand, not asked)");
  const width = Math.max(320, $("charts").clientWidth - 10);
  const series = S.channel_names.map((name, c) => ({ name, values: W.channels[c] }));
  series.push({ name: "anomaly score", values: W.score, score: true });
  series.forEach((s) => {
    const title = document.createElement("div");
    title.className = "chart-title";
    title.textContent = s.name;
    $("charts").appendChild(title);
    const holder = document.createElement("div");
    $("charts").appendChild(holder);
    const opts = {
      width, height: s.score ? 120 : 90, legend: { show: false },
      padding: [6, 16, 0, 0],
      cursor: { sync: { key: "window" }, drag: { x: true, y: false, setScale: false } },
      select: { show: true },
      scales: { x: { time: false } },
      axes: [{ show: s.score }, { size: 50 }],
      series: [{}, { stroke: s.score ? "#8e44ad" : "#34495e", width: 1.2 }],
      hooks: { drawClear: [drawWindowBands], setSelect: [onSelect] },
    };
    if (s.score) {
      opts.hooks.draw = [(u) => hline(u, S.threshold, COLORS.anomaly)];
    }
    plots.push(new uPlot(opts, [W.x, s.values], holder));
  });
  renderButtons();
}

function drawWindowBands(u) {
  const w = current();
  if (!w) return;
  const ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
  const band = (a, b, color) => {
    const x0 = u.valToPos(a - 0.5, "x", true), x1 = u.valToPos(b - 0.5, "x", true);
    ctx.fillStyle = color;
    ctx.fillRect(x0, top, x1 - x0, h);
  };
  band(w.start, w.stop, COLORS.current);
  if (w.label) {
    const [a, b] = w.range || [w.start, w.stop];
    band(a, b, hexAlpha(COLORS[w.label], w.label === "anomaly" ? 0.28 : 0.15));
  }
  if (brush) {
    if (brush.start !== null) {
      const end = brush.end === null ? brush.cursor + 1 : brush.end;
      band(Math.min(brush.start, end - 1), Math.max(brush.start + 1, end),
           hexAlpha(COLORS.anomaly, 0.35));
    }
    const x = u.valToPos(brush.cursor, "x", true);
    ctx.fillStyle = COLORS.anomaly;
    ctx.fillRect(x - 1, top, 2, h);
  }
}

function hline(u, y, color) {
  const ctx = u.ctx, py = u.valToPos(y, "y", true);
  if (py < u.bbox.top || py > u.bbox.top + u.bbox.height) return;
  ctx.save();
  ctx.strokeStyle = color;
  ctx.setLineDash([5, 4]);
  ctx.beginPath();
  ctx.moveTo(u.bbox.left, py);
  ctx.lineTo(u.bbox.left + u.bbox.width, py);
  ctx.stroke();
  ctx.restore();
}

function hexAlpha(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function redraw() { plots.forEach((p) => p.redraw(false)); renderButtons(); }

function renderButtons() {
  const w = current();
  document.querySelectorAll("#buttons button[data-label]").forEach((b) => {
    b.classList.toggle("active", !!w && w.label === b.dataset.label);
    b.disabled = !w;
  });
  $("brush").classList.toggle("active", !!brush);
  $("brush-help").hidden = !brush;
  if (brush) {
    $("brush-cursor").textContent = brush.cursor;
    $("brush-part").textContent = brush.start === null ? "none yet" :
      `from row ${brush.start}` + (brush.end === null ? "" : ` to ${brush.end - 1}`);
  }
}

// mouse brushing: drag across a chart
function onSelect(u) {
  const w = current();
  if (!w || u.select.width < 2) return;
  const a = Math.round(u.posToVal(u.select.left, "x"));
  const b = Math.round(u.posToVal(u.select.left + u.select.width, "x")) + 1;
  u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
  const start = Math.max(w.start, Math.min(a, b - 1));
  const stop = Math.min(w.stop, Math.max(a + 1, b));
  if (start < stop) setLabel("anomaly", [start, stop], false);
}

// -- labelling -------------------------------------------------------------
async function setLabel(label, range, advance) {
  const w = current();
  // one label at a time: a key pressed (or a drag mirrored on every chart)
  // before the answer would label the window the answer moves away from
  if (!w || labelling || document.body.dataset.busy === "1") return;
  labelling = true;  // until the window it moves to is drawn
  try { await applyLabel(w, label, range, advance); } finally { labelling = false; }
}

async function applyLabel(w, label, range, advance) {
  try {
    S = await api("/api/label",
                  { window: w.window, label, range: range || null, round: S.round });
    message("");
  } catch (err) {
    message(err.message);
    if (err.status === 409) {  // another tab moved the round on, or learns one
      await loadState(true);
      watchIfLearning();
    }
    return;
  }
  renderHeader();
  // the list may have changed: a window labelled without being asked leaves
  // it when cleared, and the index would then point at the next one
  const at = S.windows.findIndex((x) => x.window === w.window);
  if (advance) {
    const next = S.windows.findIndex((x, i) => i > (at < 0 ? cur - 1 : at) && !x.label);
    if (next >= 0) { cur = next; brush = null; renderQueue(); renderOverviewMarks();
                     await loadWindow(); return; }
  }
  if (at < 0) {
    cur = Math.max(0, Math.min(cur, S.windows.length - 1));
    brush = null;
    renderQueue();
    renderOverviewMarks();
    await loadWindow();
    return;
  }
  cur = at;
  renderQueue();
  renderOverviewMarks();
  redraw();
}

function move(step) {
  if (!S || !S.windows.length || labelling) return;
  cur = (cur + step + S.windows.length) % S.windows.length;
  brush = null;
  renderQueue();
  renderOverviewMarks();
  loadWindow();
}

function startBrush() {
  const w = current();
  if (!w) return;
  if (brush) { brush = null; redraw(); return; }
  brush = { cursor: w.start, start: null, end: null };
  redraw();
}

function brushKey(e) {
  const w = current();
  const step = e.shiftKey ? 5 : 1;
  if (e.key === "ArrowLeft") brush.cursor = Math.max(w.start, brush.cursor - step);
  else if (e.key === "ArrowRight") brush.cursor = Math.min(w.stop - 1, brush.cursor + step);
  else if (e.key === "[") { brush.start = brush.cursor; brush.end = null; }
  else if (e.key === "]") {
    if (brush.start === null) brush.start = w.start;
    const a = Math.min(brush.start, brush.cursor), b = Math.max(brush.start, brush.cursor) + 1;
    brush = null;
    setLabel("anomaly", [a, b], false);
    return true;
  } else if (e.key === "Escape" || e.key === "b" || e.key === "B") { brush = null; }
  else return false;
  redraw();
  return true;
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || !S) return;
  if (document.body.dataset.busy === "1") return;
  if (brush && brushKey(e)) { e.preventDefault(); return; }
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  // a held key labels once: its repeats would label windows not yet seen
  if (e.repeat && "anux".includes(key) && key.length === 1) { e.preventDefault(); return; }
  if (e.repeat && key === "Enter") { e.preventDefault(); return; }
  const actions = {
    a: () => setLabel("anomaly", null, true),
    n: () => setLabel("normal", null, true),
    u: () => setLabel("unsure", null, true),
    x: () => setLabel(null, null, false),
    b: startBrush,
    j: () => move(1), ArrowRight: () => move(1), ArrowDown: () => move(1),
    k: () => move(-1), ArrowLeft: () => move(-1), ArrowUp: () => move(-1),
    Enter: submit,
  };
  if (actions[key]) { e.preventDefault(); actions[key](); }
});

document.querySelectorAll("#buttons button[data-label]").forEach((b) => {
  b.onclick = (e) => {
    b.blur();
    if (e.detail > 1) return;  // the second click of a double click
    setLabel(b.dataset.label, null, true);
  };
});
$("brush").onclick = startBrush;
$("clear").onclick = () => setLabel(null, null, false);
$("submit").onclick = submit;

// -- a round: learn in the background, show progress ---------------------------
async function submit() {
  if (!S || !S.windows.some((w) => w.label)) { message("label a window first"); return; }
  if (labelling) return;
  await roundInProgress(async () => {
    await api("/api/submit", { round: S.round });
    await follow();
  });
}

// a round is being learnt that this tab did not submit (another tab's, or
// one submitted before a reload): show its progress and follow it
function watchIfLearning() {
  if (S && S.job && S.job.running && document.body.dataset.busy !== "1") {
    roundInProgress(follow);
  }
}

async function roundInProgress(work) {
  document.body.dataset.busy = "1";
  $("submit").disabled = true;
  $("progress").hidden = false;
  try {
    await work();
  } catch (err) {
    message(err.message);
  } finally {
    $("progress").hidden = true;
    brush = null;
    // the state of the server, whatever happened: the round, the labels kept
    await loadState(true).catch((err) => message(err.message));
    document.body.dataset.busy = "0";
  }
  watchIfLearning();  // another tab's round, submitted meanwhile
}

async function follow() {
  const names = { starting: "starting", training: "learning from the labels (partial_fit)",
                  scoring: "rescoring the series", querying: "choosing the next windows",
                  saving: "saving the session", done: "done" };
  for (;;) {
    const p = await api("/api/progress");
    $("progress-fill").style.width = `${Math.round(100 * p.fraction)}%`;
    // training reports no fraction of its own: show that it works, not 0 %
    $("progress-fill").classList.toggle("working", p.running && p.stage === "training");
    $("progress-text").textContent =
      `round ${p.round}: ${names[p.stage] || p.stage} · ${p.elapsed || 0} s`;
    if (!p.running) {
      if (p.error) throw new Error(p.error);
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

// -- overview of the series and budget curve -------------------------------
async function loadOverview() {
  overviewData = await api("/api/overview");
  if (overviewPlot) overviewPlot.destroy();
  const width = Math.max(300, $("overview").clientWidth - 10);
  overviewPlot = new uPlot({
    width, height: 170, legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false } },
    axes: [{}, { size: 50 }],
    series: [{}, { stroke: "#8e44ad", width: 1 }],
    hooks: { draw: [drawOverviewMarks] },
  }, [overviewData.x, overviewData.score], $("overview"));
}

function renderOverviewMarks() { if (overviewPlot) overviewPlot.redraw(false); }

function drawOverviewMarks(u) {
  if (!S) return;
  const ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
  const mark = (a, b, color, y, hh) => {
    const x0 = u.valToPos(a, "x", true), x1 = u.valToPos(b, "x", true);
    ctx.fillStyle = color;
    ctx.fillRect(x0, y, Math.max(2, x1 - x0), hh);
  };
  hline(u, S.threshold, COLORS.anomaly);
  S.labelled.forEach((r) => mark(r.start, r.stop, COLORS[r.label], top + h - 8, 8));
  S.windows.filter((w) => w.queried).forEach((w) => mark(w.start, w.stop, COLORS.query, top, 6));
  const w = current();
  if (w) mark(w.start, w.stop, COLORS.current, top, h);
}

function renderCurve() {
  if (curvePlot) curvePlot.destroy();
  const x = S.curve.map((c) => c.n_labelled);
  const found = S.curve.map((c) => c.n_anomalies);
  const f1 = S.curve.map((c) => (c.metrics ? c.metrics.best_f1 : null));
  const auc = S.curve.map((c) => (c.metrics ? c.metrics.roc_auc : null));
  const width = Math.max(300, $("curve").clientWidth - 10);
  curvePlot = new uPlot({
    width, height: 200, legend: { live: false },
    scales: { x: { time: false }, n: { range: (u, lo, hi) => [0, Math.max(1, hi)] },
              m: { range: [0, 1] } },
    axes: [{ label: "windows labelled" }, { scale: "n", label: "anomalies found", size: 50 },
           { scale: "m", side: 1, label: "on labelled windows", grid: { show: false } }],
    series: [{ label: "labelled" },
             { label: "anomalies found", scale: "n", stroke: COLORS.anomaly, width: 2,
               points: { show: true } },
             { label: "best F1", scale: "m", stroke: COLORS.query, width: 1.5,
               points: { show: true }, spanGaps: true },
             { label: "ROC AUC", scale: "m", stroke: "#16a085", width: 1.5, dash: [4, 3],
               points: { show: true }, spanGaps: true }],
  }, [x, found, f1, auc], $("curve"));
  const last = S.curve[S.curve.length - 1];
  $("metrics").textContent = last.metrics
    ? `after round ${last.round}: best F1 ${last.metrics.best_f1.toFixed(3)}, ` +
      `ROC AUC ${last.metrics.roc_auc.toFixed(3)} on ${last.metrics.n_rows} labelled rows`
    : "metrics appear once the labelled windows hold both anomalies and normal rows";
}

loadState(true).then(watchIfLearning).catch((err) => message(err.message));
