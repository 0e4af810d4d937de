// FaceSimXAI explorer: static pages fed by data/*.js files (FSX.* calls), so it opens from disk.
// State lives in the URL (?filter=…&split=…&face=…&sort=…&page=…, ?id=…) so views can be linked.
"use strict";
const FSX = { meta: null, rows: [], trial: null, pairs: null, pair: null, waiting: {} };
FSX.setMeta = (m) => { FSX.meta = m; };
FSX.setPairs = (p) => { FSX.pairs = p; };
FSX.setPair = (p) => { FSX.pair = p; };
FSX.addTrials = (rows) => { FSX.rows.push(...rows); };
FSX.setTrial = (t) => { FSX.trial = t; };

// display names come with the data (facesimxai.vocabulary, via meta.js): one list for Python and JS
const modelName = (m) => (FSX.meta.model_names || {})[m] || m;
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
};
const loadScript = (src) => new Promise((ok, fail) => {
  const s = el("script", { src });
  s.onload = ok;
  s.onerror = () => fail(new Error(`could not load ${src}`));
  document.head.append(s);
});
const pos = (p) => (p === null || p === undefined || Number.isNaN(p) ? "—" : String(p + 1));
const pct = (x) => (x === null || x === undefined ? "—" : `${Math.round(100 * x)}%`);
const fail = (err) => { document.body.dataset.error = err.message; document.body.prepend(el("p", { class: "wrong", text: err.message })); };

// Images report when they have loaded (the headless test reads these attributes).
function image(src, cls, alt) {
  const img = el("img", { src, class: cls || "", alt: alt || "" });
  img.addEventListener("load", () => { img.dataset.loaded = "1"; img.dataset.width = img.naturalWidth; img.dataset.height = img.naturalHeight; checkImages(); });
  img.addEventListener("error", () => { img.dataset.loaded = "error"; checkImages(); });
  return img;
}
// Ready is "1" only when every image loaded; a page with a broken image ends as "error" and
// names the first one, so neither a user nor the test mistakes it for a complete page.
function checkImages() {
  const imgs = [...document.querySelectorAll("img")];
  if (!imgs.length || !imgs.every((i) => i.dataset.loaded)) return;
  const broken = imgs.filter((i) => i.dataset.loaded === "error");
  if (!broken.length) { document.body.dataset.imagesReady = "1"; return; }
  document.body.dataset.imagesReady = "error";
  document.body.dataset.imagesBroken = String(broken.length);
  if (!document.body.dataset.error) fail(new Error(`${broken.length} image(s) did not load, e.g. ${broken[0].getAttribute("src")}`));
}
function bindOpacity() {
  const slider = $("opacity");
  const apply = () => document.querySelectorAll("img.overlay").forEach((i) => { i.style.opacity = slider.value / 100; });
  slider.addEventListener("input", apply);
  apply();
}

// ---- trial table -------------------------------------------------------------------------
const FILTERS = {
  all: () => true,
  models_disagree: (r, c) => FSX.meta.models.some((m) => r[c[`${m}_pred`]] !== r[c[`${FSX.meta.models[0]}_pred`]]),
  hum_wrong: (r, c) => c.hum_pred !== undefined && r[c.hum_pred] !== r[c.human],
  maxp_wrong: (r, c) => c.maxp_pred !== undefined && r[c.maxp_pred] !== r[c.human],
  vlm_wrong: (r, c) => r[c.vlm_pred] !== null && r[c.vlm_pred] !== r[c.human],
  viewer: (r, c) => FSX.viewer.has(r[c.trial_id]),
};
const PAGE = 50;

