// The live explorers of the site, one per kind of gptviz explorer that runs without a kernel: tokenizer,
// attention, logit lens, sampling, generation. Each is mounted into a <div class="gptviz-live"
// data-kind=... data-text=...> that tools/build_site.py writes beside the chapter's stored picture.
//
// Every string that comes from the reader or from the vocabulary reaches the page through textContent or
// an attribute set by the DOM (never innerHTML), so a token such as "<img src=x onerror=...>" shows as text.

import { GptvizError, distribution, draws, readable, stepSeed, topIds } from "./gptviz.js";

const LENS_WINDOW = 8; // positions the lens shows (each costs n_layer + 1 unembeddings)

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function slider(label, cls, min, max, step, value, onInput) {
  const input = el("input", { type: "range", min, max, step, value, class: cls, "aria-label": label });
  const readout = el("output", { class: cls + "-value", text: String(value) });
  input.addEventListener("input", () => { readout.textContent = input.value; onInput(Number(input.value)); });
  return { input, row: el("label", { class: "gx-control" }, label + " ", input, " ", readout),
           set(v) { input.value = v; readout.textContent = String(v); } };
}

/** A text box that calls ``onText`` (after a short pause while typing) and a line for errors. */
function textBox(start, onText) {
  const area = el("textarea", { class: "gx-text", rows: "3", "aria-label": "text" });
  area.value = start;
  const error = el("div", { class: "gx-error", role: "alert" });
  let timer = null;
  area.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => run(), 120); });
  function run() {
    error.textContent = "";
    try { onText(area.value); } catch (err) {
      if (!(err instanceof GptvizError)) throw err;
      error.textContent = err.message;
    }
  }
  return { area, error, run, nodes: [area, error] };
}

function shade(w) { return `rgba(31, 119, 180, ${Math.min(1, Math.max(0, w)).toFixed(3)})`; }

const fmt = (p) => (p >= 0.001 || p === 0 ? p.toFixed(3) : p.toExponential(1));

// ---- tokenizer -------------------------------------------------------------------------------------------

function tokenizerExplorer(root, model, text) {
  const tok = model.tokenizer;
  const tokens = el("div", { class: "gx-tokens" });
  const count = el("div", { class: "gx-count" });
  const pieceSel = el("select", { class: "gx-piece", "aria-label": "piece" });
  const merges = el("ol", { class: "gx-merges" });
  let steps = [];
  const step = slider("merge step", "gx-step", 0, 0, 1, 0, () => drawMerges());
  pieceSel.addEventListener("change", () => choosePiece());
  const box = textBox(text, (value) => {
    const ids = tok.encode(value);
    tokens.replaceChildren(...ids.map((id) => el("span", { class: "gx-tok", title: `id ${id}` },
      el("span", { class: "gx-label", text: tok.tokenStr(id) }), el("sub", { class: "gx-id", text: String(id) }))));
    count.textContent = `${[...value].length} characters, ${new TextEncoder().encode(value).length} bytes, ${ids.length} tokens`;
    pieceSel.replaceChildren(...tok.pieces(value).map((p, n) => el("option", { value: String(n), text: JSON.stringify(p) })));
    choosePiece();
  });
  function choosePiece() {
    const piece = pieceSel.selectedOptions[0] ? JSON.parse(pieceSel.selectedOptions[0].textContent) : "";
    steps = piece ? tok.mergeSteps(piece) : [];
    step.input.max = String(Math.max(0, steps.length - 1));
    step.set(Math.max(0, steps.length - 1));
    drawMerges();
  }
  function drawMerges() {
    const n = Number(step.input.value);
    merges.replaceChildren(...steps.slice(0, n + 1).map((s, i) => el("li", { class: "gx-merge" },
      ...s.parts.map((p) => el("span", { class: "gx-part", text: readable(p) })),
      el("span", { class: "gx-note", text: i === 0 ? "bytes apart" : `joined rank ${s.rank}` }))));
  }
  root.append(...box.nodes, count, tokens, el("div", { class: "gx-controls" }, el("label", {}, "piece ", pieceSel), step.row), merges);
  box.run();
}

// ---- attention -------------------------------------------------------------------------------------------

