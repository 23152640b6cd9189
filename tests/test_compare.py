"""The texts' simplifications, computed: each helper checked against its definition or the model."""

import math

import pytest
import torch

from gptviz import GPT, PRESETS, GPTConfig
from gptviz.compare import (ACTIVATIONS, agreement, cosine_similarity_matrix, dot_product_variance,
                            inverse_vs_transpose, matrix_shapes, run_variant, sinusoidal_positions)
from gptviz.errors import InputError


@pytest.fixture(scope="module")
def model():
    return GPT(GPTConfig(n_layer=2, n_head=2, d_model=32, n_ctx=32)).init_weights(3).eval()


@pytest.fixture(scope="module")
def ids(model):
    return model.tokenizer.encode("Lily had a red ball. She gave it to Tom.")


def test_sinusoidal_positions_follow_the_formula():
    P = sinusoidal_positions(50, 16)
    assert P.shape == (50, 16)
    pos, i = 7, 3
    angle = pos / 10000 ** (2 * i / 16)
    assert P[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
    assert P[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)
    assert torch.allclose(P[0, 1::2], torch.ones(8))  # cos(0) = 1 in every odd dimension
    with pytest.raises(InputError):
        sinusoidal_positions(10, 15)


def test_nearby_positions_are_more_alike_than_distant_ones():
    S = cosine_similarity_matrix(sinusoidal_positions(64, 32))
    assert torch.allclose(S.diagonal(), torch.ones(64), atol=1e-6)
    assert S[10, 11] > S[10, 40]


def test_activations():
    x = torch.tensor([-2.0, -0.5, 0.0, 1.5])
    assert torch.equal(ACTIVATIONS["relu"](x), torch.tensor([0.0, 0.0, 0.0, 1.5]))
    assert torch.allclose(ACTIVATIONS["leaky_relu"](x), torch.tensor([-0.02, -0.005, 0.0, 1.5]))
    gelu = ACTIVATIONS["gelu"](x)
    assert gelu[1] < 0 and gelu[3] == pytest.approx(1.5 * 0.5 * (1 + math.erf(1.5 / math.sqrt(2))), abs=1e-3)


def test_default_variant_is_the_model_itself(model, ids):
    v = run_variant(model, ids)
    with torch.inference_mode():
        expected = model(torch.tensor([ids]))[0]
    assert torch.equal(v.logits, expected)
    tr = model.trace(ids)
    assert torch.allclose(v.stream[0], tr["embed.sum"]) and torch.allclose(v.stream[-1], tr["blocks.1.resid_post"])
    assert agreement(v.logits, expected, ids[1:])["top1"] == 1.0


def test_post_norm_stream_is_normalised_after_every_block(model, ids):
    v = run_variant(model, ids, norm="post")
    ln = model.h[-1].ln_2
    z = (v.stream[-1] - ln.bias.detach()) / ln.weight.detach()  # undo the learned scale and bias
    assert torch.allclose(z.mean(-1), torch.zeros(len(ids)), atol=1e-4)
    assert torch.allclose(z.var(-1, unbiased=False), torch.ones(len(ids)), atol=1e-3)


def test_changed_variants_change_the_output(model, ids):
    ref = run_variant(model, ids).logits
    for kw in ({"activation": "relu"}, {"norm": "post"}, {"positions": "sinusoidal"}):
        assert not torch.allclose(run_variant(model, ids, **kw).logits, ref), kw
    with pytest.raises(InputError):
        run_variant(model, ids, norm="middle")


def test_the_embedding_has_no_inverse_and_its_transpose_is_not_one(model):
    r = inverse_vs_transpose(model)
    assert (r["rows"], r["cols"], r["rank"]) == (50257, 32, 32)
    assert r["pinv_left_error"] < 1e-8
    assert r["pinv_projection_trace"] == pytest.approx(32, abs=1e-6)
    assert r["transpose_error"] > 0.5


def test_scaling_by_sqrt_d_brings_the_variance_to_one():
    r = dot_product_variance(128, n=4000)
    assert r["unscaled"] == pytest.approx(128, rel=0.1)
    assert r["scaled"] == pytest.approx(1, rel=0.1)


def test_gpt3_matrix_shapes_match_the_comment():
    s = matrix_shapes(PRESETS["gpt3-175b"])
    assert s["token embedding"] == (50257, 12288)
    assert s["query, one head"] == s["key, one head"] == s["value, one head"] == (12288, 128)
    assert s["MLP in"] == (12288, 49152) and s["MLP out"] == (49152, 12288)
