// gptviz in the browser: GPT-2's byte-pair tokenizer, the bundled model's forward pass and the sampling
// distribution, in plain JavaScript (an ES module, no build step, no request outside the site's folder).
//
// What it computes follows the Python library: gptviz/tokenizer.py (the pre-tokenizer regex, the merges,
// the <|endoftext|> gate), gptviz/model.py (GPT-2: pre-LN blocks, gelu_new, tied unembedding) and
// gptviz/sampling.py (temperature, then top-k with ties kept, then top-p). The weights are the bundled
// checkpoint's model.safetensors, copied into the site by tools/build_site.py and read here as is.
//
// Layout: every tensor is a Float32Array, row-major. A linear layer's weight is kept as [out, in] (the
// checkpoint's Conv1D [in, out], transposed once at load), so each output is one contiguous dot product.

const EOT = "<|endoftext|>";
const EOT_ID = 50256;
// tiktoken's r50k pattern (gptviz/tokenizer.py uses the same), with the u flag for \p{...} classes.
const PIECE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const VISIBLE = { " ": "\u2423", "\n": "\u21b5", "\t": "\u21e5", "\r": "\u240d" };

export class GptvizError extends Error {}

// ---- tokenizer -------------------------------------------------------------------------------------------

/** GPT-2's tokenizer over the site's copy of gpt2.tiktoken (``base64-bytes rank`` per line). A token's
 *  bytes are held as a "binary string": one character per byte (code 0..255). */
export class Tokenizer {
  constructor(tiktokenText) {
    this.ranks = new Map(); // binary string -> rank (= id)
    this.bytesOf = new Array(EOT_ID + 1);
    for (const line of tiktokenText.split("\n")) {
      if (!line) continue;
      const [b64, rank] = line.split(" ");
      const bin = atob(b64);
      const id = Number(rank);
      this.ranks.set(bin, id);
      this.bytesOf[id] = bin;
    }
    this.bytesOf[EOT_ID] = EOT;
    this.vocabSize = EOT_ID + 1;
    this.eotId = EOT_ID;
    this.cache = new Map(); // piece -> ids (pieces repeat: words of a text)
  }

  /** Token ids of ``text``. The literal <|endoftext|> is refused unless ``allowSpecial`` (then it is id
   *  50256); lone surrogates read as U+FFFD, as in gptviz (clean_surrogates). */
  encode(text, { allowSpecial = false } = {}) {
    if (typeof text !== "string") throw new GptvizError(`encode() takes a string, got ${typeof text}`);
    text = wellFormed(text);
    const parts = text.split(EOT);
    if (parts.length > 1 && !allowSpecial) {
      throw new GptvizError(`The text contains the special token ${EOT} literally: remove it from the text, ` +
        "or tick \u201callow <|endoftext|>\u201d to read it as the end-of-text token (id 50256)");
    }
    const ids = [];
    parts.forEach((part, n) => {
      if (n > 0) ids.push(EOT_ID);
      for (const piece of this.pieces(part)) for (const id of this.encodePiece(piece)) ids.push(id);
    });
    return ids;
  }

  /** The pre-tokenizer's cut of ``text`` (each piece is merged on its own). */
  pieces(text) {
    return wellFormed(text).match(PIECE) || [];
  }

  encodePiece(piece) {
    let ids = this.cache.get(piece);
    if (ids === undefined) {
      const steps = this.mergeSteps(piece, false);
      ids = steps[steps.length - 1].parts.map((p) => this.ranks.get(p));
      if (this.cache.size > 50000) this.cache.clear();
      this.cache.set(piece, ids);
    }
    return ids;
  }

