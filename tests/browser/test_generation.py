"""The generation chapter in JupyterLab: three presses of "step" add three tokens, the ones gptviz's
own Stepper picks with the same settings, and the KV cache view grows by one row per step."""

import pytest

from gptviz.generation import Stepper

from .harness import Slider, chapter_with, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def nb(run_notebook):
    yield from chapter_with(run_notebook, "GenerationStepper(")


def cache_rows(stepper) -> tuple[int, int]:
    """(rows, rows the last forward pass computed) in the KV cache view."""
    return stepper.locator(".gptviz-kv-row").count(), stepper.locator(".gptviz-kv-new").count()


def new_tokens(stepper) -> list[str]:
    """The generated tokens, one highlighted ``<span>`` each after the prompt's text."""
    return stepper.locator(".gptviz-generated span").all_inner_texts()


def test_chapter_runs_clean(nb):
    nb.assert_clean()


def test_three_steps_add_three_tokens_and_three_cache_rows(nb, expected_model):
    stepper = nb.explorer("gptviz-kv-cache")
    prompt = stepper.locator(".gptviz-prompt textarea").input_value()
    temperature, top_k, top_p, seed = (
        Slider(stepper, f"gptviz-{c}").value for c in ("temperature", "topk", "topp", "seed"))
    reference = Stepper(expected_model, prompt, temperature, int(top_k) or None, top_p if top_p < 1 else None,
                        seed=int(seed))
    tokens, (rows, _) = new_tokens(stepper), cache_rows(stepper)
    assert tokens == [] and rows == reference.prompt_len, "the stepper should start at its prompt"
    for n in range(1, 4):
        stepper.locator("button.gptviz-step").click()
        wait_until(lambda: len(new_tokens(stepper)) == n and cache_rows(stepper) == (rows + n, 1),
                   f"step {n}: {n} new tokens and {rows + n} cache rows, the last one new")
        reference.step()
    expected = [expected_model.tokenizer.decode([i]) for i in reference.ids[reference.prompt_len:]]
    assert new_tokens(stepper) == expected
    assert f"{reference.prompt_len} prompt tokens + 3 new" in stepper.locator(".gptviz-status").inner_text()