function attentionExplorer(root, model, text) {
  const { nLayer, nHead } = model.config;
  let run = null, ids = [], query = -1;
  const canvas = el("canvas", { class: "gx-matrix", width: "360", height: "360" });
  const readout = el("div", { class: "gx-readout", text: "hover the matrix for a weight; click a token to pick the query" });
  const row = el("div", { class: "gx-row" });
  const layer = slider("layer", "gx-layer", 0, nLayer - 1, 1, 0, () => draw());
  const head = slider("head", "gx-head", 0, nHead - 1, 1, 0, () => draw());
  const box = textBox(text, (value) => {
    ids = model.tokenizer.encode(value);
    run = model.forward(ids);
    query = ids.length - 1;
    draw();
  });
  const pattern = () => run.patterns[Number(layer.input.value)].subarray(Number(head.input.value) * ids.length * ids.length,
                                                                        (Number(head.input.value) + 1) * ids.length * ids.length);
  function draw() {
    if (!run) return;
    const T = ids.length, p = pattern(), ctx = canvas.getContext("2d"), size = canvas.width / T;
    const img = ctx.createImageData(canvas.width, canvas.height);
    for (let y = 0; y < canvas.height; y++) {
      const t = Math.floor(y / size);
      for (let x = 0; x < canvas.width; x++) {
        const w = p[t * T + Math.floor(x / size)], o = (y * canvas.width + x) * 4;
        img.data[o] = 255 - 224 * w; img.data[o + 1] = 255 - 136 * w; img.data[o + 2] = 255 - 75 * w; img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    ctx.strokeStyle = "#d62728";
    ctx.strokeRect(0, query * size, canvas.width, size);
    row.replaceChildren(...ids.map((id, s) => el("span", {
      class: "gx-tok" + (s === query ? " gx-query" : ""), style: `background:${shade(s <= query ? p[query * T + s] : 0)}`,
      title: `weight ${fmt(p[query * T + s])}`, "data-pos": String(s), text: model.tokenizer.tokenStr(id),
      onclick: () => { query = s; draw(); } })));
  }
  canvas.addEventListener("mousemove", (ev) => {
    if (!run) return;
    const T = ids.length, r = canvas.getBoundingClientRect();
    const t = Math.floor(((ev.clientY - r.top) / r.height) * T), s = Math.floor(((ev.clientX - r.left) / r.width) * T);
    if (t < 0 || s < 0 || t >= T || s >= T) return;
    readout.textContent = `${model.tokenizer.tokenStr(ids[t])} (position ${t}) \u2192 ${model.tokenizer.tokenStr(ids[s])} ` +
      `(position ${s}): ${fmt(pattern()[t * T + s])}`;
  });
  root.append(...box.nodes, el("div", { class: "gx-controls" }, layer.row, head.row), row, canvas, readout);
  box.run();
}

// ---- logit lens ------------------------------------------------------------------------------------------

function lensExplorer(root, model, text) {
  const table = el("table", { class: "gx-lens" });
  const box = textBox(text, (value) => {
    const ids = model.tokenizer.encode(value);
    const run = model.forward(ids);
    const D = model.config.dModel, T = ids.length, first = Math.max(0, T - LENS_WINDOW);
    const head = el("tr", {}, el("th", { text: "reads after" }),
      ...ids.slice(first).map((id) => el("th", { class: "gx-tok", text: model.tokenizer.tokenStr(id) })));
    const rows = run.resid.map((stream, r) => {
      const cells = [];
      for (let t = first; t < T; t++) {
        const logits = model.unembed(stream.subarray(t * D, (t + 1) * D));
        const d = distribution(logits), [best] = topIds(d.probs, logits, 1);
        cells.push(el("td", { class: "gx-cell", style: `background:${shade(d.probs[best])}`, title: `p = ${fmt(d.probs[best])}`,
                              text: model.tokenizer.tokenStr(best) }));
      }
      return el("tr", {}, el("th", { text: r === 0 ? "embeddings" : `block ${r - 1}` }), ...cells);
    });
    table.replaceChildren(head, ...rows);
  });
  root.append(...box.nodes, el("p", { class: "gx-note", text: `top guess for the next token at the last ${LENS_WINDOW} positions; the last row is the model's output` }), table);
  box.run();
}

// ---- sampling --------------------------------------------------------------------------------------------

/** Temperature, top-k, top-p and seed controls, shared by the sampling and generation explorers. */
function samplingControls(onChange) {
  const temperature = slider("temperature", "gx-temperature", 0, 2, 0.05, 1, onChange);
  const topK = slider("top-k (0: off)", "gx-topk", 0, 200, 1, 0, onChange);
  const topP = slider("top-p", "gx-topp", 0.05, 1, 0.05, 1, onChange);
  const seed = el("input", { type: "number", class: "gx-seed", min: "0", step: "1", value: "0", "aria-label": "seed" });
  seed.addEventListener("input", onChange);
  return {
    nodes: [temperature.row, topK.row, topP.row, el("label", { class: "gx-control" }, "seed ", seed)],
    settings: () => ({ temperature: Number(temperature.input.value), topK: Number(topK.input.value) || null,
                       topP: Number(topP.input.value) }),
    seed: () => { const s = seed.value.trim(); if (!/^\d+$/.test(s)) throw new GptvizError("seed must be a whole number >= 0"); return BigInt(s); },
  };
}

function samplingExplorer(root, model, text) {
  let logits = null, dist = null;
  const table = el("table", { class: "gx-candidates" });
  const kept = el("div", { class: "gx-kept" });
  const drawn = el("div", { class: "gx-drawn" });
  const error = el("div", { class: "gx-error", role: "alert" });
  const controls = samplingControls(() => guard(draw));
  const box = textBox(text, (value) => { logits = model.forward(model.tokenizer.encode(value)).logits; draw(); });
  function guard(fn) { error.textContent = ""; try { fn(); } catch (err) { if (!(err instanceof GptvizError)) throw err; error.textContent = err.message; } }
  function draw() {
    if (!logits) return;
    dist = distribution(logits, controls.settings());
    kept.textContent = `${dist.nKept.toLocaleString("en")} of ${logits.length.toLocaleString("en")} tokens kept; ` +
      `mass cut ${fmt(dist.massCut)}; entropy ${dist.entropy.toFixed(3)} nats`;
    table.replaceChildren(el("tr", {}, el("th", { text: "token" }), el("th", { text: "id" }), el("th", { text: "probability" }), el("th", { text: "logit" })),
      ...topIds(dist.probs, logits, 10).map((id) => el("tr", {},
        el("td", { class: "gx-tok", text: model.tokenizer.tokenStr(id) }), el("td", { text: String(id) }),
        el("td", {}, el("span", { class: "gx-bar", style: `width:${(100 * dist.probs[id]).toFixed(1)}px` }), " " + fmt(dist.probs[id])),
        el("td", { text: logits[id].toFixed(2) }))));
  }
  const sample = (n) => guard(() => {
    const got = draws(dist.probs, n, controls.seed());
    if (n === 1) { drawn.replaceChildren("drew ", el("span", { class: "gx-tok", text: model.tokenizer.tokenStr(got[0]) }), ` (id ${got[0]})`); return; }
    const counts = new Map();
    for (const id of got) counts.set(id, (counts.get(id) || 0) + 1);
    drawn.replaceChildren(`${n} draws: `, ...[...counts].sort((a, b) => b[1] - a[1]).map(([id, c]) =>
      el("span", { class: "gx-count-chip" }, el("span", { class: "gx-tok", text: model.tokenizer.tokenStr(id) }), ` \u00d7${c} `)));
  });
  root.append(...box.nodes, el("div", { class: "gx-controls" }, ...controls.nodes,
    el("button", { class: "gx-sample", type: "button", text: "sample", onclick: () => sample(1) }),
    el("button", { class: "gx-sample100", type: "button", text: "sample 100", onclick: () => sample(100) })),
    error, kept, table, drawn);
  box.run();
}

// ---- generation ------------------------------------------------------------------------------------------

function generationExplorer(root, model, text) {
  const { nLayer, dModel, nCtx } = model.config;
  let prompt = [], made = [], cache = null, logits = null;
  const out = el("div", { class: "gx-generated" });
  const cacheLine = el("div", { class: "gx-cache" });
  const error = el("div", { class: "gx-error", role: "alert" });
  const controls = samplingControls(() => {});
  const box = textBox(text, (value) => { prompt = model.tokenizer.encode(value); reset(); });
  function reset() { made = []; replay(); }
  function replay() { // the cache rebuilt over prompt + made (after back or reset)
    cache = model.newCache();
    logits = model.forward(prompt.concat(made), cache).logits;
    draw();
  }
  function step() {
    if (cache.length >= nCtx) throw new GptvizError(`the context is full (${nCtx} tokens): press reset or back`);
    const d = distribution(logits, controls.settings());
    const [id] = draws(d.probs, 1, stepSeed(controls.seed(), prompt.length + made.length));
    made.push(id);
    logits = model.forward([id], cache).logits; // one new query over the cached keys and values
  }
  const act = (fn) => () => { error.textContent = ""; try { fn(); } catch (err) { if (!(err instanceof GptvizError)) throw err; error.textContent = err.message; } draw(); };
  function draw() {
    const tok = model.tokenizer;
    out.replaceChildren(el("span", { class: "gx-prompt", text: tok.decode(prompt) }),
      ...made.map((id) => el("span", { class: "gx-new", title: `id ${id}`, text: tok.decode([id]) })));
    const floats = 2 * nLayer * cache.length * dModel;
    cacheLine.textContent = `KV cache: ${cache.length} positions \u00d7 ${nLayer} layers \u00d7 (K, V) \u00d7 ${dModel} = ` +
      `${floats.toLocaleString("en")} floats (${(floats * 4 / 1024).toFixed(1)} KiB); ${made.length} generated`;
  }
  root.append(...box.nodes, el("div", { class: "gx-controls" }, ...controls.nodes,
    el("button", { class: "gx-step", type: "button", text: "step", onclick: act(step) }),
    el("button", { class: "gx-back", type: "button", text: "back", onclick: act(() => { made.pop(); replay(); }) }),
    el("button", { class: "gx-reset", type: "button", text: "reset", onclick: act(reset) }),
    el("button", { class: "gx-run", type: "button", text: "run 20", onclick: act(() => { for (let i = 0; i < 20 && cache.length < nCtx; i++) step(); }) })),
    error, out, cacheLine);
  box.run();
}

const KINDS = { tokenizer: tokenizerExplorer, attention: attentionExplorer, lens: lensExplorer,
                sampling: samplingExplorer, generation: generationExplorer };

/** Fill one mount with its live explorer. */
export function mount(root, model) {
  const make = KINDS[root.dataset.kind];
  if (!make) throw new GptvizError(`no live explorer of kind ${root.dataset.kind}`);
  root.replaceChildren(el("div", { class: "gx-title", text: `Live ${root.dataset.kind} explorer: the model runs in your browser` }));
  make(root, model, root.dataset.text || "Once upon a time");
  root.classList.add("gx-ready");
}