  /** The merges of one piece: [{parts, pair, rank}], from single bytes to the final tokens; at every step
   *  the adjacent pair with the lowest rank (the leftmost among equals) is joined. ``all``: keep every
   *  state (false: only the last). */
  mergeSteps(piece, all = true) {
    const parts = Array.from(utf8(piece), (b) => String.fromCharCode(b));
    const rankOf = (a, b) => { const r = this.ranks.get(a + b); return r === undefined ? Infinity : r; };
    const ranks = [];
    for (let j = 0; j + 1 < parts.length; j++) ranks.push(rankOf(parts[j], parts[j + 1]));
    const steps = [{ parts: parts.slice(), pair: null, rank: null }];
    while (ranks.length) {
      let j = 0;
      for (let m = 1; m < ranks.length; m++) if (ranks[m] < ranks[j]) j = m;
      const rank = ranks[j];
      if (rank === Infinity) break;
      const pair = [parts[j], parts[j + 1]];
      parts.splice(j, 2, pair[0] + pair[1]);
      ranks.splice(j, 1);
      if (j > 0) ranks[j - 1] = rankOf(parts[j - 1], parts[j]);
      if (j < ranks.length) ranks[j] = rankOf(parts[j], parts[j + 1]);
      const step = { parts: all ? parts.slice() : parts, pair, rank };
      if (all) steps.push(step); else steps[0] = step;
    }
    return steps;
  }

  /** A readable label of token ``id`` (spaces as ␣, newlines as ↵, bytes of a split character as \xNN),
   *  as gptviz's token_str. */
  tokenStr(id) { return readable(this.bytesOf[id]); }

  /** The text of ``ids``; invalid UTF-8 becomes U+FFFD. */
  decode(ids) {
    const bytes = [];
    for (const id of ids) { const s = this.bytesOf[id]; for (let i = 0; i < s.length; i++) bytes.push(s.charCodeAt(i)); }
    return new TextDecoder("utf-8").decode(new Uint8Array(bytes));
  }
}

function wellFormed(text) {
  return typeof text.toWellFormed === "function" ? text.toWellFormed() : text;
}

function utf8(text) { return new TextEncoder().encode(text); }

/** A binary string as a label: valid UTF-8 decoded with whitespace made visible, other bytes as \xNN. */
export function readable(bin) {
  if (bin === EOT) return EOT;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let out = "";
  let i = 0;
  while (i < bin.length) {
    let done = false;
    for (let width = 1; width <= 4 && i + width <= bin.length; width++) {
      const chunk = Uint8Array.from(bin.slice(i, i + width), (c) => c.charCodeAt(0));
      let ch;
      try { ch = decoder.decode(chunk); } catch { continue; }
      out += VISIBLE[ch] ?? (printable(ch) ? ch : "\\u" + ch.codePointAt(0).toString(16).padStart(4, "0"));
      i += width;
      done = true;
      break;
    }
    if (!done) { out += "\\x" + bin.charCodeAt(i).toString(16).padStart(2, "0"); i += 1; }
  }
  return out;
}

function printable(ch) { return !/[\p{C}\p{Z}]/u.test(ch) || ch === " "; }

// ---- weights ---------------------------------------------------------------------------------------------

const HALF = (() => { // every float16 bit pattern as a float32
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
    table[h] = e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
  }
  return table;
})();

/** The tensors of a safetensors file (F16 or F32) as {name: {shape, data: Float32Array}}. */
export function readSafetensors(buffer) {
  const view = new DataView(buffer);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, n)));
  const out = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const [a, b] = t.data_offsets;
    const start = 8 + n + a;
    let data;
    if (t.dtype === "F32") data = new Float32Array(buffer.slice(start, 8 + n + b));
    else if (t.dtype === "F16") {
      const half = new Uint16Array(buffer.slice(start, 8 + n + b));
      data = new Float32Array(half.length);
      for (let i = 0; i < half.length; i++) data[i] = HALF[half[i]];
    } else throw new GptvizError(`${name}: dtype ${t.dtype} is not supported (F16 or F32)`);
    out[name] = { shape: t.shape, data };
  }
  return out;
}

