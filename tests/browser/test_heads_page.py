"""The all-heads page in Chromium, opened from disk: it fetches nothing, switches layer and head,
shows the query token, key token and weight of the cell under the mouse, follows a clicked token,
and shows every token string as the characters themselves (none runs as markup)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gptviz.export import export_heads

from .harness import SCREENSHOTS

pytestmark = pytest.mark.browser

TEXT = "<script>alert(1)</script> \"quoted\" & 'single' <img src=x onerror=alert(2)> The robot picked up the ball."


@pytest.fixture(scope="module")
def trace(odd_model):
    return odd_model.trace(TEXT, names=["blocks.*.attn.pattern"])


@pytest.fixture(scope="module")
def page(chromium, trace, tmp_path_factory):
    """The page opened from a file, with every request and dialog it makes recorded."""
    path = export_heads(trace, tmp_path_factory.mktemp("heads") / "heads.html")[0]
    tab = chromium.new_page(viewport={"width": 1280, "height": 900})
    tab.requests, tab.dialogs, tab.errors = [], [], []
    tab.on("request", lambda r: tab.requests.append(r.url))
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    tab.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))
    tab.goto(path.as_uri())
    tab.wait_for_function("document.body.dataset.overview === 'done'", timeout=60_000)
    tab.file = path.as_uri()
    yield tab
    tab.screenshot(path=str(SCREENSHOTS / "heads-page.png"), full_page=True)
    tab.close()


def show(page, layer: int, head: int) -> None:
    page.select_option("#layer", str(layer))
    page.select_option("#head", str(head))
    page.wait_for_function(f"document.body.dataset.shown === '{layer},{head}'", timeout=10_000)


def hover_cell(page, trace, query: int, key: int) -> str:
    """Move the mouse to the centre of cell (query, key); the tooltip's text."""
    box = page.locator("#heatmap").bounding_box()
    T = trace.n_tokens
    page.mouse.move(box["x"] + (key + 0.5) * box["width"] / T, box["y"] + (query + 0.5) * box["height"] / T)
    page.locator("#tooltip").wait_for(state="visible", timeout=5_000)
    return page.locator("#tooltip").inner_text()


def test_nothing_is_fetched_and_nothing_runs(page, trace):
    assert [url for url in page.requests if url != page.file] == []
    assert page.dialogs == [] and page.errors == []
    chips = page.locator("#tokens .token").all_inner_texts()
    assert chips == trace.tokens  # every token shown as its characters
    assert page.locator("#tokens img, #follow img, #tooltip img").count() == 0


def test_switch_layer_and_head_then_hover_a_cell(page, trace):
    show(page, 2, 5)
    assert page.locator("#status").inner_text() == "Layer 2, head 5"
    pattern = trace["blocks.2.attn.pattern"][5].numpy()
    query, key = trace.n_tokens - 1, int(pattern[-1].argmax())
    tip = hover_cell(page, trace, query, key)
    lines = tip.splitlines()
    assert lines[0] == f"query {query} {trace.tokens[query]}"
    assert lines[1] == f"key {key} {trace.tokens[key]}"
    weight = float(re.fullmatch(r"weight (\d\.\d{3})", lines[2]).group(1))
    assert abs(weight - pattern[query, key]) <= 1 / 510 + 5e-4
    assert "masked" in hover_cell(page, trace, 3, 7)  # a later key: the causal mask
    show(page, 0, 1)  # the cell now reads another head's weight
    tip = hover_cell(page, trace, query, key).splitlines()[2]
    expected = trace["blocks.0.attn.pattern"][1, query, key].item()
    assert tip == "weight < 0.002" if expected < 1 / 510 else abs(float(tip.split()[1]) - expected) <= 0.0025


def test_click_a_token_to_follow_what_it_attends_to(page, trace):
    show(page, 1, 3)
    pattern = trace["blocks.1.attn.pattern"][3].numpy()
    chain = []
    position = 20
    for _ in range(3):  # click a token, then the token it attends to most, and so on
        page.locator("#tokens .token").nth(position).click()
        page.wait_for_function(f"document.body.dataset.query === '{position}'", timeout=5_000)
        heading = page.locator("#follow h2").inner_text()
        assert heading == f"Query {position} {trace.tokens[position]} attends most to:"
        top = page.locator("#follow tr").first.locator("td").all_inner_texts()
        strongest = int(np.argmax(np.rint(pattern[position, : position + 1] * 255)))  # first of any tie
        assert int(top[0]) == strongest and top[1] == trace.tokens[strongest]
        assert abs(float(top[2]) - pattern[position, strongest]) <= 1 / 510 + 5e-4
        chosen = page.locator("#tokens .token").nth(position)
        assert "query" in chosen.get_attribute("class")
        assert "unseen" in page.locator("#tokens .token").nth(position + 1).get_attribute("class")
        chain.append(position)
        page.locator("#follow tr").first.locator("button").click()  # follow the strongest key
        position = strongest
        page.wait_for_function(f"document.body.dataset.query === '{position}'", timeout=5_000)
    assert chain[0] == 20 and len(chain) == 3


def test_a_thumbnail_shows_its_head(page):
    page.locator('#overview canvas[data-layer="2"][data-head="0"]').click()
    page.wait_for_function("document.body.dataset.shown === '2,0'", timeout=5_000)
    assert page.locator("#layer").input_value() == "2" and page.locator("#head").input_value() == "0"
    assert page.locator("#overview canvas.shown").count() == 1
