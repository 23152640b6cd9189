"""Interventions against an independent reference: ablation equals transformers' GPT-2 with the head's
rows of c_proj zeroed; a sweep equals one patched forward pass per cell; attributions sum to the logit;
a previous-token head built by hand is found. Bad arguments get errors that name the fix."""

import math

import pytest
import torch

import gptviz
from gptviz.errors import ActivationNameError, GptvizError, InputError
from gptviz.interventions import (ablate, ablation_edits, induction_scores, logit_attribution, patch, patch_sweep,
                                  previous_token_scores, repeated_tokens)
from gptviz.interventions.patching import logit_diff_direction

CLEAN = "One day Lily and Tom went to the park. Lily gave the ball to"
CORRUPT = "One day Tom and Lily went to the park. Tom gave the ball to"


def hf_logits_with_heads_zeroed(checkpoint, ids, heads):
    from transformers import GPT2LMHeadModel

    hf = GPT2LMHeadModel.from_pretrained(checkpoint, attn_implementation="eager").eval()
    d = hf.config.n_embd // hf.config.n_head
    with torch.no_grad():
        for layer, head in heads:
            hf.transformer.h[layer].attn.c_proj.weight[head * d:(head + 1) * d] = 0  # Conv1D: [in, out]
        return hf(torch.tensor([ids])).logits[0]


@pytest.mark.parametrize("which, heads", [("odd", [(1, 2)]), ("odd", [(0, 0), (2, 5), (2, 1)]),
                                          ("small", [(5, 1), (11, 7)])])
def test_zero_ablation_equals_zeroing_the_heads_rows_of_c_proj(which, heads, request):
    checkpoint = request.getfixturevalue(f"{which}_checkpoint")
    model = request.getfixturevalue("odd_model") if which == "odd" else gptviz.load(checkpoint, device="cpu")
    ids = model.tokenizer.encode(CLEAN)
    expected = hf_logits_with_heads_zeroed(checkpoint, ids, heads)
    got = ablate(model, ids, heads=heads, names=["logits"])["logits"]
    assert (got - expected).abs().max() < 1e-4
    assert (model.trace(ids, names=["logits"])["logits"] - expected).abs().max() > 1e-3  # the ablation did something


def test_mean_ablation_replaces_a_head_by_its_mean_over_a_reference(odd_model):
    ref = "The cat sat on the mat and looked at the dog."
    tr = ablate(odd_model, CLEAN, heads=[(1, 3)], how="mean", reference=ref)
    mean = odd_model.trace(ref)["blocks.1.attn.z"][3].mean(0)  # [d_head]
    assert torch.allclose(tr["blocks.1.attn.z"][3], mean.expand_as(tr["blocks.1.attn.z"][3]), atol=1e-6)
    own = ablate(odd_model, CLEAN, heads=[(1, 3)], how="mean")  # default reference: the text itself
    assert torch.allclose(own["blocks.1.attn.z"][3][0], odd_model.trace(CLEAN)["blocks.1.attn.z"][3].mean(0), atol=1e-6)


def test_mlp_ablation_zeroes_its_output(odd_model):
    tr = ablate(odd_model, CLEAN, mlps=[2])
    assert (tr["blocks.2.mlp.out"] == 0).all()
    assert torch.allclose(tr["blocks.2.resid_post"], tr["blocks.2.resid_mid"])


def test_patch_pastes_clean_activations_at_the_positions_asked(odd_model):
    tr = patch(odd_model, CLEAN, CORRUPT, "blocks.1.resid_post", positions=[3, -1])
    clean, corrupt = odd_model.trace(CLEAN), odd_model.trace(CORRUPT)
    T = tr.n_tokens
    assert tr.ids == corrupt.ids
    for p in range(T):
        want = clean if p in (3, T - 1) else corrupt
        assert torch.equal(tr["blocks.1.resid_post"][p], want["blocks.1.resid_post"][p])
    assert torch.equal(tr["blocks.0.resid_post"], corrupt["blocks.0.resid_post"])  # upstream: corrupt
    everything = patch(odd_model, CLEAN, CORRUPT, "blocks.1.resid_post")
    assert torch.allclose(everything["logits"], clean["logits"], atol=1e-5)  # all positions: the clean run
    keys = patch(odd_model, CLEAN, CORRUPT, "blocks.0.attn.k", positions=[0])  # k and v: along the key axis
    assert torch.equal(keys["blocks.0.attn.k"][:, 0], clean["blocks.0.attn.k"][:, 0])