function transpose(data, rows, cols) { // [rows, cols] -> [cols, rows]
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

// ---- the model -------------------------------------------------------------------------------------------

/** The bundled GPT-2. ``config``: its config.json; ``tensors``: readSafetensors of its weights. */
export class Model {
  constructor(config, tensors, tokenizer) {
    const D = config.n_embd, H = config.n_head;
    this.config = { nLayer: config.n_layer, nHead: H, dModel: D, dHead: D / H, nCtx: config.n_positions,
                    vocab: config.vocab_size, eps: config.layer_norm_epsilon, dMlp: config.n_inner || 4 * D };
    this.tokenizer = tokenizer;
    const get = (name) => {
      const t = tensors["transformer." + name] || tensors[name];
      if (!t) throw new GptvizError(`the weights file has no tensor ${name}`);
      return t;
    };
    const linear = (name) => { // Conv1D [in, out] -> {w: [out, in], b: [out], nIn, nOut}
      const w = get(name + ".weight"), b = get(name + ".bias");
      const [nIn, nOut] = w.shape;
      return { w: transpose(w.data, nIn, nOut), b: b.data, nIn, nOut };
    };
    const norm = (name) => ({ g: get(name + ".weight").data, b: get(name + ".bias").data });
    this.wte = get("wte.weight").data; // [V, D], also the unembedding (tied)
    this.wpe = get("wpe.weight").data; // [n_ctx, D]
    this.blocks = [];
    for (let i = 0; i < config.n_layer; i++) {
      this.blocks.push({ ln1: norm(`h.${i}.ln_1`), attn: linear(`h.${i}.attn.c_attn`), proj: linear(`h.${i}.attn.c_proj`),
                         ln2: norm(`h.${i}.ln_2`), fc: linear(`h.${i}.mlp.c_fc`), out: linear(`h.${i}.mlp.c_proj`) });
    }
    this.lnf = norm("ln_f");
  }

  /** An empty key/value cache: per layer K and V, [n_ctx, D] each, and ``length`` positions filled. */
  newCache() {
    const { nLayer, nCtx, dModel } = this.config;
    return { length: 0, k: Array.from({ length: nLayer }, () => new Float32Array(nCtx * dModel)),
             v: Array.from({ length: nLayer }, () => new Float32Array(nCtx * dModel)) };
  }

  /** One forward pass over ``ids`` (new tokens after ``cache.length`` cached ones, when a cache is given).
   *  Returns {patterns: [L] Float32Array [H, T, S] (S = past + T; zero above the diagonal),
   *  resid: [L + 1] Float32Array [T, D] (embed.sum, then each block's resid_post), logits: Float32Array [V]
   *  (the last position's)}. */
  forward(ids, cache = null) {
    const { nLayer, nHead: H, dModel: D, dHead: dh, nCtx, dMlp } = this.config;
    const T = ids.length, past = cache ? cache.length : 0, S = past + T;
    if (T === 0) throw new GptvizError("the text gives no tokens: type something");
    if (S > nCtx) throw new GptvizError(`${S} tokens is more than the model's context of ${nCtx}: shorten the text`);
    for (const id of ids) if (!(Number.isInteger(id) && id >= 0 && id < this.config.vocab)) {
      throw new GptvizError(`token id ${id} is outside the vocabulary (0 .. ${this.config.vocab - 1})`);
    }
    const x = new Float32Array(T * D);
    for (let t = 0; t < T; t++) {
      const e = ids[t] * D, p = (past + t) * D, o = t * D;
      for (let d = 0; d < D; d++) x[o + d] = this.wte[e + d] + this.wpe[p + d];
    }
    const resid = [x.slice()];
    const patterns = [];
    const h = new Float32Array(T * D), qkv = new Float32Array(T * 3 * D), z = new Float32Array(T * D);
    const a = new Float32Array(T * D), m = new Float32Array(T * dMlp);
    const scale = 1 / Math.sqrt(dh);
    const row = new Float64Array(S);
    for (let l = 0; l < nLayer; l++) {
      const blk = this.blocks[l];
      const K = cache ? cache.k[l] : new Float32Array(S * D), V = cache ? cache.v[l] : new Float32Array(S * D);
      layerNorm(x, T, D, blk.ln1, this.config.eps, h);
      matmul(h, T, blk.attn, qkv);
      for (let t = 0; t < T; t++) { // keys and values of the new positions go into the cache
        K.set(qkv.subarray(t * 3 * D + D, t * 3 * D + 2 * D), (past + t) * D);
        V.set(qkv.subarray(t * 3 * D + 2 * D, t * 3 * D + 3 * D), (past + t) * D);
      }
      const pat = new Float32Array(H * T * S); // [H, T, S]
      z.fill(0);
      for (let hd = 0; hd < H; hd++) {
        const off = hd * dh;
        for (let t = 0; t < T; t++) {
          const q = t * 3 * D + off, last = past + t; // causal: keys 0 .. last
          let max = -Infinity;
          for (let s = 0; s <= last; s++) {
            const k = s * D + off;
            let dot = 0;
            for (let d = 0; d < dh; d++) dot += qkv[q + d] * K[k + d];
            const sc = Math.fround(dot * scale);
            row[s] = sc;
            if (sc > max) max = sc;
          }
          let sum = 0;
          for (let s = 0; s <= last; s++) { const e = Math.exp(row[s] - max); row[s] = e; sum += e; }
          const pr = (hd * T + t) * S, zo = t * D + off;
          for (let s = 0; s <= last; s++) {
            const w = row[s] / sum;
            pat[pr + s] = w;
            const v = s * D + off;
            for (let d = 0; d < dh; d++) z[zo + d] += w * V[v + d];
          }
        }
      }
      patterns.push(pat);
      matmul(z, T, blk.proj, a);
      for (let i = 0; i < T * D; i++) x[i] += a[i]; // resid_mid
      layerNorm(x, T, D, blk.ln2, this.config.eps, h);
      matmul(h, T, blk.fc, m);
      for (let i = 0; i < m.length; i++) m[i] = gelu(m[i]);
      matmul(m, T, blk.out, a);
      for (let i = 0; i < T * D; i++) x[i] += a[i]; // resid_post
      resid.push(x.slice());
    }
    if (cache) cache.length = S;
    const logits = this.unembed(x.subarray((T - 1) * D, T * D));
    return { patterns, resid, logits, past };
  }

  /** Logits [V] of one residual-stream vector [D]: ln_f, then the dot product with every row of the tied
   *  embedding (one tight loop over 50,257 x D). Also the logit lens, for any layer's stream. */
  unembed(vec) {
    const { dModel: D, vocab: Vn, eps } = this.config;
    const h = new Float32Array(D);
    layerNorm(vec, 1, D, this.lnf, eps, h);
    const out = new Float32Array(Vn), W = this.wte;
    for (let v = 0, o = 0; v < Vn; v++, o += D) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let d = 0; d < D; d += 4) {
        s0 += h[d] * W[o + d]; s1 += h[d + 1] * W[o + d + 1]; s2 += h[d + 2] * W[o + d + 2]; s3 += h[d + 3] * W[o + d + 3];
      }
      out[v] = (s0 + s1) + (s2 + s3);
    }
    return out;
  }
}

