"""The ablation explorer, driven as a notebook drives it: press toggles, count the forward passes from
outside (hooks on the model's blocks), and check every number it shows against ablate()."""

from __future__ import annotations

import re

import pytest
import torch

from gptviz.interventions import ablate, position_losses
from gptviz.widgets import AblationExplorer
from gptviz.widgets._render import prob

TEXT = "One day Lily and Tom went to the park. Lily gave the ball to"


def numbers(html: str) -> list[float]:
    return [float(x) for x in re.findall(r'class="gptviz-number">([^<]+)<', html)]


def assert_matches_ablate(ex, model, text=TEXT):
    """The explorer's "after" run is ablate()'s on the same heads, MLPs and how."""
    heads, mlps = ex.switched_off()
    ref = ablate(model, text, heads=heads, mlps=mlps, how=ex.how.value)
    assert set(ex.after.names()) >= {"logits", "blocks.0.attn.z", "blocks.0.mlp.out", "blocks.2.resid_post"}
    for name in ex.after.names():  # every recorded activation of the run it shows
        assert torch.allclose(ex.after[name], ref[name], atol=1e-5, rtol=0), name
    assert ex.loss_after == pytest.approx(float(position_losses(ref).mean()), abs=1e-5)
    assert torch.allclose(ex.after_probs, torch.softmax(ref["logits"][-1], -1), atol=1e-6)
    before, after = numbers(ex.loss.value)
    assert before == pytest.approx(ex.loss_before, abs=1e-4) and after == pytest.approx(ex.loss_after, abs=1e-4)


def test_a_toggle_runs_one_forward_pass_from_its_own_layer(odd_model, count_forward):
    runs = count_forward(odd_model)
    L = odd_model.config.n_layer
    ex = AblationExplorer(odd_model, TEXT)
    assert (runs.passes, runs.blocks) == (1, L)  # reading the text: the clean pass
    ex.heads[1][2].value = True
    assert (runs.passes, runs.blocks) == (2, L + (L - 1))  # one pass, blocks 1 .. L-1
    ex.heads[2][0].value = True
    assert (runs.passes, runs.blocks) == (3, 2 * L)  # one pass, only the last block
    ex.mlps[0].value = True
    assert (runs.passes, runs.blocks) == (4, 3 * L)  # layer 0 changed: every block
    ex.heads[2][0].value = False
    assert (runs.passes, runs.blocks) == (5, 3 * L + 1)
    ex.how.value = "mean"  # every switched-off layer changes: from the first of them
    assert (runs.passes, runs.blocks) == (6, 4 * L + 1)
    assert ex.n_forward == runs.passes  # the explorer's own count agrees
    ex.switch_all_on()  # back to the clean run, which is kept
    assert runs.passes == 6 and ex.after is ex.clean
    assert "no forward pass" in ex.timing.value
    ex.how.value = "zero"  # nothing is off: nothing to run
    assert runs.passes == 6


@pytest.mark.parametrize("how", ["zero", "mean"])
def test_every_number_shown_equals_ablate(odd_model, how):
    ex = AblationExplorer(odd_model, TEXT, how=how)
    assert ex.loss_after == ex.loss_before == pytest.approx(float(position_losses(ex.clean).mean()), abs=1e-6)
    for toggle in (ex.heads[1][3], ex.heads[0][5], ex.mlps[2], ex.heads[2][1]):
        toggle.value = True
        assert_matches_ablate(ex, odd_model)
    ex.heads[0][5].value = False  # a layer below others: the pass starts there, later layers still ablated
    assert_matches_ablate(ex, odd_model)
    assert ex.loss_after != ex.loss_before


def test_a_new_text_keeps_the_toggles(odd_model, count_forward):
    ex = AblationExplorer(odd_model, TEXT)
    ex.heads[1][0].value = True
    runs = count_forward(odd_model)
    ex.text.value = "The cat sat on the mat because it was warm."
    assert runs.passes == 2  # the clean pass and one ablated pass
    assert_matches_ablate(ex, odd_model, "The cat sat on the mat because it was warm.")


def test_what_it_shows(odd_model):
    ex = AblationExplorer(odd_model, TEXT)
    assert "nothing switched off" in ex.timing.value
    ex.heads[1][4].value = True
    assert ex.heads[1][4].button_style == "danger" and ex.heads[1][3].button_style == ""
    assert re.search(r"L1H4\. Last forward pass: blocks 1–2 and the unembedding, \d+\.\d ms", ex.timing.value)
    tok = odd_model.tokenizer
    top_before, top_after = int(ex.probs_before.argmax()), int(ex.after_probs.argmax())
    for i, p in ((top_before, ex.probs_before), (top_after, ex.after_probs)):
        label = tok.token_str(i).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert label in ex.next_token.value and f">{prob(p[i])}<" in ex.next_token.value
    cfg = odd_model.config
    assert len(ex.toggles.children) == (cfg.n_layer + 1) * (cfg.n_head + 2)  # labels, heads and an MLP per layer


def test_export_writes_what_it_shows_without_running_the_model(odd_model, tmp_path, count_forward):
    ex = AblationExplorer(odd_model, TEXT, folder=str(tmp_path))
    ex.heads[2][2].value = True
    runs = count_forward(odd_model)
    for view in ex.export_bar.view.options:
        for fmt in ex.export_bar.format.options:
            ex.export_bar.view.value, ex.export_bar.format.value = view, fmt
            ex.export_bar.button.click()
            path = ex.export_bar.last_path
            assert path is not None and path.suffix == "." + fmt.lower() and path.stat().st_size > 0
            assert str(path) in ex.export_bar.where.value
    assert runs.passes == 0
    page = (tmp_path / "ablation-attribution.html").read_text()
    assert "(zero-ablated: L2H2)" in page


def test_bad_text_and_escaping(odd_model, count_forward):
    ex = AblationExplorer(odd_model, "<script>alert(1)</script> & <b>bold</b>")
    assert "<script>" not in ex.next_token.value and "<b>bold" not in ex.next_token.value
    runs = count_forward(odd_model)
    for bad in ("", "one <|endoftext|> two", " a" * 200):
        ex.text.value = bad
        assert "Text not applied" in ex.message.value and runs.passes == 0
    ex.heads[0][1].value = True  # the toggles still work on the previous text
    assert runs.passes == 1
    assert_matches_ablate(ex, odd_model, "<script>alert(1)</script> & <b>bold</b>")


def test_one_token_text_has_no_loss(odd_model):
    ex = AblationExplorer(odd_model, "Hello")
    ex.heads[0][0].value = True
    assert ex.loss_before is None and ex.loss_after is None
    assert "no next-token loss" in ex.loss.value
    assert torch.allclose(ex.after_probs, torch.softmax(ablate(odd_model, "Hello", [(0, 0)])["logits"][-1], -1),
                          atol=1e-6)
