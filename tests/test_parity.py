"""gptviz's GPT-2 against transformers' GPT2LMHeadModel on the same random weights."""

import pytest
import torch
from transformers import GPT2LMHeadModel

import gptviz

TEXT = "A robot must obey the orders given it. The robot, called 'R2', said: \"No!\" 🤖 — 東京 42"


@pytest.fixture(scope="module", params=["odd_checkpoint", "small_checkpoint"])
def pair(request):
    folder = request.getfixturevalue(request.param)
    ours = gptviz.load(folder, device="cpu")
    ref = GPT2LMHeadModel.from_pretrained(folder, attn_implementation="eager").eval()
    return ours, ref


def test_logits_attentions_and_hidden_states_match(pair):
    ours, ref = pair
    trace = ours.trace(TEXT)
    with torch.no_grad():
        out = ref(torch.tensor([trace.ids]), output_attentions=True, output_hidden_states=True)
    n_layer = ours.config.n_layer
    assert len(out.attentions) == n_layer and len(out.hidden_states) == n_layer + 1
    tol = 1e-4
    assert (out.logits[0] - trace["logits"]).abs().max() <= tol
    assert (out.hidden_states[0][0] - trace["embed.sum"]).abs().max() <= tol
    for i in range(n_layer):
        assert (out.attentions[i][0] - trace[f"blocks.{i}.attn.pattern"]).abs().max() <= tol, i
        # transformers' last hidden state is after ln_f; the others are residuals after each block
        ours_hidden = trace["ln_f"] if i == n_layer - 1 else trace[f"blocks.{i}.resid_post"]
        assert (out.hidden_states[i + 1][0] - ours_hidden).abs().max() <= tol, i


def test_untraced_forward_matches_batched(pair):
    ours, ref = pair
    ids = torch.randint(0, 50257, (2, 20), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert (ours(ids) - ref(ids).logits).abs().max() <= 1e-4
