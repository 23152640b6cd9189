"""Composition and weight-level circuits against independent computations: the key-path edit against
layer keys recomputed by hand from transformers' own hidden states and attention; the OV copying and
QK scores on tiny models whose heads are built by hand to copy, to look one token back, and to do
induction."""

import math

import pytest
import torch

from gptviz.config import GPTConfig
from gptviz.errors import InputError
from gptviz.interventions.composition import (head_output, induction_qk_scores, key_path_edits, key_path_names,
                                              ov_copying_scores, positional_qk_scores, without_key_path)
from gptviz.model import GPT

TEXT = "One day Lily and Tom went to the park. Lily gave the ball to Tom."


@pytest.mark.parametrize("source, layer", [((0, 3), 1), ((0, 5), 2), ((1, 1), 2)])
def test_key_path_matches_keys_recomputed_from_transformers(odd_checkpoint, odd_model, source, layer):
    from transformers import GPT2LMHeadModel

    hf = GPT2LMHeadModel.from_pretrained(odd_checkpoint, attn_implementation="eager").eval()
    ids = odd_model.tokenizer.encode(TEXT)
    D, H = hf.config.n_embd, hf.config.n_head
    d = D // H
    with torch.no_grad():
        out = hf(torch.tensor([ids]), output_hidden_states=True, output_attentions=True)
        src_l, src_h = source
        blk = hf.transformer.h[src_l]
        v = blk.attn.c_attn(blk.ln_1(out.hidden_states[src_l][0])).split(D, -1)[2]  # [T, D]
        z = out.attentions[src_l][0, src_h] @ v[:, src_h * d:(src_h + 1) * d]  # [T, d]
        contribution = z @ blk.attn.c_proj.weight[src_h * d:(src_h + 1) * d]  # Conv1D weight: [in, out]
        target = hf.transformer.h[layer]
        resid = out.hidden_states[layer][0]
        q = target.attn.c_attn(target.ln_1(resid)).split(D, -1)[0]
        k = target.attn.c_attn(target.ln_1(resid - contribution)).split(D, -1)[1]
        q, k = (x.reshape(-1, H, d).transpose(0, 1) for x in (q, k))
        T = len(ids)
        scores = (q @ k.transpose(-1, -2) / math.sqrt(d)).masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), -math.inf)
        expected = scores.softmax(-1)  # [H, T, T]
    got = without_key_path(odd_model, ids, source, layer)
    plain = odd_model.trace(ids)
    assert (got[f"blocks.{layer}.attn.pattern"] - expected).abs().max() < 1e-5
    assert (got[f"blocks.{layer}.attn.k"] - k).abs().max() < 1e-5
    assert (got[f"blocks.{layer}.attn.k"] - plain[f"blocks.{layer}.attn.k"]).abs().max() > 1e-2  # the edit did something
    for name in (f"blocks.{layer}.attn.q", f"blocks.{layer}.attn.v", f"blocks.{layer}.ln_1"):
        assert torch.equal(got[name], plain[name])  # queries, values and the block's input untouched


@pytest.mark.parametrize("source, layer", [((0, 3), 1), ((1, 1), 2)])
def test_a_clean_trace_passed_in_gives_the_same_run(odd_model, source, layer):
    """clean= saves the clean run and changes nothing: every recorded tensor is the same, bit for bit."""
    ids = odd_model.tokenizer.encode(TEXT)
    clean = odd_model.trace(ids, names=["blocks.*.attn.pattern"] + key_path_names(layer, source))
    own, reused = without_key_path(odd_model, ids, source, layer), without_key_path(odd_model, ids, source, layer, clean=clean)
    assert own.names() == reused.names() and all(torch.equal(own[n], reused[n]) for n in own.names())


def test_head_outputs_and_the_projection_bias_make_the_attention_output(odd_model):
    tr = odd_model.trace(TEXT)
    total = sum(head_output(odd_model, tr, 1, h) for h in range(odd_model.config.n_head))
    bias = odd_model.h[1].attn.c_proj.bias.detach()
    assert (total + bias - tr["blocks.1.attn.out"]).abs().max() < 1e-5


