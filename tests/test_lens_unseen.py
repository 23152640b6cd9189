"""The logit lens over the tokens a model learned: the tokens that share one embedding row are left out
of its softmax and their mass kept apart; ties break the same way whatever k; the figure and the
explorer say so. And chapter 10's patching figure fits a notebook's width with readable labels."""

import pytest
import torch

from gptviz import viz
from gptviz.config import GPTConfig
from gptviz.interventions import learned_tokens
from gptviz.lens import lens_guesses, lens_logits, logit_lens, top_tokens, unseen_mask
from gptviz.model import GPT
from gptviz.tokenizer import EOT_ID
from gptviz.lens import masked_note

TEXT = "One day Lily and Tom went to the park."


def _model_with_shared_row(n_learned: int = 300):
    """A tiny random model whose tokens from ``n_learned`` up share one embedding row, as the bundled
    model's trainer leaves the tokens its corpus never uses (<|endoftext|> keeps its own row)."""
    model = GPT(GPTConfig(n_ctx=32, d_model=32, n_layer=2, n_head=2)).init_weights(seed=3)
    with torch.no_grad():
        shared = model.wte.weight[n_learned:].mean(0) * 4  # long: it beats every learned token somewhere
        model.wte.weight[n_learned:] = shared
        model.wte.weight[EOT_ID] = torch.randn(32) * 0.02
    return model


def test_the_mask_is_the_shared_row_and_the_lens_reads_the_rest():
    model = _model_with_shared_row()
    mask = unseen_mask(model)
    assert int(mask.sum()) == model.config.vocab_size - 300 - 1 and not mask[EOT_ID] and not mask[:300].any()
    assert torch.equal((~mask).nonzero().squeeze(1)[:-1], learned_tokens(model))
    ids = list(range(10, 30))
    tr = model.trace(ids)
    lens = logit_lens(model, tr, k=3)
    assert lens.n_masked == int(mask.sum())
    assert not mask[lens.ids.flatten()].any()  # no left-out token is ever a guess
    for r, name in enumerate(lens.rows):
        logits = lens_logits(model, tr[name])
        full = logits.softmax(-1)
        assert torch.allclose(lens.unseen[r], full[:, mask].sum(-1), atol=1e-6)
        kept = logits.masked_fill(mask, float("-inf")).softmax(-1)  # renormalised over the learned tokens
        assert torch.allclose(lens.probs[r], kept.topk(3).values, atol=1e-6)
    assert lens.unseen.max() > 0.5  # the shared row did take most of the mass somewhere: the mask matters


@pytest.mark.parametrize("which", ["shared row", "every token learned"])
def test_lens_guesses_are_the_lens_top_guesses(which, odd_model):
    """The fast count (only the readable rows of wte multiplied) gives the lens's own first guess."""
    model = _model_with_shared_row() if which == "shared row" else odd_model
    if which == "shared row":  # tokens 0-99 share the row too: a readable row's index is then not its id
        with torch.no_grad():
            model.wte.weight[:100] = model.wte.weight[1000]
    tr = model.trace(list(range(105, 125)))
    guesses = lens_guesses(model, tr)
    assert guesses.shape == (model.config.n_layer + 1, 20) and guesses.dtype == torch.long
    assert torch.equal(guesses, logit_lens(model, tr).ids[..., 0])


def test_a_model_that_learned_every_token_masks_none(odd_model):
    lens = logit_lens(odd_model, odd_model.trace(TEXT))
    assert lens.n_masked == 0 and lens.unseen.abs().max() == 0 and masked_note(lens) == ""


def test_ties_break_by_id_for_every_k():
    probs = torch.tensor([[0.1, 0.2, 0.2, 0.2, 0.3], [0.25, 0.25, 0.25, 0.25, 0.0]])
    v1, i1 = top_tokens(probs, 1)
    v4, i4 = top_tokens(probs, 4)
    assert i1.tolist() == [[4], [0]] and i4.tolist() == [[4, 1, 2, 3], [0, 1, 2, 3]]
    assert torch.equal(i4[:, :1], i1) and torch.equal(v4[:, :1], v1)


def test_the_table_and_the_explorer_show_the_same_guess_and_name_the_mask():
    from gptviz.widgets import LogitLensExplorer

    model = _model_with_shared_row()
    text = model.tokenizer.decode(list(range(40, 60)))
    explorer = LogitLensExplorer(model, text)
    figure_lens = logit_lens(model, model.trace(text), k=1)
    assert torch.equal(explorer.lens.ids[..., 0], figure_lens.ids[..., 0])
    note = masked_note(figure_lens)
    assert f"{figure_lens.n_masked:,}" in note and note in explorer.grid.value
    fig = viz.lens_table(figure_lens)
    assert any(note in t.get_text() for legend in fig.legends for t in [legend.get_title()])


@pytest.mark.parametrize("T", [12, 33, 40])
def test_the_patching_heatmap_fits_a_notebook_with_labels_of_8_points(T):
    scores = torch.randn(4, T) * 0.3
    fig = viz.patch_heatmap(scores, [f"t{i}" for i in range(T)])
    assert fig.get_size_inches()[0] <= 8.0
    sizes = [label.get_fontsize() for ax in fig.axes for label in ax.get_xticklabels() + ax.get_yticklabels()
             if label.get_text() and ax.get_label() != "<colorbar>"]
    assert sizes and min(sizes) >= 8
