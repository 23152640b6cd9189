"""The sampling chapter served as an app by Voila: the explorer renders, and a slider moved with the
keyboard changes the distribution to the one gptviz computes."""

import pytest

from .explorers import SamplingView
from .harness import (
    ERROR, RUN_ALL_S, SCREENSHOTS, STDERR, VIEWPORT, full_height_screenshot, notebook_holding, start_voila,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(chromium, served, state, kernel_env):
    """The Voila page of the sampling chapter, once its explorer shows a result."""
    name = notebook_holding("SamplingExplorer(")
    assert name, "no chapter displays a SamplingExplorer"
    server = start_voila(served / name, state, kernel_env)
    page = chromium.new_page(viewport=VIEWPORT)
    try:
        page.goto(server.with_token("/"), timeout=RUN_ALL_S * 1000)  # Voila runs the notebook first
        page.locator(".gptviz-top-prob .gptviz-number").wait_for(timeout=RUN_ALL_S * 1000)
        yield page
        full_height_screenshot(page, SCREENSHOTS / f"voila-{name.removesuffix('.ipynb')}.png")
    finally:
        page.close()
        server.stop()


def test_voila_shows_no_error(page):
    errors = [t for t in page.locator(f'[data-mime-type="{STDERR}"]').all_inner_texts() if ERROR.search(t)]
    assert not errors, errors[0]
    assert page.get_by_text("Error displaying widget").count() == 0
    assert page.locator(".jupyter-widgets-error-widget").count() == 0


def test_temperature_slider_in_voila(page, expected_model):
    view = SamplingView(page, expected_model)
    before = view.settled()
    view.temperature.press("ArrowRight", 6)  # 6 steps of 0.05
    after = view.settled(temperature=round(min(2.0, before.temperature + 0.3), 2))
    assert after.top_prob != before.top_prob