async function indexPage() {
  await loadScript("data/meta.js");
  const meta = FSX.meta;
  FSX.viewer = new Set(meta.viewer);
  const c = Object.fromEntries(meta.columns.map((name, i) => [name, i]));
  const state = { filter: params.get("filter") || "all", split: params.get("split") || "", face: params.get("face") || "",
                  sort: params.get("sort") || "trial_id", desc: params.get("desc") === "1", page: +(params.get("page") || 0) };
  $("filter").value = state.filter; $("split").value = state.split; $("face").value = state.face;
  const labels = { trial_id: "trial", head1: "face 1", head2: "face 2", head3: "face 3", human: "human odd", split: "split", vlm_pred: "VLM odd" };
  for (const m of meta.models) {
    labels[`${m}_pred`] = `${modelName(m)} odd`;
    labels[`${m}_conf`] = `${modelName(m)} softmax`;
    labels[`${m}_cal`] = `${modelName(m)} calibrated`;
  }
  const head = el("tr");
  meta.columns.forEach((name) => {
    const th = el("th", { text: labels[name] || name, "data-col": name });
    th.addEventListener("click", () => { state.desc = state.sort === name ? !state.desc : false; state.sort = name; state.page = 0; render(); });
    head.append(th);
  });
  $("trials").tHead.append(head);

  function visible() {
    const keep = FILTERS[state.filter] || FILTERS.all;
    const face = state.face ? +state.face : null;
    let rows = FSX.rows.filter((r) => keep(r, c) && (!state.split || r[c.split] === state.split)
      && (face === null || [r[c.head1], r[c.head2], r[c.head3]].includes(face)));
    const k = c[state.sort];
    rows = rows.slice().sort((a, b) => ((a[k] ?? -1) > (b[k] ?? -1) ? 1 : (a[k] ?? -1) < (b[k] ?? -1) ? -1 : a[0] - b[0]) * (state.desc ? -1 : 1));
    return rows;
  }
  function render() {
    const rows = visible();
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    const body = $("trials").tBodies[0];
    body.replaceChildren();
    for (const r of rows.slice(state.page * PAGE, (state.page + 1) * PAGE)) {
      const tr = el("tr", { "data-trial": r[c.trial_id] });
      meta.columns.forEach((name, i) => {
        let v = r[i];
        if (name === "human" || name.endsWith("_pred")) v = pos(v);
        else if (name.endsWith("_conf") || name.endsWith("_cal")) v = pct(v);
        const td = el("td", { text: v ?? "—" });
        if (name.endsWith("_pred") && r[i] !== null && r[i] !== r[c.human]) td.className = "wrong";
        tr.append(td);
      });
      if (FSX.viewer.has(r[c.trial_id])) {
        tr.className = "viewer";
        tr.addEventListener("click", () => { location.href = `trial.html?id=${r[c.trial_id]}`; });
      }
      body.append(tr);
    }
    document.querySelectorAll("th").forEach((th) => th.classList.toggle("sorted", th.dataset.col === state.sort));
    $("page").textContent = `page ${state.page + 1} of ${pages} · ${rows.length} of ${FSX.rows.length} loaded trials (${meta.n_trials} in all)`;
    const q = new URLSearchParams({ filter: state.filter, split: state.split, face: state.face, sort: state.sort, desc: state.desc ? "1" : "0", page: state.page });
    history.replaceState(null, "", `?${q}`);
    document.body.dataset.rows = String(rows.length);
  }
  for (const id of ["filter", "split", "face"]) $(id).addEventListener("input", () => { state[id] = $(id).value; state.page = 0; render(); });
  $("prev").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); render(); });
  $("next").addEventListener("click", () => { state.page += 1; render(); });
  // Chunks load one after another; the table is usable (and re-rendered) after each.
  for (const [i, chunk] of meta.chunks.entries()) {
    await loadScript(`data/${chunk}`);
    $("status").textContent = i + 1 < meta.chunks.length ? `loaded ${FSX.rows.length} of ${meta.n_trials} trials…` : "";
    render();
  }
  document.body.dataset.ready = "1";
}

// ---- one trial ---------------------------------------------------------------------------
function bars(regions) {
  const box = el("div", { class: "bars" });
  const top = regions.slice(0, 8);
  const scale = Math.max(1e-9, ...top.map(([, s]) => Math.abs(s)));
  for (const [name, share] of top) {
    const fill = el("div", { class: `fill ${share >= 0 ? "pos" : "neg"}` });
    fill.style.width = `${50 * Math.abs(share) / scale}%`;
    box.append(el("div", { class: "bar" }, el("span", { text: name }), el("span", { class: "track" }, fill),
                  el("span", { text: `${(100 * share).toFixed(1)}%` })));
  }
  if (!top.length) box.append(el("span", { class: "muted", text: "no region table" }));
  return box;
}

