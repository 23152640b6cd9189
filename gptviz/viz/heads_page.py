"""Every attention head of one text on one page: a standalone HTML file to click through.

    from gptviz.viz.heads_page import heads_page
    page = heads_page(patterns, tokens)          # patterns [n_layers, n_heads, T_query, T_key]
    export_heads(trace, "heads.html")            # the same from a trace, written to a file
    python -m gptviz attention TEXT --all --out heads.html

What a reader does on the page: pick a layer and a head (two menus, or a click on the head's
thumbnail in the grid of every head); hover over a cell of the heatmap to read its query token,
key token and weight; click a token (or a heatmap row) to follow what it attends to: its row is
outlined, every token is shaded by the weight it gets, and its strongest keys are listed, each a
click away, so a chain of attention can be followed from token to token.

The page needs nothing else: no CDN, no library, no network request. Its script is written here,
inline, and draws on a ``<canvas>``.

Encoding. A causal head's coefficients above the diagonal are zero by construction, so only the
cells a query can see are stored, row after row (query ``i`` of ``T_query`` sees keys ``0 ..
T_key - T_query + i``). Each weight ``w`` is rounded to 8 bits, ``q = round(255 w)``: the 256
levels the heatmap's colour scale has, and a weight read back as ``q / 255`` is within 1/510 of
the true one (the tooltip gives three decimals, and "< 0.002" for ``q = 0``). Each head's bytes are
compressed with zlib and written in base64; the page unpacks the head it shows first, then every
head for the grid of thumbnails, with the browser's own ``DecompressionStream`` (Chrome and Edge
80+, Firefox 113+, Safari 16.4+; an older browser gets a message saying so).

Size, for GPT-2 small's 12 layers x 12 heads at 512 tokens: 18.9 million weights, 18.9 MB as
bytes before compression. Compressed, it depends on how spread the attention is
(``benchmarks/export.py``): 3.5 MiB for a random-weight model, 7.0 MiB (7.4 MB) for softmaxed
Gaussian scores, the hardest case to compress that was found; about 1 s of CPU to build. In
Chromium that page shows its first head in about a second and switches heads in about 40 ms.

Escaping. Token strings reach the page as JSON in a ``<script type="application/json">`` block
with ``<``, ``>`` and ``&`` written as ``\\u003c``, ``\\u003e``, ``\\u0026`` (no token can close the
block), and the script puts them on the page only as text (``textContent``, ``title``), never as
markup. The title and the text above the heatmap are escaped by ``html.escape``.
"""

from __future__ import annotations

import base64
import html
import json
import zlib

import numpy as np
import torch

from ..errors import InputError
from .style import MASKED, SEQUENTIAL, causal_mask, check_len, colour_levels

LEVELS = 255  # a weight w is stored as round(LEVELS * w), one byte
ZLIB_LEVEL = 5  # on noisy heads 2.4x faster than zlib's default 6 for 3% larger files (9: 25x slower)


def _float32(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float32).numpy()
    try:
        return np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError):
        raise InputError(f"patterns must be numbers (tensors or arrays), got {type(x).__name__}") from None


def check_patterns(patterns) -> list[np.ndarray]:
    """Every head's coefficients as one float32 array ``[n_heads, T_query, T_key]`` per layer, from an
    array or tensor ``[n_layers, n_heads, T_query, T_key]`` or a list of per-layer ones (no copy of
    the whole stack: at 512 tokens GPT-2 small's patterns are 151 MB)."""
    if isinstance(patterns, (list, tuple)):
        layers = [_float32(p) for p in patterns]
        shapes = sorted({p.shape for p in layers})
        if len(shapes) > 1:
            raise InputError(f"patterns: every layer must have the same shape, got {[list(s) for s in shapes]}")
        shape = [len(layers), *shapes[0]] if shapes else [0]
    else:
        whole = _float32(patterns)
        shape, layers = list(whole.shape), list(whole) if whole.ndim else []
    if len(shape) != 4 or 0 in shape:
        raise InputError(f"patterns must be [n_layers, n_heads, T_query, T_key] (or a list of "
                         f"trace['blocks.{{i}}.attn.pattern'], one per layer), got shape {shape}")
    for i, layer in enumerate(layers):
        if not np.isfinite(layer).all():
            raise InputError(f"patterns of layer {i} hold NaN or infinite weights, which a page cannot show "
                             "truthfully (they would be stored as 0): trace again without the edit that made them")
    if shape[2] > shape[3]:
        raise InputError(f"patterns of shape {shape} have more queries than keys; a causal head "
                         "has T_query <= T_key")
    return layers


