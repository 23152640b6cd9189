"""Exports: PNG at the requested size, SVG that parses, PDF, and HTML that is offline and escaped;
every head into a folder, by a fast path that draws the same pixels as the ordinary one."""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

import gptviz
from gptviz import viz
from gptviz.export import chromium_found, export, export_heads

from browser.harness import INSTALL_HINT, without_browser

INJECTION = "<script>alert(1)</script> \"><img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def trace(odd_model):
    return odd_model.trace(INJECTION)


def test_png_svg_pdf(trace, tmp_path):
    fig = viz.head_heatmap(trace, 0, 0)
    size = tuple(fig.get_size_inches())
    assert Image.open(export(fig, tmp_path / "head.png", width=640, height=480)).size == (640, 480)
    assert tuple(fig.get_size_inches()) == size  # the figure itself is left as it was
    assert Image.open(export(fig, tmp_path / "half.png", dpi=50)).size == tuple(int(50 * s) for s in size)
    assert Image.open(export(fig, tmp_path / "wide.png", width=333)).size[0] == 333
    assert ET.parse(export(fig, tmp_path / "head.svg")).getroot().tag.endswith("svg")
    assert export(fig, tmp_path / "head.pdf").read_bytes().startswith(b"%PDF")
    laid_out = viz.residual_norms(trace)  # laid out by matplotlib's constrained layout, then resized
    assert Image.open(export(laid_out, tmp_path / "resid.png", width=500, height=300)).size == (500, 300)


@pytest.mark.parametrize("make", [
    lambda t: viz.head_heatmap(t, 0, 0),
    lambda t: viz.token_strip(t),
    lambda t: viz.attention_heatmap_interactive(t["blocks.0.attn.pattern"][0], t.tokens),
    lambda t: viz.attention_lines_interactive(t["blocks.0.attn.pattern"][0], t.tokens),
])
def test_html_is_offline_and_escaped(trace, tmp_path, make):
    page = export(make(trace), tmp_path / "view.html").read_text()
    assert page.lower().startswith("<!doctype html>")
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?(https?:)?//", page)
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page


def test_matplotlib_html_is_inline_svg_without_scripts(trace, tmp_path):
    page = export(viz.head_heatmap(trace, 1, 2), tmp_path / "head.html").read_text()
    assert "<svg" in page and "<script" not in page
    assert "<title>Layer 1, head 2: attention coefficients</title>" in page


def test_unknown_format_or_object_is_a_clear_error(trace, tmp_path):
    with pytest.raises(gptviz.InputError, match="unknown format '.bmp'"):
        export(viz.head_heatmap(trace, 0, 0), tmp_path / "head.bmp")
    with pytest.raises(gptviz.InputError, match="matplotlib or plotly figure"):
        export(trace, tmp_path / "trace.png")
    with pytest.raises(gptviz.InputError, match="unknown format"):
        export_heads(trace, tmp_path / "heads", fmt="gif")


def test_every_head_into_a_folder(trace, odd_model, tmp_path):
    paths = export_heads(trace, tmp_path / "heads")
    cfg = odd_model.config
    assert [p.name for p in paths[:2]] == ["layer0_head0.png", "layer0_head1.png"]
    assert len(paths) == cfg.n_layer * cfg.n_head
    assert all(Image.open(p).format == "PNG" for p in paths)
    # The fast path repaints cells, frame and title on a shared background: exactly the pixels
    # of exporting that head's own figure.
    fast = np.asarray(Image.open(tmp_path / "heads" / "layer2_head4.png"))
    slow = np.asarray(Image.open(export(viz.head_heatmap(trace, 2, 4), tmp_path / "one.png")))
    assert np.array_equal(fast, slow)
    svgs = export_heads(trace, tmp_path / "svg", layer=-1, fmt="svg")
    assert [p.name for p in svgs] == [f"layer2_head{h}.svg" for h in range(cfg.n_head)]


@pytest.mark.browser
def test_plotly_png_at_the_requested_size(trace, tmp_path):
    """Static export of a plotly figure through kaleido and Chromium, with nothing fetched."""
    if not chromium_found():
        without_browser(f"kaleido finds no Chromium: {INSTALL_HINT}")
    fig = viz.attention_heatmap_interactive(trace["blocks.0.attn.pattern"][0], trace.tokens)
    assert Image.open(export(fig, tmp_path / "head.png", width=500, height=400)).size == (500, 400)


@pytest.mark.parametrize("where", ["BROWSER_PATH names no file", "no Chromium anywhere"])
def test_plotly_png_without_chromium_is_a_clear_error_not_a_hang(trace, tmp_path, monkeypatch, where):
    """kaleido's server thread waits forever when it finds no browser; export must say what to do."""
    if where == "no Chromium anywhere":
        from choreographer.browsers.chromium import Chromium

        monkeypatch.setattr(Chromium, "find_browser", classmethod(lambda cls, **kw: None))
    else:
        monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium-here"))
    fig = viz.attention_heatmap_interactive(trace["blocks.0.attn.pattern"][0], trace.tokens)
    with pytest.raises(gptviz.GptvizError, match=r"needs Chromium.*apt-get install chromium.*\.html"):
        export(fig, tmp_path / "head.png")
    assert not (tmp_path / "head.png").exists()