async function trialPage() {
  const id = params.get("id");
  await loadScript("data/meta.js");
  if (id === null) { location.href = `trial.html?id=${FSX.meta.viewer[0]}`; return; }
  await loadScript(`data/trial/${encodeURIComponent(id)}.js`);
  const t = FSX.trial;
  $("title").textContent = `Trial ${t.trial_id} (${t.split})`;
  document.title = `FaceSimXAI explorer — trial ${t.trial_id}`;
  for (const [link, target] of [["prev-trial", t.prev], ["next-trial", t.next]]) {
    if (target !== null) $(link).href = `trial.html?id=${target}`; else $(link).removeAttribute("href");
  }
  const said = [`Human odd one out: face ${pos(t.human)} (id ${t.heads[t.human]})`];
  for (const [m, p] of Object.entries(t.models)) {
    const sure = p.cal === null || p.cal === undefined ? `softmax ${pct(p.conf)}` : `calibrated ${pct(p.cal)}, softmax ${pct(p.conf)}`;
    said.push(`${modelName(m)}: face ${pos(p.pred)} (${sure})${p.pred === t.human ? "" : " — differs from the human"}`);
  }
  if (t.vlm_pred !== null) said.push(`VLM: face ${pos(t.vlm_pred)}`);
  $("summary").append(el("ul", {}, ...said.map((s) => el("li", { text: s }))));
  if (t.sentences && t.sentences.length) {
    $("summary").append(el("div", { class: "sentences" }, ...t.sentences.map((s) => el("p", { text: s }))));
  }

  const grid = el("div", { class: "grid" });
  grid.append(el("b", { text: "" }));
  t.heads.forEach((h, p) => grid.append(el("a", { href: `face.html?id=${h}` }, el("b", { text: `face ${p + 1} · id ${h}${p === t.human ? " · human's odd" : ""}` }))));
  grid.append(el("b", { text: "regions of the target face (signed share of relevance)" }));
  for (const map of t.maps) {
    grid.append(el("div", {}, el("b", { text: `${modelName(map.model)}` }), el("br"),
                   el("span", { class: "muted", text: `${map.explainer} · target face ${map.target + 1}` })));
    t.heads.forEach((h, p) => {
      const cell = el("div", { class: `cell${p === map.target ? " target" : ""}` }, image(`img/faces/${h}.png`, "face", `face ${h}`));
      const ov = map.overlays[p];
      if (ov) {
        cell.append(image(ov.src, "overlay", `relevance of ${map.model} ${map.explainer}`));
        cell.append(el("span", { class: "tag", text: `±${ov.limit.toPrecision(2)}` }));
      }
      grid.append(cell);
    });
    grid.append(bars(map.regions));
  }
  $("maps").append(grid);
  if (t.same_triplet.length) {
    $("related").append(el("p", { text: "Same triplet in other trials: " }, ...t.same_triplet.map((s) => el("a", { href: `trial.html?id=${s}`, text: ` ${s} ` }))));
  }
  bindOpacity();
  document.body.dataset.ready = "1";
}

// ---- faces -------------------------------------------------------------------------------
async function facePage() {
  await loadScript("data/meta.js");
  const id = params.get("id");
  const box = $("face");
  if (id === null) {
    $("title").textContent = "Faces";
    box.append(el("div", { class: "faces" }, ...FSX.meta.faces.map((f) => el("a", { href: `face.html?id=${f.face_id}` },
      image(f.src, "", `face ${f.face_id}`), el("span", { text: `id ${f.face_id}` })))));
  } else {
    const f = FSX.meta.faces.find((x) => String(x.face_id) === id);
    if (!f) throw new Error(`no face with id ${id}`);
    $("title").textContent = `Face ${f.face_id}`;
    const grid = el("div", { class: "grid" });
    for (const map of f.maps) {
      grid.append(el("div", {}, el("b", { text: modelName(map.model) }), el("br"),
                     el("span", { class: "muted", text: `${map.explainer} · mean of ${map.n_trials} trials` })));
      grid.append(el("div", { class: "cell" }, image(f.src, "face"), image(map.src, "overlay"), el("span", { class: "tag", text: `±${map.limit.toPrecision(2)}` })));
      grid.append(el("span"), el("span"), el("span"));
    }
    box.append(grid, el("p", {}, el("a", { href: `index.html?face=${f.face_id}`, text: "trials with this face" })));
    bindOpacity();
  }
  document.body.dataset.ready = "1";
}