def encode_head(pattern: np.ndarray, visible: np.ndarray) -> str:
    """One head ``[T_query, T_key]``: its ``visible`` cells, row by row, as bytes ``round(255 w)``,
    compressed with zlib, in base64."""
    q = np.rint(np.clip(pattern[visible], 0.0, 1.0) * np.float32(LEVELS)).astype(np.uint8)
    return base64.b64encode(zlib.compress(q.tobytes(), ZLIB_LEVEL)).decode("ascii")


def _json_for_script(value) -> str:
    """``value`` as JSON that cannot end the ``<script>`` block it sits in, whatever its strings hold."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def heads_page(patterns, tokens, title: str = "Attention of every head", text: str | None = None,
               layers=None) -> str:
    """Which tokens does every head of every layer attend to? One standalone, interactive HTML page.

    ``patterns``: ``[n_layers, n_heads, T_query, T_key]`` coefficients (or a list of
    ``trace["blocks.{i}.attn.pattern"]``); ``tokens``: one label per key position (``trace.tokens``);
    ``title``: the page's heading; ``text``: shown under it (the text that was run); ``layers``:
    the layer number of each entry of ``patterns`` (default 0, 1, ...). Returns the page as a string.
    """
    p = check_patterns(patterns)
    n_layers, (n_heads, n_query, n_key) = len(p), p[0].shape
    labels = check_len(tokens, n_key, f"patterns {[n_layers, n_heads, n_query, n_key]}")
    layers = list(range(n_layers)) if layers is None else [int(i) for i in layers]
    if len(layers) != n_layers:
        raise InputError(f"layers names {len(layers)} layers but patterns hold {n_layers}: give one "
                         "layer number per entry of patterns")
    visible = ~causal_mask(n_query, n_key)
    data = {
        "tokens": labels, "layers": layers, "n_head": n_heads, "n_query": n_query, "n_key": n_key,
        "levels": LEVELS, "colours": colour_levels(SEQUENTIAL).tobytes().hex(), "masked": MASKED,
        "heads": [[encode_head(heads[h], visible) for h in range(n_heads)] for heads in p],
    }
    about = (f"{n_layers} layer{'s' if n_layers != 1 else ''} × {n_heads} heads, {n_key} tokens. "
             "Weights are stored to 1/255 (the heatmap's 256 colours).")
    shown_text = f'<p class="text">{html.escape(text)}</p>' if text else ""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n{shown_text}\n<p class=\"note\">{html.escape(about)}</p>\n"
            f"{_BODY}\n"
            f'<script type="application/json" id="gptviz-heads-data">{_json_for_script(data)}</script>\n'
            f"<script>{_SCRIPT}</script>\n</body>\n</html>\n")


_STYLE = """
body { margin: 1em 1.5em; font: 14px/1.4 system-ui, sans-serif; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .3em; } h2 { font-size: 1.05em; margin: 1em 0 .4em; }
.text { font-family: ui-monospace, monospace; white-space: pre-wrap; background: #f6f6f6; padding: .4em;
  max-height: 7.5em; overflow: auto; }
.note, #status { color: #555; }
#controls { display: flex; gap: 1.2em; align-items: center; margin: .6em 0; flex-wrap: wrap; }
#main { display: flex; gap: 2em; align-items: flex-start; flex-wrap: wrap; }
#heatmap-box { position: relative; display: inline-block; line-height: 0; }
#heatmap { image-rendering: pixelated; cursor: crosshair; outline: 1px solid #999; display: block; }
#row-mark, #cell-mark { position: absolute; pointer-events: none; }
#row-mark { outline: 2px solid #d55e00; } #cell-mark { outline: 1px solid #fff; }
#tooltip { position: absolute; z-index: 2; pointer-events: none; background: #fff; border: 1px solid #888;
  padding: 4px 7px; line-height: 1.35; white-space: nowrap; box-shadow: 0 1px 4px rgba(0,0,0,.25); }
