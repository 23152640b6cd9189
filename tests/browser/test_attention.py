"""The attention chapter in JupyterLab: another layer and another head redraw the heatmap with that
head's coefficients, and the export button writes a real PNG file."""

import base64
import io
import time
from pathlib import Path

import numpy as np
import pytest
from matplotlib import colormaps
from PIL import Image

from gptviz.viz.style import SEQUENTIAL

from .harness import Slider, chapter_with, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def nb(run_notebook):
    yield from chapter_with(run_notebook, "AttentionExplorer(")


@pytest.fixture(scope="module")
def explorer(nb):
    """The attention explorer, scrolled into view and drawn (the chapter has another explorer after it,
    and JupyterLab renders cells far from the viewport lazily)."""
    found = nb.explorer("gptviz-heatmap")
    found.scroll_into_view_if_needed()
    for name in ("layer", "head"):
        wait_until(lambda: found.locator(f".widget-slider.gptviz-{name} .widget-readout").first.inner_text().strip(),
                   f"the {name} slider's readout")
    return found


@pytest.fixture(scope="module")
def trace(explorer, expected_model):
    """The explorer's text traced in this process: the coefficients the heatmap must show."""
    text = explorer.locator(".gptviz-text textarea").input_value()
    return expected_model.trace(text, names=["blocks.*.attn.pattern"])


def heatmap(explorer) -> tuple[str, np.ndarray]:
    """The heatmap ``<img>``'s address and its pixels ``[T, T, 3]`` (one per coefficient)."""
    src = explorer.locator(".gptviz-heatmap img").first.get_attribute("src")
    assert src.startswith("data:image/png;base64,"), src[:80]
    return src, np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"))


def coefficients_read_back(pixels: np.ndarray) -> np.ndarray:
    """Each pixel's position on the colour map, 0 to 1 ``[T, T]``; NaN above the diagonal (masked),
    where every pixel must be the same grey."""
    lut = colormaps[SEQUENTIAL](np.linspace(0, 1, 256))[:, :3] * 255  # [256, 3]
    distance = ((pixels[:, :, None, :].astype(float) - lut) ** 2).sum(-1)  # [T, T, 256]
    values = distance.argmin(-1) / 255.0
    upper = np.triu(np.ones(pixels.shape[:2], dtype=bool), 1)
    assert len(np.unique(pixels[upper], axis=0)) <= 1, "masked cells are not one colour"
    values[upper] = np.nan
    return values


def shows_head(explorer, trace, layer: int, head: int):
    """The heatmap's address once the sliders read ``layer``, ``head`` and the picture is that
    head's pattern (each coefficient within one colour level); else None."""
    if (Slider(explorer, "gptviz-layer").value, Slider(explorer, "gptviz-head").value) != (layer, head):
        return None
    src, pixels = heatmap(explorer)
    pattern = trace[f"blocks.{layer}.attn.pattern"][head].numpy()  # [T, T]
    if pixels.shape[:2] != pattern.shape:
        return None
    lower = np.tril(np.ones(pattern.shape, dtype=bool))
    ok = np.abs(coefficients_read_back(pixels)[lower] - pattern[lower]).max() <= 1.5 / 255
    return src if ok and f"Layer {layer}, head {head}" in explorer.locator(".gptviz-title").inner_text() else None


def test_chapter_runs_clean(nb):
    nb.assert_clean()


def test_layer_and_head_redraw_the_heatmap(explorer, trace):
    layer, head = Slider(explorer, "gptviz-layer"), Slider(explorer, "gptviz-head")
    l0, h0 = int(layer.value), int(head.value)
    n_layer, n_head = trace.config.n_layer, trace.config.n_head
    first = wait_until(lambda: shows_head(explorer, trace, l0, h0), f"layer {l0}, head {h0} drawn")
    l1 = (l0 + 1) % n_layer
    layer.press("ArrowRight" if l1 > l0 else "Home")
    second = wait_until(lambda: shows_head(explorer, trace, l1, h0), f"layer {l1}, head {h0} drawn")
    h1 = (h0 + 1) % n_head
    head.press("ArrowRight" if h1 > h0 else "Home")
    third = wait_until(lambda: shows_head(explorer, trace, l1, h1), f"layer {l1}, head {h1} drawn")
    assert len({first, second, third}) == 3, "a new layer or head left the picture as it was"


def test_export_writes_a_png(nb, explorer):
    start = time.time()
    explorer.locator("button.gptviz-export").click()
    said = wait_until(lambda: (t := explorer.locator(".gptviz-export-path").inner_text()).startswith("Saved") and t,
                      "the export label to name the file written")
    path = Path(said.removeprefix("Saved").strip())
    layer, head = (int(Slider(explorer, f"gptviz-{c}").value) for c in ("layer", "head"))
    assert path.name == f"attention-layer{layer}-head{head}-heatmap.png"
    assert path.is_relative_to(nb.path.parent), f"{path} is outside the notebook's folder copy"
    assert path.stat().st_mtime >= start - 1
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.verify()
    with Image.open(path) as image:
        assert min(image.size) >= 100