// ---- verification pairs -------------------------------------------------------------------
async function pairsPage() {
  await loadScript("data/pairs.js");
  const P = FSX.pairs;
  const c = Object.fromEntries(P.columns.map((name, i) => [name, i]));
  const viewer = new Set(P.viewer);
  const state = { kind: params.get("kind") || "", outcome: params.get("outcome") || "", page: +(params.get("page") || 0) };
  $("kind").value = state.kind; $("outcome").value = state.outcome;
  if (!P.enabled) $("status").textContent = "this run has no verification stage (config key verification.enabled)";
  const labels = { pair_id: "pair", fold: "fold", genuine: "pair kind", similarity: "similarity", threshold: "threshold",
                   accepted: "decision", correct: "correct", c_score: "C-Score" };
  $("pairs").tHead.append(el("tr", {}, ...P.columns.map((name) => el("th", { text: labels[name] || name }))));
  function render() {
    let rows = P.rows.filter((r) => (!state.kind || (r[c.genuine] === (state.kind === "genuine")))
      && (!state.outcome || (r[c.correct] === (state.outcome === "correct"))));
    rows = rows.slice().sort((a, b) => a[c.c_score] - b[c.c_score] || a[c.pair_id] - b[c.pair_id]);
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    const body = $("pairs").tBodies[0];
    body.replaceChildren();
    for (const r of rows.slice(state.page * PAGE, (state.page + 1) * PAGE)) {
      const tr = el("tr", { "data-pair": r[c.pair_id] });
      P.columns.forEach((name, i) => {
        let v = r[i];
        if (name === "genuine") v = v ? "genuine" : "impostor";
        else if (name === "accepted") v = v ? "same person" : "different";
        else if (name === "correct") v = v ? "yes" : "no";
        else if (name === "c_score") v = pct(v);
        else if (typeof v === "number" && !Number.isInteger(v)) v = v.toFixed(3);
        const td = el("td", { text: String(v) });
        if (name === "correct" && !r[i]) td.className = "wrong";
        tr.append(td);
      });
      if (viewer.has(r[c.pair_id])) {
        tr.className = "viewer";
        tr.addEventListener("click", () => { location.href = `pair.html?id=${r[c.pair_id]}`; });
      }
      body.append(tr);
    }
    $("page").textContent = `page ${state.page + 1} of ${pages} · ${rows.length} of ${P.rows.length} pairs`;
    history.replaceState(null, "", `?${new URLSearchParams(state)}`);
    document.body.dataset.rows = String(rows.length);
  }
  for (const id of ["kind", "outcome"]) $(id).addEventListener("input", () => { state[id] = $(id).value; state.page = 0; render(); });
  $("prev").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); render(); });
  $("next").addEventListener("click", () => { state.page += 1; render(); });
  render();
  document.body.dataset.ready = "1";
}

async function pairPage() {
  await loadScript("data/pairs.js");
  const id = params.get("id");
  if (id === null) {
    if (!FSX.pairs.viewer.length) throw new Error("no pair has X-Maps in this run");
    location.href = `pair.html?id=${FSX.pairs.viewer[0]}`; return;
  }
  await loadScript(`data/pair/${encodeURIComponent(id)}.js`);
  const p = FSX.pair;
  $("title").textContent = `Pair ${p.pair_id} (${p.genuine ? "genuine" : "impostor"}, fold ${p.fold})`;
  document.title = `FaceSimXAI explorer — pair ${p.pair_id}`;
  for (const [link, target] of [["prev-pair", p.prev], ["next-pair", p.next]]) {
    if (target !== null) $(link).href = `pair.html?id=${target}`; else $(link).removeAttribute("href");
  }
  const said = [`Similarity ${p.similarity.toFixed(3)}, threshold ${p.threshold.toFixed(3)}: `
    + `${p.accepted ? "the same person" : "different people"} (${p.correct ? "correct" : "wrong"})`,
    `C-Score ${pct(p.c_score)}`];
  $("summary").append(el("ul", {}, ...said.map((s) => el("li", { text: s }))));
  $("summary").append(el("div", { class: "sentences" }, el("p", { text: p.sentence || `not explained: ${p.reason}` })));
  const grid = el("div", { class: "pairgrid" });
  grid.append(el("b", { text: "" }), el("b", { text: `image A · ${p.image_ids[0]}` }), el("b", { text: `image B · ${p.image_ids[1]}` }));
  grid.append(el("span", { text: "images" }), image(p.images[0], "", "image A"), image(p.images[1], "", "image B"));
  for (const m of p.xmaps) {
    grid.append(el("span", { text: `X-Map method ${m.method}` }), image(m.src[0], "", `method ${m.method} A`), image(m.src[1], "", `method ${m.method} B`));
  }
  $("maps").append(grid);
  $("regions").append(el("b", { text: "regions of both images (signed share of the five techniques' average; + makes them alike)" }),
                      bars(p.regions));
  document.body.dataset.ready = "1";
}

const PAGES = { index: indexPage, trial: trialPage, face: facePage, pairs: pairsPage, pair: pairPage };
PAGES[document.body.dataset.page]().catch(fail);