def _naive_sweep(model, what):
    """One full patched forward pass per cell, through patch()."""
    L, H = model.config.n_layer, model.config.n_head
    direction = logit_diff_direction(model, " Lily", " Tom")

    def diff(tr):
        return float(model.final_norm(tr[f"blocks.{L - 1}.resid_post"][-1:]) @ direction)

    clean = diff(model.trace(CLEAN))
    corrupt = diff(model.trace(CORRUPT))
    T = len(model.tokenizer.encode(CLEAN))
    out = torch.zeros(L, H if what == "heads" else T)
    for layer in range(L):
        for j in range(out.shape[1]):
            if what == "heads":
                def paste(z, j=j, src=model.trace(CLEAN)[f"blocks.{layer}.attn.z"]):
                    z = z.clone()
                    z[j] = src[j]
                    return z
                tr = model.trace(CORRUPT, edits={f"blocks.{layer}.attn.z": paste})
            else:
                name = {"resid": "resid_post", "attn": "attn.out", "mlp": "mlp.out"}[what]
                tr = patch(model, CLEAN, CORRUPT, f"blocks.{layer}.{name}", positions=[j])
            out[layer, j] = (diff(tr) - corrupt) / (clean - corrupt)
    return out


@pytest.mark.parametrize("what", ["resid", "attn", "mlp", "heads"])
def test_sweep_equals_one_patched_forward_per_cell(odd_model, what):
    with torch.inference_mode():
        fast = patch_sweep(odd_model, CLEAN, CORRUPT, " Lily", " Tom", what)
        slow = _naive_sweep(odd_model, what)
    L = odd_model.config.n_layer
    assert fast.shape == (L, odd_model.config.n_head if what == "heads" else len(odd_model.tokenizer.encode(CLEAN)))
    assert torch.allclose(fast, slow, atol=1e-4)


def test_sweep_identities(odd_model):
    scores = patch_sweep(odd_model, CLEAN, CORRUPT, " Lily", " Tom")
    assert scores[-1, -1] == pytest.approx(1.0, abs=1e-5)  # the last stream at the last position is the output
    clean, corrupt = (odd_model.tokenizer.encode("The cat sat. " + t) for t in (CLEAN, CORRUPT))
    first = next(i for i, (a, b) in enumerate(zip(clean, corrupt)) if a != b)
    shifted = patch_sweep(odd_model, clean, corrupt, " Lily", " Tom")
    assert first > 3 and shifted[:, :first].abs().max() < 1e-4  # nothing differs there: patching changes nothing
    assert shifted[:, first].abs().max() > 0.01


def test_attributions_sum_to_the_logit(odd_model):
    tr = odd_model.trace(CLEAN)
    for token in (" Lily", 262, " ball"):
        a = logit_attribution(odd_model, tr, token)
        assert len(a.values) == 2 + odd_model.config.n_layer * (odd_model.config.n_head + 1) + 1
        assert float(a.values.double().sum()) + a.bias == pytest.approx(a.logit, abs=1e-4)
    mid = logit_attribution(odd_model, tr, " Lily", position=4)
    lily = odd_model.tokenizer.encode(" Lily")[0]
    assert mid.position == 4 and mid.logit == pytest.approx(float(tr["logits"][4, lily]))


def _previous_token_model():
    """One layer whose head 0 is built by hand to attend to the previous position.

    Position p's embedding is (cos tp, sin tp, -cos tp, -sin tp) * A: zero mean and constant variance, so
    ln_1 only rescales it. The query rotates that angle back by one step and the key keeps it, so
    q_p . k_j is largest at j = p - 1."""
    cfg = gptviz.GPTConfig(n_layer=1, n_head=4, d_model=32, n_ctx=64)
    model = gptviz.GPT(cfg).init_weights()
    theta, gain = 0.1, 20.0
    with torch.no_grad():
        model.wte.weight.zero_()
        p = torch.arange(cfg.n_ctx, dtype=torch.float32) * theta
        model.wpe.weight.zero_()
        model.wpe.weight[:, :4] = torch.stack([p.cos(), p.sin(), -p.cos(), -p.sin()], 1)
        W = model.h[0].attn.c_attn.weight  # [3D, D]: rows are q, k, v outputs
        W.zero_()
        c, s = math.cos(theta), math.sin(theta)
        W[0, 0], W[0, 1], W[1, 0], W[1, 1] = gain * c, gain * s, -gain * s, gain * c  # q: rotate back by theta
        W[cfg.d_model, 0], W[cfg.d_model + 1, 1] = gain, gain  # k: the angle itself
    return model


def test_a_hand_built_previous_token_head_is_detected():
    model = _previous_token_model()
    tr = model.trace(list(range(100, 130)))
    scores = previous_token_scores(tr)
    assert scores[0, 0] > 0.9 and scores[0, 1:].max() < 0.3
    assert divmod(int(scores.argmax()), 4) == (0, 0)


