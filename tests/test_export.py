"""Exports: PNG at the requested size, SVG that parses, PDF, and HTML that is offline and escaped."""

import re
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

import gptviz
from gptviz import viz
from gptviz.export import export, export_heads

INJECTION = "<script>alert(1)</script> \"><img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def trace(odd_model):
    return odd_model.trace(INJECTION)


def test_png_svg_pdf(trace, tmp_path):
    fig = viz.head_heatmap(trace, 0, 0)
    png = export(fig, tmp_path / "head.png", width=640, height=480)
    assert Image.open(png).size == (640, 480)
    ET.parse(export(fig, tmp_path / "head.svg"))
    assert export(fig, tmp_path / "head.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("make", [
    lambda t: viz.head_heatmap(t, 0, 0),
    lambda t: viz.attention_heatmap_interactive(t["blocks.0.attn.pattern"][0], t.tokens),
    lambda t: viz.attention_lines_interactive(t["blocks.0.attn.pattern"][0], t.tokens),
])
def test_html_is_offline_and_escaped(trace, tmp_path, make):
    page = export(make(trace), tmp_path / "view.html").read_text()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?https?://", page)
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page


def test_unknown_format_is_a_clear_error(trace, tmp_path):
    with pytest.raises(gptviz.InputError, match="unknown format"):
        export(viz.head_heatmap(trace, 0, 0), tmp_path / "head.bmp")


def test_every_head_into_a_folder(trace, odd_model, tmp_path):
    paths = export_heads(trace, tmp_path / "heads")
    cfg = odd_model.config
    assert len(paths) == cfg.n_layer * cfg.n_head
    assert all(Image.open(p).format == "PNG" for p in paths)
    assert len(export_heads(trace, tmp_path / "one", layer=1)) == cfg.n_head
