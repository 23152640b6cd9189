"""The all-heads page: one standalone file, nothing fetched, every token escaped, every visible weight
stored to 1/255 and read back exactly, small enough for GPT-2 small's 144 heads at 512 tokens; written
by export_heads and the command line for a .html name, while a folder keeps one PNG per head."""

from __future__ import annotations

import base64
import json
import re
import zlib

import numpy as np
import pytest
import torch

import gptviz
from gptviz.__main__ import main
from gptviz.export import export_heads
from gptviz.viz.heads_page import heads_page
from gptviz.viz.style import causal_mask

INJECTION = "<script>alert(1)</script> \"quoted\" & 'single' </script><img src=x onerror=alert(1)>"
DATA_BLOCK = re.compile(r'<script type="application/json" id="gptviz-heads-data">(.*?)</script>', re.DOTALL)


@pytest.fixture(scope="module")
def trace(odd_model):
    return odd_model.trace(INJECTION + " The robot picked up the red ball.", names=["blocks.*.attn.pattern"])


def page_data(page: str) -> dict:
    """The JSON block of a page (the only place its tokens and weights are)."""
    return json.loads(DATA_BLOCK.search(page).group(1))


def stored_levels(b64: str) -> np.ndarray:
    """One head's stored bytes: the 8-bit weights of the cells its queries can see, row by row."""
    return np.frombuffer(zlib.decompress(base64.b64decode(b64)), dtype=np.uint8)


def test_page_is_standalone_and_makes_no_request(trace, tmp_path):
    page = export_heads(trace, tmp_path / "heads.html")[0].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?[a-z]*:?//""", page, re.I)  # nothing loaded from anywhere
    assert not re.search(r"<link|<iframe|@import|url\(", page, re.I)
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts == [' type="application/json" id="gptviz-heads-data"', ""]  # the data, the inline script
    code = page.split("<script>")[1]
    for call in ("fetch(", "XMLHttpRequest", "import(", "WebSocket", "sendBeacon", "innerHTML", "eval("):
        assert call not in code


def test_tokens_are_escaped_and_survive_as_text(trace, tmp_path):
    page = export_heads(trace, tmp_path / "heads.html")[0].read_text(encoding="utf-8")
    assert page.count("</script>") == 2 and page.lower().count("<script") == 2  # no token opens or closes one
    assert "<img src=x" not in page and "alert(1)</" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the text, shown under the title
    data = page_data(page)
    assert data["tokens"] == trace.tokens  # the exact strings, for the script to show as text
    assert any("<" in t for t in trace.tokens) and any("&" in t for t in trace.tokens)


def test_every_visible_weight_is_stored_to_one_255th(trace, tmp_path, odd_model):
    data = page_data(export_heads(trace, tmp_path / "heads.html")[0].read_text(encoding="utf-8"))
    cfg, T = odd_model.config, trace.n_tokens
    assert (data["n_query"], data["n_key"], data["n_head"], data["layers"]) == (T, T, cfg.n_head, [0, 1, 2])
    visible = ~causal_mask(T, T)
    for layer in range(cfg.n_layer):
        patterns = trace[f"blocks.{layer}.attn.pattern"].numpy()
        for head in range(cfg.n_head):
            q = stored_levels(data["heads"][layer][head])
            assert q.size == T * (T + 1) // 2  # the lower triangle only
            back = np.zeros((T, T))
            back[visible] = q / 255.0
            assert np.abs(back - patterns[head]).max() <= 1 / 510 + 1e-6
            np.testing.assert_allclose(back.sum(1), 1.0, atol=T / 510)


def test_queries_after_a_cache_see_the_keys_before_them():
    """A step that continues a KV cache has fewer queries than keys: query i sees keys 0 .. T_key - T_query + i."""
    pattern = torch.softmax(torch.randn(1, 1, 2, 5).masked_fill(torch.from_numpy(causal_mask(2, 5)), -1e9), -1)
    data = page_data(heads_page(pattern, [f"t{j}" for j in range(5)]))
    q = stored_levels(data["heads"][0][0])
    assert q.size == 4 + 5
    np.testing.assert_array_equal(q, np.rint(pattern.numpy()[0, 0][~causal_mask(2, 5)] * 255))


def test_gpt2_small_at_512_tokens_stays_under_10_mb():
    """The size of 144 heads at 512 tokens, projected from 8 heads of softmaxed Gaussian scores (the
    hardest case to compress that was found; the benchmark builds the full page)."""
    torch.manual_seed(0)
    T = 512
    scores = torch.randn(2, 4, T, T).masked_fill(torch.from_numpy(causal_mask(T, T)), float("-inf"))
    data = page_data(heads_page(scores.softmax(-1), [f"t{j}" for j in range(T)]))
    per_head = np.mean([len(b) for layer in data["heads"] for b in layer])
    assert 144 * per_head < 9e6, f"{144 * per_head / 1e6:.1f} MB for 144 heads"


def test_bad_inputs_name_the_shapes():
    with pytest.raises(gptviz.InputError, match=r"\[n_layers, n_heads, T_query, T_key\].*\[4, 4\]"):
        heads_page(np.zeros((4, 4)), ["a"] * 4)
    with pytest.raises(gptviz.InputError, match="more queries than keys"):
        heads_page(np.zeros((1, 1, 3, 2)), ["a", "b"])
    with pytest.raises(gptviz.InputError, match="4 positions but 3 token labels"):
        heads_page(np.zeros((1, 1, 4, 4)), ["a"] * 3)
    with pytest.raises(gptviz.InputError, match="one layer number per entry"):
        heads_page(np.zeros((2, 1, 4, 4)), ["a"] * 4, layers=[0])


def test_export_heads_page_or_folder(trace, tmp_path, odd_model):
    [page] = export_heads(trace, tmp_path / "sub" / "Heads.HTML", layer=-1)
    data = page_data(page.read_text(encoding="utf-8"))
    assert data["layers"] == [2] and len(data["heads"]) == 1
    assert "Attention of layer 2, every head" in page.read_text(encoding="utf-8")
    folder = tmp_path / "named.html"
    folder.mkdir()  # an existing folder keeps the folder behaviour, whatever its name
    paths = export_heads(trace, folder, layer=0)
    assert [p.name for p in paths] == [f"layer0_head{h}.png" for h in range(odd_model.config.n_head)]


def test_command_line_writes_one_page(odd_checkpoint, tmp_path, capsys):
    out = tmp_path / "heads.html"
    args = ["attention", INJECTION, "--model", str(odd_checkpoint), "--all"]
    assert main([*args, "--out", str(out)]) == 0
    assert f"wrote {out} (" in capsys.readouterr().out
    assert len(page_data(out.read_text(encoding="utf-8"))["heads"]) == 3
    assert main([*args, "--format", "svg", "--out", str(tmp_path / "other.html")]) == 1
    assert "--format sets the file type of a folder" in capsys.readouterr().err
    assert not (tmp_path / "other.html").exists()