function layerNorm(x, T, D, { g, b }, eps, out) {
  for (let t = 0; t < T; t++) {
    const o = t * D;
    let mean = 0;
    for (let d = 0; d < D; d++) mean += x[o + d];
    mean /= D;
    let v = 0;
    for (let d = 0; d < D; d++) { const c = x[o + d] - mean; v += c * c; }
    const inv = 1 / Math.sqrt(v / D + eps);
    for (let d = 0; d < D; d++) out[o + d] = (x[o + d] - mean) * inv * g[d] + b[d];
  }
}

/** out [T, nOut] = x [T, nIn] @ W^T + b, with W held as [nOut, nIn]. Four positions at a time: each weight
 *  is read once for four dot products (the weights, not the activations, are what streams from memory). */
function matmul(x, T, { w, b, nIn, nOut }, out) {
  let t = 0;
  for (; t + 4 <= T; t += 4) {
    const x0 = t * nIn, x1 = x0 + nIn, x2 = x1 + nIn, x3 = x2 + nIn;
    for (let j = 0, wo = 0; j < nOut; j++, wo += nIn) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0; i < nIn; i++) {
        const wi = w[wo + i];
        s0 += x[x0 + i] * wi; s1 += x[x1 + i] * wi; s2 += x[x2 + i] * wi; s3 += x[x3 + i] * wi;
      }
      const bj = b[j];
      out[t * nOut + j] = s0 + bj; out[(t + 1) * nOut + j] = s1 + bj;
      out[(t + 2) * nOut + j] = s2 + bj; out[(t + 3) * nOut + j] = s3 + bj;
    }
  }
  for (; t < T; t++) { // the last positions, one at a time
    const xo = t * nIn;
    for (let j = 0, wo = 0; j < nOut; j++, wo += nIn) {
      let s = 0;
      for (let i = 0; i < nIn; i++) s += x[xo + i] * w[wo + i];
      out[t * nOut + j] = s + b[j];
    }
  }
}