def _hand_built(n_tokens: int = 8):
    """A 2-layer, 2-head model (d_model 32, d_head 16) whose token ids 0..n-1 and positions 0..n-1 have
    one-hot embeddings: token t in dimension t, position p in dimension 16 + p. Layer 0, head 0 copies
    (OV = identity on the token dimensions); layer 0, head 1 looks one position back (QK on positions);
    layer 1, head 0 matches a query's token with what head (0, 0) wrote at a key (QK = identity)."""
    cfg = GPTConfig(vocab_size=64, n_ctx=n_tokens, d_model=32, n_layer=2, n_head=2)
    model = GPT(cfg).init_weights(seed=0)
    D, d = cfg.d_model, cfg.d_head
    with torch.no_grad():
        model.wte.weight.zero_()
        model.wpe.weight.zero_()
        for t in range(n_tokens):
            model.wte.weight[t, t] = 1.0
            model.wpe.weight[t, 16 + t] = 1.0
        a0, a1 = model.h[0].attn, model.h[1].attn
        a0.c_attn.weight.zero_()
        a0.c_proj.weight.zero_()
        for i in range(n_tokens):
            a0.c_attn.weight[2 * D + i, i] = 1.0  # head 0's value: token dimension i -> head dimension i
            a0.c_proj.weight[i, i] = 1.0  # head 0's output: head dimension i -> token dimension i
            a0.c_attn.weight[d + i, 16 + i] = 1.0  # head 1's query: position p -> head dimension p
            if i + 1 < n_tokens:
                a0.c_attn.weight[D + d + i + 1, 16 + i] = 1.0  # head 1's key: position p -> dimension p + 1
            a1.c_attn.weight[i, i] = 1.0  # layer 1, head 0: query and key both read token dimension i
            a1.c_attn.weight[D + i, i] = 1.0
    return model


def test_a_head_built_to_copy_has_ov_copying_score_one():
    model = _hand_built()
    scores = ov_copying_scores(model, tokens=range(8))
    assert scores[0, 0] == 1.0
    assert scores[0, 1] < 0.5  # its value weights are zero: every logit ties, and argmax picks token 0 only
    with torch.no_grad():
        model.h[0].attn.c_proj.weight[:8, :8] *= -1  # the same head, now writing minus the token it reads
    assert ov_copying_scores(model, tokens=range(8))[0, 0] < 0.5


def test_a_head_built_to_look_one_back_has_positional_qk_score_one():
    scores = positional_qk_scores(_hand_built(), n_positions=8)
    assert scores[0, 1] == 1.0 and scores[0, 0] < 0.5


def test_induction_qk_finds_the_key_the_earlier_head_wrote():
    model = _hand_built()
    scores = induction_qk_scores(model, source=(0, 0), layer=1, tokens=range(8))
    assert scores[0] == 1.0 and scores[1] < 0.5
    assert induction_qk_scores(model, source=(0, 1), layer=1, tokens=range(8))[0] < 0.5  # head (0, 1) copies nothing


@pytest.mark.parametrize("call, words", [
    (lambda m: key_path_edits(m, TEXT, (1, 0), 1), "later layer than the source"),
    (lambda m: key_path_edits(m, TEXT, (0, 9), 1), "6 heads, so use 0 .. 5"),
    (lambda m: key_path_edits(m, TEXT, (0, 1), 1, clean=m.trace(TEXT, names=["logits"])), r"does not hold blocks\.0\.resid_post"),
    (lambda m: key_path_edits(m, TEXT, (0, 1), 1, clean=m.trace("Another text.")), "trace of another text"),
    (lambda m: key_path_edits(m, TEXT, (0, 1), 1, clean=m.trace(TEXT, edits={"blocks.0.attn.z": lambda z: z * 0})),
     "traced with edits"),
    (lambda m: key_path_edits(m, TEXT, (0, 1), 1, clean="not a trace"), "clean= takes a Trace"),
    (lambda m: induction_qk_scores(m, (2, 0), 1), "later layer"),
    (lambda m: positional_qk_scores(m, n_positions=1), "n_positions must be"),
    (lambda m: ov_copying_scores(m, tokens=[5]), "tokens= takes at least 2 token ids"),
])
def test_bad_arguments_name_the_fix(odd_model, call, words):
    with pytest.raises(InputError, match=words):
        call(odd_model)
