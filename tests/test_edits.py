"""Edits at the recording sites: ``trace(edits={name: fn})`` replaces what a site sees, the forward pass
goes on from the replacement, and the variants of :mod:`gptviz.compare` are such edits."""

import pytest
import torch
import torch.nn.functional as F

import gptviz
from gptviz.compare import run_variant, sinusoidal_positions
from gptviz.errors import ActivationNameError, EditError, GptvizError, InputError
from gptviz.trace import BLOCK_SITES, EMBED_SITES, FINAL_SITES, activation_shapes

TEXT = "Lily had a red ball. She gave the ball to Tom, and Tom said thank you to Lily."


@pytest.fixture(scope="module")
def plain(odd_model):
    return odd_model.trace(TEXT)


def test_recorded_names_are_the_table_in_order(plain, odd_model):
    """The model calls its sites in exactly the order of the one table of names."""
    table = [n for n, _, _ in EMBED_SITES]
    table += [f"blocks.{i}.{n}" for i in range(odd_model.config.n_layer) for n, _, _ in BLOCK_SITES]
    table += [n for n, _, _ in FINAL_SITES]
    assert plain.names() == table == list(activation_shapes(odd_model.config, 1))


def test_identity_edits_leave_every_tensor_bitwise_equal(plain, odd_model):
    edited = odd_model.trace(TEXT, edits={"*": lambda t: t.clone()})
    assert edited.names() == plain.names() and len(edited.edited) == len(plain)
    for name in plain:
        assert torch.equal(edited[name], plain[name]), name


def test_an_edit_sees_the_trace_shape_and_everything_downstream_follows(plain, odd_model):
    seen = {}

    def zero_head_2(z):
        seen["shape"] = tuple(z.shape)
        z = z.clone()
        z[2] = 0
        return z

    tr = odd_model.trace(TEXT, edits={"blocks.1.attn.z": zero_head_2})
    cfg, T = odd_model.config, plain.n_tokens
    assert seen["shape"] == (cfg.n_head, T, cfg.d_head)
    assert (tr["blocks.1.attn.z"][2] == 0).all()  # the trace records the edited value
    assert torch.equal(tr["blocks.0.resid_post"], plain["blocks.0.resid_post"])  # upstream untouched
    W = odd_model.h[1].attn.c_proj.weight.detach()  # [D, H*d]
    d = cfg.d_head
    removed = plain["blocks.1.attn.z"][2] @ W[:, 2 * d:3 * d].T
    assert torch.allclose(tr["blocks.1.attn.out"], plain["blocks.1.attn.out"] - removed, atol=1e-5)
    assert not torch.allclose(tr["logits"], plain["logits"])


def test_globs_edit_every_layer(odd_model):
    calls = []
    odd_model.trace("Hello there", names=["logits"], edits={"blocks.*.mlp.out": lambda t: calls.append(1) or t})
    assert len(calls) == odd_model.config.n_layer


def test_edits_continue_a_cache(odd_model):
    """With a KV cache, an edited key is what later steps read."""
    ids = odd_model.tokenizer.encode(TEXT)
    double = {"blocks.0.attn.k": lambda k: k * 2}
    full = odd_model.trace(ids, names=["logits"], edits=double)
    cache = gptviz.KVCache(odd_model.config.n_layer)
    gptviz.trace.trace(odd_model, ids[:-1], names=["logits"], cache=cache, edits=double)
    step = gptviz.trace.trace(odd_model, ids[-1:], names=["logits"], cache=cache,
                              edits={"blocks.0.attn.k": lambda k: torch.cat([k[:, :-1], 2 * k[:, -1:]], 1)})
    assert torch.allclose(step["logits"][0], full["logits"][-1], atol=1e-4)


@pytest.mark.parametrize("fn, words", [
    (lambda t: t[:, :1], "returned shape"),
    (lambda t: t * float("nan"), "NaN"),
    (lambda t: 1 / 0, "raised ZeroDivisionError"),
    (lambda t: t.tolist(), "returned list"),
])
def test_a_bad_edit_names_its_site(odd_model, fn, words):
    with pytest.raises(EditError, match=words) as err:
        odd_model.trace("Hello there", edits={"blocks.2.attn.z": fn})
    assert "'blocks.2.attn.z'" in str(err.value) and isinstance(err.value, GptvizError)