const GELU_C = Math.sqrt(2 / Math.PI);
function gelu(v) { return 0.5 * v * (1 + Math.tanh(GELU_C * (v + 0.044715 * v * v * v))); } // gelu_new

// ---- sampling (gptviz/sampling.py) ------------------------------------------------------------------------

/** Softmax [V] (float32) of ``scores``, entries where ``removed`` holds at 0. */
function softmax(scores, removed = null) {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (!(removed && removed[i]) && scores[i] > max) max = scores[i];
  const out = new Float32Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    if (removed && removed[i]) continue;
    const e = Math.exp(scores[i] - max); out[i] = e; sum += e;
  }
  for (let i = 0; i < scores.length; i++) out[i] /= sum;
  return out;
}

/** The next-token distribution after temperature, top-k and top-p, in that order (Hugging Face's warpers,
 *  as gptviz.distribution). ``temperature`` 0: greedy (one-hot on the argmax, lowest id among ties); ``topK``
 *  0 or null: off (ties with the k-th score stay); ``topP`` 1 or null: off (the smallest most-probable set
 *  reaching p, ties at the boundary kept by lower id). Returns {stages: {softmax, temperature, top_k, top_p},
 *  probs, nKept, massCut, entropy}. */
export function distribution(logits, { temperature = 1, topK = null, topP = null } = {}) {
  if (!(Number.isFinite(temperature) && temperature >= 0)) throw new GptvizError("temperature must be a number >= 0 (0 is greedy)");
  if (topK !== null && topK !== 0 && !(Number.isInteger(topK) && topK >= 1)) throw new GptvizError("top-k must be a whole number >= 1, or 0 for off");
  if (topP !== null && !(topP > 0 && topP <= 1)) throw new GptvizError("top-p must be in (0, 1]");
  const Vn = logits.length;
  const stages = { softmax: softmax(logits) };
  const removed = new Uint8Array(Vn);
  if (temperature === 0) {
    const hot = new Float32Array(Vn);
    hot[argmax(logits)] = 1;
    stages.temperature = stages.top_k = stages.top_p = hot;
  } else {
    const t32 = Math.fround(temperature);
    const scaled = temperature === 1 ? logits : logits.map((v) => Math.fround(v / t32));
    if (scaled.some((v) => v === Infinity)) throw new GptvizError(`temperature ${temperature} is too small for these logits: use 0 for greedy`);
    stages.temperature = temperature === 1 ? stages.softmax : softmax(scaled);
    const kOn = topK && topK < Vn, pOn = topP !== null && topP < 1;
    const ascending = kOn || pOn ? Float32Array.from(scaled).sort() : null;
    if (kOn) {
      const kth = ascending[Vn - topK];
      let n = 0;
      for (let i = 0; i < Vn; i++) if (scaled[i] < kth) { removed[i] = 1; n++; }
      ascending.fill(-Infinity, 0, n);
      stages.top_k = softmax(scaled, removed);
    } else stages.top_k = stages.temperature;
    if (pOn) {
      const sorted = softmax(ascending);
      let cum = 0, dropped = 0;
      const limit = Math.fround(1 - topP);
      // torch's CPU cumsum adds float32 in double and rounds each output to float32
      for (let i = 0; i < Vn - 1; i++) { cum += sorted[i]; if (Math.fround(cum) <= limit) dropped++; else break; }
      const nKeep = Vn - dropped, boundary = ascending[Vn - nKeep];
      let kept = 0;
      for (let i = 0; i < Vn; i++) if (!removed[i] && scaled[i] > boundary) kept++;
      for (let i = 0; i < Vn; i++) {
        if (removed[i] || scaled[i] > boundary) continue;
        if (scaled[i] === boundary && kept < nKeep) { kept++; continue; }
        removed[i] = 1;
      }
      stages.top_p = softmax(scaled, removed);
    } else stages.top_p = stages.top_k;
  }
  const probs = stages.top_p;
  let nKept = 0, massCut = 0, entropy = 0;
  for (let i = 0; i < Vn; i++) {
    if (probs[i] > 0) { nKept++; entropy -= probs[i] * Math.log(probs[i]); }
    if (removed[i]) massCut += stages.temperature[i];
  }
  return { stages, probs, nKept, massCut, entropy: entropy + 0 };
}

