// Every page of the site: the search box (over assets/search.json, written at build time), the live explorers
// (the model is loaded once, when a page has one or a test asks), and window.gptviz for the browser tests.

import * as core from "./gptviz.js";
import { mount } from "./explorers.js";

const ASSETS = new URL("./", import.meta.url);

function setUpSearch() {
  const input = document.getElementById("site-search"), list = document.getElementById("site-search-results");
  if (!input) return;
  let entries = null;
  input.addEventListener("input", async () => {
    entries ??= await (await fetch(new URL("search.json", ASSETS))).json();
    const words = input.value.toLowerCase().split(/\s+/).filter((w) => w.length > 1);
    const hits = words.length ? entries.map((e) => {
      const hay = (e.heading + " " + e.text).toLowerCase();
      return { e, score: words.every((w) => hay.includes(w)) ? words.reduce((s, w) => s + hay.split(w).length - 1, 0) : 0 };
    }).filter((h) => h.score > 0).sort((a, b) => b.score - a.score).slice(0, 8) : [];
    list.replaceChildren(...hits.map(({ e }) => {
      const at = e.text.toLowerCase().indexOf(words[0]);
      const a = document.createElement("a");
      a.href = `${e.page}#${encodeURIComponent(e.anchor)}`;
      a.append(Object.assign(document.createElement("b"), { textContent: e.heading }), document.createElement("br"),
               e.text.slice(Math.max(0, at - 40), at + 80));
      const li = document.createElement("li");
      li.append(a);
      return li;
    }));
    if (words.length && !hits.length) list.replaceChildren(Object.assign(document.createElement("li"), { textContent: "no match" }));
    list.hidden = !words.length;
  });
}

/** For tests and for the curious, in the console: the page's model and the library's definitions. */
window.gptviz = {
  load: () => core.load(ASSETS),
  /** ids, every attention pattern ([layer][head] flat [T * T]) and the last position's logits of ``text``. */
  async run(text, { allowSpecial = false } = {}) {
    const model = await core.load(ASSETS);
    const ids = model.tokenizer.encode(text, { allowSpecial });
    const out = model.forward(ids);
    const T = ids.length, H = model.config.nHead;
    return { ids, logits: Array.from(out.logits),
             patterns: out.patterns.map((p) => Array.from({ length: H }, (_, h) => Array.from(p.subarray(h * T * T, (h + 1) * T * T)))) };
  },
  async encode(texts, options = {}) {
    const model = await core.load(ASSETS);
    return texts.map((t) => { try { return model.tokenizer.encode(t, options); } catch (err) { return { error: err.message }; } });
  },
  distribution: (logits, settings) => Array.from(core.distribution(Float32Array.from(logits), settings).probs),
  draws: (probs, n, seed) => core.draws(Float32Array.from(probs), n, BigInt(seed)),
  core,
};

setUpSearch();
const mounts = document.querySelectorAll(".gptviz-live");
if (mounts.length) {
  window.gptviz.load().then((model) => {
    for (const root of mounts) {
      try { mount(root, model); } catch (err) { root.textContent = `The live explorer failed: ${err.message}`; throw err; }
    }
    document.documentElement.dataset.gptviz = "ready";
  }, (err) => { for (const root of mounts) root.textContent = `The model could not be loaded: ${err.message}`; });
} else document.documentElement.dataset.gptviz = "ready";