def test_a_minus_infinity_score_is_a_valid_edit(odd_model):
    def mask_first_key(s):
        s = s.clone()
        s[:, 1:, 0] = float("-inf")
        return s

    tr = odd_model.trace("Hello there, friend", edits={"blocks.0.attn.scores": mask_first_key})
    assert (tr["blocks.0.attn.pattern"][:, 1:, 0] == 0).all()


def test_bad_edit_arguments(odd_model):
    with pytest.raises(ActivationNameError, match="matches no activation name") as err:
        odd_model.trace("Hi", edits={"blocks.9.attn.z": lambda t: t})
    assert isinstance(err.value, KeyError) and isinstance(err.value, GptvizError)
    with pytest.raises(InputError, match="two entries"):
        odd_model.trace("Hi", edits={"blocks.0.*": lambda t: t, "blocks.0.mlp.out": lambda t: t})
    with pytest.raises(InputError, match="must be a function"):
        odd_model.trace("Hi", edits={"logits": 3})
    with pytest.raises(InputError, match="takes a dict"):
        odd_model.trace("Hi", edits=[lambda t: t])


def test_trace_is_a_read_only_mapping(plain):
    from collections.abc import Mapping

    assert isinstance(plain, Mapping) and plain.get("nope") is None
    assert list(plain.keys()) == plain.names() and "logits" in plain
    with pytest.raises(ActivationNameError, match="not an activation name"):
        plain["blocks.0.attn.patern"]
    with pytest.raises(KeyError):
        plain["blocks.0.attn.patern"]
    assert plain == plain and plain != plain.__class__(dict(plain.items()), plain.ids, plain.tokens,
                                                       plain.config, plain.text)


# ---- the variants, against a forward pass written out by hand --------------------------------------
def _by_hand(model, ids, act, post_norm, positions):
    """GPT-2's forward written out independently of gptviz.model, with the variant's changes."""
    x = model.wte.weight[ids] + (positions if positions is not None else model.wpe.weight[: len(ids)])
    T, H, d = len(ids), model.config.n_head, model.config.d_head
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)
    for b in model.h:
        def attn(h):
            q, k, v = (b.attn.c_attn(h)).split(model.config.d_model, -1)
            q, k, v = (t.view(T, H, d).transpose(0, 1) for t in (q, k, v))
            s = (q @ k.transpose(-1, -2) / d ** 0.5).masked_fill(mask, float("-inf"))
            return b.attn.c_proj((s.softmax(-1) @ v).transpose(0, 1).reshape(T, -1))

        def mlp(h):
            return b.mlp.c_proj(act(b.mlp.c_fc(h)))

        if post_norm:
            x = b.ln_1(x + attn(x))
            x = b.ln_2(x + mlp(x))
        else:
            x = x + attn(b.ln_1(x))
            x = x + mlp(b.ln_2(x))
    return model.ln_f(x) @ model.wte.weight.T


@pytest.mark.parametrize("kw", [{}, {"activation": "relu"}, {"norm": "post"}, {"positions": "sinusoidal"},
                                {"activation": "leaky_relu", "norm": "post", "positions": "sinusoidal"}])
def test_variants_match_a_forward_written_by_hand(odd_model, kw):
    ids = odd_model.tokenizer.encode(TEXT)
    acts = {"gelu": lambda x: F.gelu(x, approximate="tanh"), "relu": torch.relu,
            "leaky_relu": lambda x: F.leaky_relu(x, 0.01)}
    pos = sinusoidal_positions(len(ids), odd_model.config.d_model) if kw.get("positions") else None
    with torch.no_grad():
        expected = _by_hand(odd_model, torch.tensor(ids), acts[kw.get("activation", "gelu")],
                            kw.get("norm") == "post", pos)
    assert torch.allclose(run_variant(odd_model, ids, **kw).logits, expected, atol=1e-4)


def test_lens_reads_the_last_stream_as_the_model_does(plain, odd_model):
    from gptviz.lens import lens_logits

    assert torch.equal(lens_logits(odd_model, plain[f"blocks.{odd_model.config.n_layer - 1}.resid_post"]),
                       plain["logits"])