function argmax(x) { let j = 0; for (let i = 1; i < x.length; i++) if (x[i] > x[j]) j = i; return j; }

/** The ``n`` most probable ids of ``probs`` (ties: higher ``logits``, then lower id). */
export function topIds(probs, logits, n) {
  const heap = [];
  for (let i = 0; i < probs.length; i++) {
    if (heap.length < n || better(i, heap[heap.length - 1])) {
      heap.push(i);
      heap.sort((a, b) => (better(a, b) ? -1 : 1));
      if (heap.length > n) heap.pop();
    }
  }
  return heap;
  function better(a, b) { return probs[a] !== probs[b] ? probs[a] > probs[b] : logits[a] !== logits[b] ? logits[a] > logits[b] : a < b; }
}

/** A seeded generator of floats in [0, 1): splitmix64 over BigInt seeds (0 .. 2**64 - 1). The same seed
 *  gives the same numbers in every browser and page load. */
export function rng(seed) {
  let state = BigInt.asUintN(64, BigInt(seed));
  return () => {
    state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    z ^= z >> 31n;
    return Number(z >> 11n) / 2 ** 53;
  };
}

/** ``n`` draws from ``probs`` by inverse CDF with ``rng(seed)``; a token with probability 0 is never drawn. */
export function draws(probs, n, seed) {
  const cdf = new Float64Array(probs.length);
  let total = 0;
  for (let i = 0; i < probs.length; i++) { total += probs[i]; cdf[i] = total; }
  const next = rng(seed), out = [];
  for (let k = 0; k < n; k++) {
    const u = Math.min(next() * total, total * (1 - 2 ** -52));
    let lo = 0, hi = probs.length - 1; // the first index whose cumulative sum exceeds u
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid] > u) hi = mid; else lo = mid + 1; }
    out.push(lo);
  }
  return out;
}

/** The seed of the draw at ``position`` of a generation seeded with ``seed`` (so back-then-step, or a second
 *  run, draws the same token). */
export function stepSeed(seed, position) {
  return BigInt.asUintN(64, BigInt(seed) * 0x100000001b3n + BigInt(position) * 0x9e3779b97f4a7c15n + 1n);
}

// ---- loading, once per page --------------------------------------------------------------------------------

let loading = null;

/** The site's tokenizer and model, fetched once from the same origin (``base``: the assets folder's URL). */
export function load(base) {
  if (!loading) {
    loading = (async () => {
      const get = async (name, kind) => {
        const r = await fetch(new URL(name, base), { cache: "force-cache" });
        if (!r.ok) throw new GptvizError(`could not load ${name} from the site (${r.status})`);
        return r[kind]();
      };
      const [vocab, config, weights] = await Promise.all([
        get("gpt2.tiktoken", "text"), get("config.json", "json"), get("model.safetensors", "arrayBuffer")]);
      const tokenizer = new Tokenizer(vocab);
      return new Model(config, readSafetensors(weights), tokenizer);
    })();
  }
  return loading;
}