def test_induction_scores_read_the_token_after_the_earlier_occurrence(odd_model):
    ids = repeated_tokens(odd_model, n=6, seed=3, tokens=range(1000, 1100))
    assert len(ids) == 13 and ids[1:7] == ids[7:]
    n, T = 6, 13

    def induction_pattern(p):  # every query of the second copy looks only at the token after its twin
        p = torch.zeros_like(p)
        p[:, :, 0] = 1
        for q in range(T - n, T):
            p[:, q] = 0
            p[:, q, q - n + 1] = 1
        return p

    tr = odd_model.trace(ids, allow_special=True, edits={"blocks.1.attn.pattern": induction_pattern})
    scores = induction_scores(tr, n)
    assert scores[1].min() == 1.0 and scores[0].max() < 1.0


BAD = [
    (lambda m: ablate(m, CLEAN, heads=[(3, 0)]), InputError, "so use 0 .. 2"),
    (lambda m: ablate(m, CLEAN, heads=[(0, 6)]), InputError, "6 heads, so use 0 .. 5"),
    (lambda m: ablate(m, CLEAN, heads=[0, 1]), InputError, "(layer, head) pairs"),
    (lambda m: ablate(m, CLEAN, heads=[(0, 1)], how="half"), InputError, "'zero' or 'mean'"),
    (lambda m: ablate(m, CLEAN, mlps=[7]), InputError, "3 layers, so use 0 .. 2"),
    (lambda m: patch(m, CLEAN, CORRUPT + " him", "blocks.0.resid_post"), InputError, "same number of tokens"),
    (lambda m: patch(m, CLEAN, CORRUPT, "blocks.0.resid_pots"), ActivationNameError, "matches no activation"),
    (lambda m: patch(m, CLEAN, CORRUPT, "blocks.0.resid_post", positions=[99]), InputError, "positions from 0 to"),
    (lambda m: patch_sweep(m, CLEAN, CORRUPT, " Lily", " Lily"), InputError, "same token"),
    (lambda m: patch_sweep(m, CLEAN, CORRUPT, " Lily Tom", " Tom"), InputError, "give one token"),
    (lambda m: patch_sweep(m, CLEAN, CORRUPT, " Lily", " Tom", what="neurons"), InputError, "what= must be"),
    (lambda m: patch_sweep(m, CLEAN, CLEAN, " Lily", " Tom"), InputError, "same logit difference"),
    (lambda m: logit_attribution(m, m.trace(CLEAN, names=["logits"]), " Lily"), InputError, "no names= filter"),
    (lambda m: logit_attribution(m, m.trace(CLEAN), " Lily", position=40), InputError, "position 40 is out of range"),
    (lambda m: repeated_tokens(m, n=100), InputError, "n must be an int from 1 to 63"),
    (lambda m: ablate(m, CLEAN, heads="0,1"), InputError, "list of (layer, head) pairs"),
    (lambda m: ablate(m, CLEAN, mlps=0.5), InputError, "list of layer indices"),
    (lambda m: ablation_edits(m, heads=[(0, 1)], how="mean"), InputError, "needs reference="),
    (lambda m: ablation_edits(m, heads=[(0, 1)], how="mean", reference=CLEAN), InputError, "must be a Trace"),
    (lambda m: ablation_edits(m, heads=[(0, 1)], how="mean", reference=m.trace(CLEAN, names=["logits"])),
     InputError, "does not hold blocks.0.attn.z"),
    (lambda m: ablate(m, CLEAN, heads=[(0, 1)], how="mean", reference=3.5), InputError, "a text or token ids"),
]


def test_heads_and_layers_are_read_as_the_views_read_them(odd_model):
    """-1 is the last layer or head and NumPy integers are integers, as in every view; the ablation is
    the same as with the plain indices."""
    import numpy as np
    from gptviz.checks import check_heads, check_layers
    cfg = odd_model.config
    assert check_heads(cfg, [(-1, -1), (np.int64(1), np.int32(2))]) == [(2, 5), (1, 2)]
    assert check_layers(cfg, np.int64(-1)) == [2]
    a = ablate(odd_model, CLEAN, heads=[(-1, 0)], mlps=[-1])
    b = ablate(odd_model, CLEAN, heads=[(2, 0)], mlps=[2])
    assert torch.equal(a["logits"], b["logits"])


@pytest.mark.parametrize("call, error, words", BAD)
def test_bad_arguments_name_the_fix(odd_model, call, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")) as err:
        call(odd_model)
    assert isinstance(err.value, GptvizError)
