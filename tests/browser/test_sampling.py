"""The sampling chapter in JupyterLab and in Notebook 7: temperature and top-k moved with the keyboard
and with the mouse change the distribution shown, and what is shown is what gptviz computes for those
settings. The arrow keys still move the notebook's cursor when no widget has the focus.

Notebook 7 runs its keyboard shortcuts before the page sees a key; without the arrow-key settings that
pip installs with gptviz, ArrowLeft on a slider moved the cursor to the heading above, and pressed again
folded the section with the explorer in it (see jupyter-settings/ and tests/test_jupyter_settings.py)."""

import pytest

from .explorers import SamplingView
from .harness import chapter_with, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=["jupyterlab", "notebook"], ids=["jupyterlab", "notebook7"])
def nb(request, run_notebook):
    yield from chapter_with(run_notebook, "SamplingExplorer(", request.param)


@pytest.fixture(scope="module")
def view(nb, expected_model):
    return SamplingView(nb.explorer("gptviz-top-prob"), expected_model)


def test_chapter_runs_clean(nb):
    nb.assert_clean()


def test_first_display_is_gptvizs_distribution(view):
    view.settled()


def test_temperature_with_the_keyboard(view):
    before = view.settled()
    view.temperature.press("ArrowLeft", 10)  # 10 steps of 0.05
    lower = round(max(0.0, before.temperature - 0.5), 2)
    after = view.settled(temperature=lower)
    assert after.top_prob != before.top_prob
    view.temperature.press("ArrowRight", 10)
    back = view.settled(temperature=round(lower + 0.5, 2))
    assert back.top_prob == before.top_prob


def test_topk_with_the_keyboard(view):
    before = view.settled()
    view.top_k.press("ArrowRight", 3)
    after = view.settled(top_k=before.top_k + 3)
    assert after.n_kept != before.n_kept


@pytest.mark.parametrize("slider, fraction, low, high, result", [
    ("temperature", 0.8, 1.4, 1.8, "top_prob"),  # the slider runs 0 to 2
    ("top_k", 0.4, 30, 50, "n_kept"),  # 0 to 100
])
def test_slider_dragged(view, slider, fraction, low, high, result):
    before = view.settled()
    getattr(view, slider).drag_to(fraction)
    after = view.settled()
    assert low <= getattr(after, slider) <= high, after
    assert getattr(after, result) != getattr(before, result)


def test_arrow_keys_still_move_between_cells(nb):
    """Outside a widget the arrow keys keep their notebook meaning: the cursor moves between cells
    (ArrowLeft: to the heading above)."""
    explorer = nb.cell_holding("SamplingExplorer(")
    heading = explorer - 1  # "## Explore"
    nb.command_mode_on(heading)
    for key, expected in [("ArrowDown", explorer), ("ArrowLeft", heading), ("ArrowDown", explorer), ("ArrowUp", heading)]:
        nb.page.keyboard.press(key)
        wait_until(lambda: nb.active_cell() == expected, f"{key} to make cell {expected} the active cell")
