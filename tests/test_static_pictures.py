"""An explorer displays as the live widget and, beside it, a static HTML picture of what it shows,
for renderers with no kernel (GitHub, nbviewer, nbconvert): the picture follows the controls, holds
no script and no widget id, escapes every token, and keeps its pictures sharp through sanitisers."""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from IPython.core.formatters import DisplayFormatter
from PIL import Image

from gptviz.viz.style import SEQUENTIAL, causal_mask
from gptviz.widgets import (AblationExplorer, AttentionExplorer, EmbeddingExplorer, FeedForwardExplorer,
                            GenerationStepper, LogitLensExplorer, SamplingExplorer, TokenizerExplorer)
from gptviz.widgets._render import colourise

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TEXT = "The robot picked up the red ball because it was the only toy left."
INJECTION = "<script>alert(1)</script> \"quoted\" & 'single' \"><img src=x onerror=alert(1)>"
EXPLORERS = [TokenizerExplorer, EmbeddingExplorer, AttentionExplorer, FeedForwardExplorer, LogitLensExplorer,
             SamplingExplorer, GenerationStepper, AblationExplorer]


def static_html(explorer) -> str:
    """The ``text/html`` of the explorer's display bundle, as IPython computes it for a cell's output."""
    data, _ = DisplayFormatter().format(explorer)
    assert WIDGET_VIEW in data
    return data["text/html"]


def svg_images(html: str) -> list[str]:
    """The SVG documents of the ``data:image/svg+xml`` images in ``html``."""
    return [base64.b64decode(d).decode("utf-8") for d in re.findall(r'data:image/svg\+xml;base64,([^"]+)', html)]


def png_images(html: str) -> list[tuple[np.ndarray, int, int]]:
    """Each ``data:image/png`` image in ``html``: its pixels ``[H, W, 3]`` and its shown width, height."""
    found = re.findall(r'src="data:image/png;base64,([^"]+)" width="(\d+)" height="(\d+)"', html)
    return [(np.asarray(Image.open(io.BytesIO(base64.b64decode(d))).convert("RGB")), int(w), int(h))
            for d, w, h in found]


@pytest.mark.parametrize("cls", EXPLORERS, ids=lambda c: c.__name__)
def test_the_bundle_holds_the_widget_view_and_a_static_picture(odd_model, cls):
    ex = cls(odd_model)
    bundle = ex._repr_mimebundle_()
    assert bundle[WIDGET_VIEW]["model_id"] == ex.model_id  # the live widget, for JupyterLab and Notebook 7
    assert bundle["text/plain"].startswith(cls.__name__)
    html = bundle["text/html"]
    assert 'class="gptviz-static"' in html and "Run the notebook" in html
    assert "<script" not in html.lower() and ex.model_id not in html
    assert "<svg" not in html  # drawn as images, which sanitisers keep
    for svg in svg_images(html):
        assert ET.fromstring(svg).tag.endswith("svg")  # each one is a well-formed SVG document
    assert static_html(cls(odd_model)) == html  # the same state gives the same bytes: no ids, no randomness
    assert "text/html" not in ex._repr_mimebundle_(exclude=["text/html"])


def test_the_picture_is_the_explorers_current_view(odd_model):
    ex = AttentionExplorer(odd_model, TEXT)
    before = static_html(ex)
    assert "Layer 0, head 0" in before
    ex.layer.value, ex.head.value, ex.query.value = 2, 5, 3
    after = static_html(ex)
    assert after != before and "Layer 2, head 5" in after and "Layer 0, head 0" not in after
    assert re.search(r"query <b[^>]*>3: ", after)  # the controls' values, as text
    # The heatmap is that head's coefficients, each cell a block of pixels at the size shown.
    pattern = ex.trace["blocks.2.attn.pattern"][5].numpy()
    T = len(pattern)
    cells = colourise(pattern, SEQUENTIAL, 0.0, 1.0, causal_mask(T, T))
    heatmap, width, height = next(img for img in png_images(after) if img[1] == img[2] and img[1] % T == 0)
    assert heatmap.shape == (height, width, 3)
    step = width // T
    assert step > 1
    np.testing.assert_array_equal(heatmap[::step, ::step], cells)
    np.testing.assert_array_equal(heatmap, np.repeat(np.repeat(cells, step, 0), step, 1))


def test_the_picture_follows_sliders_and_steps(odd_model):
    ex = SamplingExplorer(odd_model, "Once upon a time")
    ex.controls.temperature.value = 0.5
    html = static_html(ex)
    assert re.search(r"temperature <b[^>]*>0\.50</b>", html)
    assert ex.entropy.value in html
    stepper = GenerationStepper(odd_model, "Once upon a time", seed=3)
    assert "Press step" in static_html(stepper)
    stepper.step()
    html = static_html(stepper)
    assert "Press step" not in html and f"Step at position {stepper.stepper.steps[-1].position}: chose" in html
    assert ">save<" not in static_html(AttentionExplorer(odd_model, TEXT))  # no export bar, no buttons


def test_the_ablation_grid_keeps_its_cells_and_shows_what_is_off(odd_model):
    ex = AblationExplorer(odd_model, TEXT)
    before = static_html(ex)
    assert "switch all on" not in before  # a button
    grid = re.search(r'<div style="display:grid;[^"]*grid-template-columns:auto repeat\(6, auto\) auto;', before)
    assert grid, "the toggles' grid: a label column, one column per head, the MLP"
    assert before.count("background:#555") == 0
    ex.heads[1][2].value = True
    after = static_html(ex)
    assert after.count("background:#555") == 1 and after != before  # the pressed toggle, and its result
    assert ex.next_token.value in after


@pytest.mark.parametrize("cls", [TokenizerExplorer, AttentionExplorer, SamplingExplorer, GenerationStepper],
                         ids=lambda c: c.__name__)
def test_token_strings_in_the_picture_are_escaped(odd_model, cls):
    html = static_html(cls(odd_model, INJECTION))
    assert "<script" not in html.lower() and "<img src=x" not in html and "alert(1)</" not in html
    assert "&lt;script&gt;" in html  # the text box and the tokens show the characters themselves
    for svg in svg_images(html):
        assert "<script" not in svg.lower()
        ET.fromstring(svg)


def test_saved_chapters_carry_each_explorers_picture():
    """What GitHub and nbviewer read: every explorer cell's stored output holds the static picture
    beside the widget view, and no notebook stores widget state (with it, nbconvert and nbviewer
    would draw the widget with scripts from a CDN instead; ``tools/build_notebooks.py`` keeps none)."""
    import nbformat

    from browser.harness import EXPLORER_CALL, NOTEBOOKS  # tests/ is on the path: pytest puts it there

    found = 0
    for path in sorted(NOTEBOOKS.glob("[0-9]*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert "widgets" not in nb.metadata, f"{path.name} stores widget state: rebuild it (tools/build_notebooks.py)"
        for cell in nb.cells:
            lines = cell.source.strip().splitlines() if cell.cell_type == "code" else []
            if lines and EXPLORER_CALL.match(lines[-1]):
                [result] = [o for o in cell.outputs if o.output_type == "execute_result"]
                assert WIDGET_VIEW in result.data and 'class="gptviz-static"' in result.data.get("text/html", ""), \
                    f"{path.name}: {lines[-1]} has no static picture: rebuild it with tools/build_notebooks.py"
                found += 1
    assert found >= len(EXPLORERS)
