"""The course as a website, in Chromium: the page's tokenizer, forward pass and sampling agree with gptviz
(the tokenizer, PyTorch's trace, gptviz.distribution), a seed gives the same sample on every page load,
token text reaches the page escaped, and no page requests anything outside the site's origin.

The site is built once for the module (tools/build_site.py, ~10 s) and served from a thread on 127.0.0.1.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from gptviz.sampling import distribution
from gptviz.trace import trace
from tools import build_site  # python -m pytest puts the repository on sys.path

pytestmark = pytest.mark.browser

LOAD_S = 60_000  # ms: the page's model (14.5 MB) to load and its explorers to mount, on a busy machine
TEXTS = [
    "Hello world", "Once upon a time, there was a girl named Mia.", "Tokenization isn't magic: GPT-2 reads bytes.",
    "  leading spaces\tand tabs\n\nand newlines  ", "I'm sure they'll say it's what we'd've done", "1234567890 3.14159 1e-9",
    "Привет, как дела? Всё хорошо.", "東京は日本の首都です。", "مرحبا بالعالم", "नमस्ते दुनिया", "γειά σου κόσμε",
    "한국어 텍스트", "emoji 😀🎉👩‍👩‍👧 and flags 🇫🇷🇯🇵", "naïve café résumé façade", "a\u0301 combining, zero\u200bwidth",
    "<img src=x onerror=alert(1)> & \"quotes\" 'single'", "def f(x):\n    return x ** 2  # code", "!!!???...,,,;;;",
    "https://example.com/path?q=1&r=2", "ALL CAPS SHOUTING AND lower case", "\u00a0non-breaking\u3000ideographic space",
    "The Eiffel Tower is in the city of Paris. The Colosseum is in",
]
SETTINGS = [dict(temperature=1.0), dict(temperature=0.7, top_k=40), dict(temperature=1.3, top_p=0.9),
            dict(temperature=0.5, top_k=5, top_p=0.5), dict(temperature=0.0), dict(temperature=2.0, top_k=1000, top_p=0.99)]


def fuzzed(n: int = 2000, seed: int = 24) -> list[str]:
    """``n`` random strings over ASCII, Latin, Cyrillic, CJK, Arabic, Devanagari, emoji, combining marks,
    whitespace, apostrophes and digits (a fixed seed: the same strings on every run)."""
    rnd = random.Random(seed)
    pools = [" ", "\n", "\t", "'", "'s", "'ll", "0123456789", "abcXYZ", "éüßñ", "абвгд", "中文字", "العربية",
             "हिन्दी", "😀🎉👍", "\u0301\u0308", "!?.,;:-_()[]{}<>&\"", "\u00a0\u3000", "\u200d"]
    out = []
    for _ in range(n):
        parts = [rnd.choice(rnd.choice(pools)) * rnd.choice((1, 1, 1, 2, 3)) for _ in range(rnd.randint(1, 24))]
        out.append("".join(parts))
    return out


@pytest.fixture(scope="module")
def site_url(chromium, tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    build_site.build(out)
    with build_site.serve(out) as url:
        yield url


@pytest.fixture(scope="module")
def page(chromium, site_url):
    """One page of the site with its model loaded (the welcome chapter: no explorer to mount)."""
    pg = chromium.new_page()
    pg.goto(site_url + "00-welcome.html")
    pg.evaluate("gptviz.load().then(() => true)")
    yield pg
    pg.close()


@pytest.fixture(scope="module")
def model(expected_model):
    return expected_model


def test_ids_equal_gptviz_tokenizer(page, model):
    texts = TEXTS + ["Once upon a time " * 60] + fuzzed()
    got = page.evaluate("texts => gptviz.encode(texts)", texts)
    want = [model.tokenizer.encode(t) for t in texts]
    bad = [(t, g, w) for t, g, w in zip(texts, got, want) if g != w]
    assert not bad, f"{len(bad)} of {len(texts)} texts tokenize differently, e.g. {bad[:3]}"


def test_endoftext_gate(page, model):
    got = page.evaluate("gptviz.encode(['a<|endoftext|>b'])")
    assert "<|endoftext|>" in got[0]["error"] and "allow" in got[0]["error"]
    allowed = page.evaluate("gptviz.encode(['a<|endoftext|>b'], {allowSpecial: true})")
    assert allowed[0] == model.tokenizer.encode("a<|endoftext|>b", allow_special=True)


@pytest.mark.parametrize("text", TEXTS + ["context-long"])
def test_logits_and_patterns_equal_pytorch(page, model, text):
    if text == "context-long":  # exactly the model's context
        ids = model.tokenizer.encode("Tom had a little dog named Rex. One day, " * 40)[: model.config.n_ctx]
        text = model.tokenizer.decode(ids)
        assert model.tokenizer.encode(text) == ids
    got = page.evaluate("text => gptviz.run(text)", text)
    tr = trace(model, text, names=["logits", "blocks.*.attn.pattern"])
    assert got["ids"] == tr.ids
    np.testing.assert_allclose(got["logits"], tr["logits"][-1].numpy(), atol=1e-3, rtol=0)
    T = len(tr.ids)
    for layer in range(model.config.n_layer):
        want = tr[f"blocks.{layer}.attn.pattern"].numpy().reshape(model.config.n_head, T * T)
        np.testing.assert_allclose(np.array(got["patterns"][layer]), want, atol=1e-4, rtol=0,
                                   err_msg=f"layer {layer} of {text!r}")


def test_distribution_equals_gptviz(page, model):
    logits = trace(model, TEXTS[1], names=["logits"])["logits"][-1]
    for s in SETTINGS:
        js = {"temperature": s["temperature"], "topK": s.get("top_k"), "topP": s.get("top_p")}
        got = np.array(page.evaluate("([l, s]) => gptviz.distribution(l, s)", [logits.tolist(), js]))
        want = distribution(logits, **s).probs.numpy()
        np.testing.assert_allclose(got, want, atol=1e-6, rtol=0, err_msg=str(s))
        assert np.count_nonzero(got) == np.count_nonzero(want), s
    ties = torch.zeros(model.config.vocab_size)
    ties[:7] = 3.0  # top-k keeps every score tied with the k-th; top-p splits exact ties by id
    for s in (dict(top_k=3), dict(top_p=0.5)):
        js = {"temperature": 1, "topK": s.get("top_k"), "topP": s.get("top_p")}
        got = np.array(page.evaluate("([l, s]) => gptviz.distribution(l, s)", [ties.tolist(), js]))
        np.testing.assert_allclose(got, distribution(ties, **s).probs.numpy(), atol=1e-6, rtol=0, err_msg=str(s))


def draw_in_explorer(chromium, site_url, seed: str) -> tuple[str, str]:
    pg = chromium.new_page()
    try:
        pg.goto(site_url + "06-output-sampling.html")
        pg.wait_for_selector("html[data-gptviz=ready]", timeout=LOAD_S)
        pg.fill(".gx-seed", seed)
        pg.click(".gx-sample")
        one = pg.inner_text(".gx-drawn")
        pg.click(".gx-sample100")
        return one, pg.inner_text(".gx-drawn")
    finally:
        pg.close()


def test_same_seed_same_sample_in_two_page_loads(chromium, site_url):
    first, second = draw_in_explorer(chromium, site_url, "1234"), draw_in_explorer(chromium, site_url, "1234")
    assert first == second and first[0].startswith("drew ") and "100 draws" in first[1]
    assert draw_in_explorer(chromium, site_url, "99")[1] != first[1], "another seed should draw other tokens"


HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


@pytest.mark.parametrize("chapter", ["01-tokens", "03-attention", "05-layer-stack", "06-output-sampling", "07-generation"])
def test_token_text_is_escaped(chromium, site_url, chapter):
    pg = chromium.new_page()
    try:
        pg.goto(site_url + chapter + ".html")
        pg.wait_for_selector("html[data-gptviz=ready]", timeout=LOAD_S)
        before = pg.locator(".gptviz-live").inner_text()
        pg.fill(".gx-text", HOSTILE)
        pg.wait_for_function("t => document.querySelector('.gptviz-live').innerText !== t", arg=before, timeout=LOAD_S)
        if chapter == "07-generation":
            pg.click(".gx-step")
        live = pg.locator(".gptviz-live")
        assert live.locator("img, script").count() == 0
        assert pg.evaluate("window.__pwned") is None
        if chapter != "06-output-sampling":  # that one shows the next token's candidates, not the text's tokens
            shown = live.inner_text()
            assert "img" in shown or "script" in shown, "the hostile text's tokens should show as text"
    finally:
        pg.close()


def test_explorers_respond_and_no_request_leaves_the_origin(chromium, site_url):
    pg = chromium.new_page()
    requests = []
    pg.on("request", lambda r: requests.append(r.url))
    try:
        for ch in build_site.chapters():
            pg.goto(site_url + ch.file)
            pg.wait_for_selector("html[data-gptviz=ready]", timeout=LOAD_S)
        pg.fill("#site-search", "logit lens")
        pg.wait_for_selector("#site-search-results a", timeout=10_000)
        pg.goto(site_url + "03-attention.html")
        pg.wait_for_selector("html[data-gptviz=ready]", timeout=LOAD_S)
        pg.locator(".gx-row .gx-tok").nth(3).click()
        assert "gx-query" in pg.locator(".gx-row .gx-tok").nth(3).get_attribute("class")
        before = pg.locator(".gx-row").inner_html()
        pg.locator(".gx-layer").fill("2")
        assert pg.locator(".gx-row").inner_html() != before, "moving the layer slider must redraw the weights"
        pg.locator(".gx-matrix").hover(position={"x": 5, "y": 350})
        assert "position 0" in pg.inner_text(".gx-readout")
        pg.goto(site_url + "07-generation.html")
        pg.wait_for_selector("html[data-gptviz=ready]", timeout=LOAD_S)
        start = pg.inner_text(".gx-cache")
        pg.click(".gx-step")
        pg.click(".gx-step")
        grown = pg.inner_text(".gx-cache")
        pg.click(".gx-back")
        assert "2 generated" in grown and "1 generated" in pg.inner_text(".gx-cache") and start != grown
    finally:
        pg.close()
    outside = [u for u in requests if not (u.startswith(site_url) or u.startswith("data:"))]
    assert requests and not outside, f"requests outside {site_url}: {outside[:5]}"