#tooltip .tok, .token, #follow .tok { font-family: ui-monospace, monospace; white-space: pre; }
.axis { color: #555; font-size: 12px; margin-bottom: 3px; }
#scale { display: flex; align-items: center; gap: 6px; font-size: 12px; margin-top: 6px; }
#follow table { border-collapse: collapse; } #follow td { padding: 1px 6px; }
#follow button { font: inherit; border: 0; background: none; cursor: pointer; padding: 0; text-align: left; }
#follow .bar { display: inline-block; height: 9px; background: #d55e00; }
#tokens { line-height: 1.9; }
.token { font-size: 13px; border: 1px solid #bbb; border-radius: 4px; margin: 1px; padding: 0 3px;
  background: #fff; cursor: pointer; color: #222; }
.token.query { outline: 3px solid #0072b2; } .token.unseen { opacity: .35; }
#overview table { border-collapse: collapse; font-size: 11px; color: #555; }
#overview td { padding: 1px; } #overview canvas { width: 44px; height: 44px; display: block;
  image-rendering: pixelated; cursor: pointer; outline: 1px solid #ccc; }
#overview canvas.shown { outline: 3px solid #d55e00; }
"""

_BODY = """<div id="controls">
<label>layer <select id="layer"></select></label>
<label>head <select id="head"></select></label>
<span id="status">Loading…</span>
</div>
<div id="main">
<div>
<div class="axis">rows: the query (the token attending) ↓ · columns: the key (the token attended to) →</div>
<div id="heatmap-box"><canvas id="heatmap"></canvas><div id="row-mark"></div><div id="cell-mark" hidden></div>
<div id="tooltip" role="tooltip" hidden></div></div>
<div id="scale">0 <canvas id="scale-bar" width="256" height="1" style="width:160px;height:10px"></canvas> 1
<span>attention weight; grey: a later token, which a causal head cannot see</span></div>
</div>
<div id="follow"></div>
</div>
<h2>Tokens: click one to follow what it attends to</h2>
<div id="tokens"></div>
<h2>Every head (rows: layers, columns: heads; click one to show it)</h2>
<div id="overview"></div>"""

# The page's script. It reads the JSON block, unpacks heads on demand and draws them. It sets
# <body data-shown="LAYER_INDEX,HEAD"> when a head is on screen, data-query when a query is
# followed, and data-overview="done" once every thumbnail is drawn (for tests and for scripts).
_SCRIPT = r"""
(() => {
"use strict";
const D = JSON.parse(document.getElementById("gptviz-heads-data").textContent);
const T = D.n_query, K = D.n_key, OFFSET = K - T, H = D.n_head, L = D.layers.length;
const $ = id => document.getElementById(id);
const COLOURS = new Uint8Array(D.colours.match(/../g).map(h => parseInt(h, 16)));
const GREY = D.masked.match(/[0-9a-f]{2}/gi).map(h => parseInt(h, 16));
const CELL = Math.max(1, Math.min(28, Math.floor(640 / Math.max(T, K))));
const state = { layer: 0, head: 0, query: T - 1, weights: null };
const cache = new Map();
const body = document.body;

const rowStart = i => i * (OFFSET + 1) + i * (i - 1) / 2;  // first stored byte of query row i
const sees = (i, j) => j <= OFFSET + i;
const level = (w, i, j) => sees(i, j) ? w[rowStart(i) + j] : -1;
const weightText = q => q === 0 ? "< 0.002" : (q / D.levels).toFixed(3);
const say = text => { $("status").textContent = text; };

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

async function unpack(b64) {
  const raw = atob(b64), bytes = new Uint8Array(raw.length);
  for (let n = 0; n < raw.length; n++) bytes[n] = raw.charCodeAt(n);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function weightsOf(li, h) {
  const key = li * H + h;
  if (!cache.has(key)) cache.set(key, unpack(D.heads[li][h]));
  return cache.get(key);
}

function paint(canvas, w, pool) {  // a head's cells, max-pooled by `pool` (1: every cell)
  const rows = Math.ceil(T / pool), cols = Math.ceil(K / pool);
  const best = new Int16Array(rows * cols).fill(-1);
  for (let i = 0; i < T; i++) {
    const start = rowStart(i), r = Math.floor(i / pool) * cols;
    for (let j = 0; j <= OFFSET + i; j++) {
      const at = r + Math.floor(j / pool);
      if (w[start + j] > best[at]) best[at] = w[start + j];
    }
  }
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(cols, rows), px = image.data;
  best.forEach((q, n) => {
    const rgb = q < 0 ? GREY : COLOURS.subarray(3 * q, 3 * q + 3);
    px[4 * n] = rgb[0]; px[4 * n + 1] = rgb[1]; px[4 * n + 2] = rgb[2]; px[4 * n + 3] = 255;
  });
  ctx.putImageData(image, 0, 0);
}

function drawHeatmap() {
  const canvas = $("heatmap");
  canvas.width = K; canvas.height = T;
  canvas.style.width = K * CELL + "px"; canvas.style.height = T * CELL + "px";
  paint(canvas, state.weights, 1);
}

function cellAt(event) {
  const box = $("heatmap").getBoundingClientRect();
  const j = Math.floor((event.clientX - box.left) / box.width * K);
  const i = Math.floor((event.clientY - box.top) / box.height * T);
  return (i >= 0 && i < T && j >= 0 && j < K) ? [i, j] : null;
}

function hover(event) {
  const at = state.weights && cellAt(event), tip = $("tooltip"), mark = $("cell-mark");
  if (!at) { tip.hidden = true; mark.hidden = true; return; }
  const [i, j] = at, q = level(state.weights, i, j);
  tip.replaceChildren();
  const line = (label, pos, token) => {
    const row = el("div", label + " " + pos + " ");
    row.append(el("span", token, "tok"));
    tip.append(row);
  };
  line("query", OFFSET + i, D.tokens[OFFSET + i]);
  line("key", j, D.tokens[j]);
  tip.append(el("div", q < 0 ? "masked: a later token, which the query cannot see"
                             : "weight " + weightText(q), "weight"));
  tip.hidden = false;
  const left = event.offsetX > K * CELL / 2;  // keep the tooltip over the heatmap's other half
  tip.style.left = (left ? event.offsetX - tip.offsetWidth - 12 : event.offsetX + 14) + "px";
  tip.style.top = event.offsetY + 14 + "px";
  Object.assign(mark.style, { left: j * CELL + "px", top: i * CELL + "px", width: CELL + "px", height: CELL + "px" });
  mark.hidden = CELL < 4;
}

function follow(i) {  // query row i: outline it, shade every token by its weight, list its strongest keys
  state.query = i;
  body.dataset.query = String(OFFSET + i);
  const w = state.weights;
  const row = { left: "0px", top: i * CELL + "px", width: K * CELL + "px", height: CELL + "px" };
  Object.assign($("row-mark").style, row);
  const chips = $("tokens").children;
  for (let j = 0; j < K; j++) {
    const q = level(w, i, j), chip = chips[j];
    chip.style.background = q < 0 ? "#fff" : `rgba(213, 94, 0, ${(q / D.levels).toFixed(3)})`;
    chip.classList.toggle("unseen", q < 0);
    chip.classList.toggle("query", j === OFFSET + i);
    chip.title = q < 0 ? `key ${j}: after the query` : `key ${j}: weight ${weightText(q)}`;
  }
  const keys = [];
  for (let j = 0; j <= OFFSET + i; j++) keys.push([level(w, i, j), j]);
  keys.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const box = $("follow");
  box.replaceChildren();
  const head = el("h2", `Query ${OFFSET + i} `);
  head.append(el("span", D.tokens[OFFSET + i], "tok"), " attends most to:");
  const table = el("table");
  for (const [q, j] of keys.slice(0, 10)) {
    const tr = el("tr"), button = el("button", D.tokens[j], "tok"), bar = el("span", "", "bar");
    bar.style.width = Math.round(120 * q / D.levels) + "px";
    if (j >= OFFSET) {
      button.title = "follow this token: what does it attend to?";
      button.addEventListener("click", () => follow(j - OFFSET));
    }
    const cells = [el("td", String(j)), el("td"), el("td", weightText(q)), el("td")];
    cells[1].append(button); cells[3].append(bar);
    tr.append(...cells);
    table.append(tr);
  }
  box.append(head, table, el("p", "Click a token above to follow it in turn.", "note"));
}

async function show(li, h) {
  state.layer = li; state.head = h;
  $("layer").value = String(li); $("head").value = String(h);
  say(`Layer ${D.layers[li]}, head ${h}: unpacking…`);
  const w = await weightsOf(li, h);
  if (state.layer !== li || state.head !== h) return;  // a later choice came first
  state.weights = w;
  drawHeatmap();
  follow(state.query);
  for (const c of document.querySelectorAll("#overview canvas"))
    c.classList.toggle("shown", c.dataset.layer === String(li) && c.dataset.head === String(h));
  say(`Layer ${D.layers[li]}, head ${h}`);
  body.dataset.shown = `${li},${h}`;
}

async function overview() {  // one thumbnail per head, at most 64 x 64 cells, max-pooled
  const pool = Math.ceil(Math.max(T, K) / 64), rows = Math.ceil(T / pool), cols = Math.ceil(K / pool);
  const table = el("table"), head = el("tr");
  head.append(el("td"));
  for (let h = 0; h < H; h++) head.append(el("td", String(h)));
  table.append(head);
  const canvases = [];
  for (let li = 0; li < L; li++) {
    const tr = el("tr");
    tr.append(el("td", String(D.layers[li])));
    for (let h = 0; h < H; h++) {
      const c = el("canvas"), td = el("td");
      c.width = cols; c.height = rows; c.dataset.layer = String(li); c.dataset.head = String(h);
      c.title = `layer ${D.layers[li]}, head ${h}`;
      c.classList.toggle("shown", li === state.layer && h === state.head);
      c.addEventListener("click", () => show(li, h));
      td.append(c); tr.append(td); canvases.push(c);
    }
    table.append(tr);
  }
  $("overview").append(table);
  for (const c of canvases) paint(c, await weightsOf(+c.dataset.layer, +c.dataset.head), pool);
  body.dataset.overview = "done";
}

function start() {
  if (typeof DecompressionStream === "undefined") {
    say("This browser cannot unpack the page's data (it lacks DecompressionStream): open the page in a " +
        "current Chrome, Edge, Firefox or Safari.");
    return;
  }
  D.layers.forEach((n, li) => $("layer").append(new Option(String(n), String(li))));
  for (let h = 0; h < H; h++) $("head").append(new Option(String(h), String(h)));
  $("layer").addEventListener("change", e => show(+e.target.value, state.head));
  $("head").addEventListener("change", e => show(state.layer, +e.target.value));
  const heat = $("heatmap");
  heat.addEventListener("mousemove", hover);
  heat.addEventListener("mouseleave", () => { $("tooltip").hidden = true; $("cell-mark").hidden = true; });
  heat.addEventListener("click", e => { const at = cellAt(e); if (at && state.weights) follow(at[0]); });
  D.tokens.forEach((t, j) => {
    const chip = el("button", t, "token");
    if (j >= OFFSET) chip.addEventListener("click", () => follow(j - OFFSET));
    else chip.disabled = true;
    $("tokens").append(chip);
  });
  const bar = $("scale-bar").getContext("2d"), strip = bar.createImageData(256, 1);
  for (let n = 0; n < 256; n++) strip.data.set([...COLOURS.subarray(3 * n, 3 * n + 3), 255], 4 * n);
  bar.putImageData(strip, 0, 0);
  show(0, 0).then(overview).catch(err => say("Could not draw the page: " + err));
}

start();
})();
"""
