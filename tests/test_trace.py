"""The trace: its names, its shapes, the identities any GPT-2 forward pass satisfies, and its limits."""

import pytest
import torch

import gptviz
from gptviz.trace import activation_shapes, select_names, trace_nbytes

TEXT = "Lily had a red ball. She gave the ball to Tom, and Tom said thank you to Lily."

GOLDEN_BLOCK = [  # in the order they are computed: pre-LN, so ln_1 comes before attention
    "ln_1", "attn.q", "attn.k", "attn.v", "attn.scores", "attn.pattern", "attn.z", "attn.out",
    "resid_mid", "ln_2", "mlp.pre", "mlp.post", "mlp.out", "resid_post",
]


@pytest.fixture(scope="module")
def trace(odd_model):
    return odd_model.trace(TEXT)


def test_golden_names_in_order(trace, odd_model):
    """A rename is a visible decision: the exact ordered list of names."""
    n_layer = odd_model.config.n_layer
    expected = ["embed.token", "embed.pos", "embed.sum"]
    expected += [f"blocks.{i}.{n}" for i in range(n_layer) for n in GOLDEN_BLOCK]
    expected += ["ln_f", "logits"]
    assert trace.names() == expected
    assert list(activation_shapes(odd_model.config, 5)) == expected


def test_shapes_follow_the_table(trace, odd_model):
    shapes = activation_shapes(odd_model.config, trace.n_tokens)
    for name in trace.names():
        t = trace[name]
        assert tuple(t.shape) == shapes[name], name
        assert t.dtype == torch.float32 and t.device.type == "cpu" and not t.requires_grad
    T, cfg = trace.n_tokens, odd_model.config
    assert trace["blocks.0.attn.pattern"].shape == (cfg.n_head, T, T)
    assert trace["blocks.2.resid_post"].shape == (T, cfg.d_model)
    assert trace["logits"].shape == (T, 50257)


def test_pattern_rows_sum_to_one_and_are_causal(trace, odd_model):
    for i in range(odd_model.config.n_layer):
        p = trace[f"blocks.{i}.attn.pattern"]
        assert torch.allclose(p.sum(-1), torch.ones(p.shape[:2]), atol=1e-5)
        above = torch.ones(p.shape[-2:], dtype=torch.bool).triu(1)
        assert (p[:, above] == 0).all()
        s = trace[f"blocks.{i}.attn.scores"]
        assert torch.isneginf(s[:, above]).all() and torch.isfinite(s[:, ~above]).all()
        assert torch.allclose(torch.softmax(s, -1), p, atol=1e-6)


def test_residual_identities(trace, odd_model):
    cfg = odd_model.config
    resid = trace["embed.sum"]
    assert torch.allclose(trace["embed.token"] + trace["embed.pos"], resid)
    for i in range(cfg.n_layer):
        mid = trace[f"blocks.{i}.resid_mid"]
        assert torch.allclose(resid + trace[f"blocks.{i}.attn.out"], mid, atol=1e-5)
        post = trace[f"blocks.{i}.resid_post"]
        assert torch.allclose(mid + trace[f"blocks.{i}.mlp.out"], post, atol=1e-5)
        resid = post


def test_heads_projected_and_summed_equal_attention_output(trace, odd_model):
    cfg = odd_model.config
    for i, block in enumerate(odd_model.h):
        z = trace[f"blocks.{i}.attn.z"]  # [H, T, d]
        W = block.attn.c_proj.weight.detach()  # [D, H*d]
        per_head = [z[h] @ W[:, h * cfg.d_head:(h + 1) * cfg.d_head].T for h in range(cfg.n_head)]
        total = torch.stack(per_head).sum(0) + block.attn.c_proj.bias.detach()
        assert torch.allclose(total, trace[f"blocks.{i}.attn.out"], atol=1e-5)


def test_values_weighted_by_pattern_give_z(trace):
    p, v = trace["blocks.1.attn.pattern"], trace["blocks.1.attn.v"]
    assert torch.allclose(p @ v, trace["blocks.1.attn.z"], atol=1e-6)


def test_logits_are_final_norm_times_embedding_transpose(trace, odd_model):
    last = trace[f"blocks.{odd_model.config.n_layer - 1}.resid_post"]
    with torch.no_grad():
        normed = odd_model.ln_f(last)
        assert torch.allclose(normed, trace["ln_f"], atol=1e-6)
        assert torch.allclose(normed @ odd_model.wte.weight.T, trace["logits"], atol=1e-4)


def test_layer_norm_output_has_mean_zero_before_its_affine(trace, odd_model):
    ln = odd_model.h[0].ln_1
    with torch.no_grad():
        x = (trace["blocks.0.ln_1"] - ln.bias) / ln.weight
    assert torch.allclose(x.mean(-1), torch.zeros(trace.n_tokens), atol=1e-4)
    # variance 1, up to the eps that LayerNorm adds inside its square root
    v = trace["embed.sum"].var(-1, unbiased=False)
    assert torch.allclose(x.var(-1, unbiased=False), v / (v + ln.eps), atol=1e-3)


def test_tokens_and_ids(trace, odd_model):
    assert trace.ids == odd_model.tokenizer.encode(TEXT)
    assert trace.tokens == odd_model.tokenizer.tokens(trace.ids)
    assert "␣ball" in trace.tokens and trace.text == TEXT


def test_names_filter_records_only_what_is_asked(odd_model):
    t = odd_model.trace(TEXT, names=["blocks.*.attn.pattern", "logits"])
    assert t.names() == ["blocks.0.attn.pattern", "blocks.1.attn.pattern", "blocks.2.attn.pattern", "logits"]
    with pytest.raises(KeyError, match="names= filter"):
        t["blocks.0.resid_post"]
    assert t.nbytes == trace_nbytes(odd_model.config, t.n_tokens, ["blocks.*.attn.pattern", "logits"])


def test_unknown_name_lists_the_valid_ones(trace, odd_model):
    with pytest.raises(KeyError, match=r"Valid names: embed.token.*attn.pattern.*resid_post.*logits"):
        trace["blocks.0.attention"]
    with pytest.raises(KeyError, match="matches no activation name"):
        select_names(odd_model.config, ["blocks.*.nothing"])


def test_memory_is_known_before_and_over_budget_is_refused(odd_model):
    cfg = odd_model.config
    full = trace_nbytes(cfg, 20)
    taken = odd_model.trace(list(range(20)))
    assert taken.nbytes == full
    with pytest.raises(gptviz.TraceTooLargeError, match=r"names=\["):
        odd_model.trace(list(range(20)), max_bytes=full - 1)
    # gpt2-xl's attention coefficients alone at 1024 tokens are ~5 GB
    xl = gptviz.PRESETS["gpt2-xl"]
    assert 4.5e9 < trace_nbytes(xl, 1024, "blocks.*.attn.pattern") < 5.5e9


@pytest.mark.parametrize("bad, message", [
    ("", "empty"),
    ([], "empty"),
    ([50257], "outside the vocabulary"),
    ("Hello<|endoftext|>", "allow_special"),
])
def test_bad_inputs_say_what_to_do(odd_model, bad, message):
    with pytest.raises(gptviz.InputError, match=message):
        odd_model.trace(bad)


def test_too_many_tokens_for_the_context(odd_model):
    n_ctx = odd_model.config.n_ctx
    with pytest.raises(gptviz.InputError, match=f"context holds {n_ctx}"):
        odd_model.trace(" the" * (n_ctx + 1))
    with pytest.raises(gptviz.InputError, match="do not fit"):
        odd_model(torch.zeros(1, n_ctx + 1, dtype=torch.long))


def test_special_token_allowed_when_asked(odd_model):
    t = odd_model.trace("<|endoftext|>Once", allow_special=True)
    assert t.ids[0] == 50256 and t.tokens[0] == "<|endoftext|>"


def test_trace_continues_a_cache(odd_model):
    ids = odd_model.tokenizer.encode(TEXT)
    full = odd_model.trace(ids)
    cache = gptviz.KVCache(odd_model.config.n_layer)
    gptviz.trace.trace(odd_model, ids[:-1], names=["logits"], cache=cache)
    step = gptviz.trace.trace(odd_model, ids[-1:], cache=cache)
    assert step.start == len(ids) - 1 and len(cache) == len(ids)
    assert torch.allclose(step["logits"][0], full["logits"][-1], atol=1e-4)
    assert torch.allclose(step["blocks.2.attn.pattern"][:, 0], full["blocks.2.attn.pattern"][:, -1], atol=1e-6)
    assert step["blocks.0.attn.k"].shape[1] == len(ids)


def test_untraced_forward_pays_nothing_for_recording(odd_model):
    """A plain model(ids) calls no recording code: every Python function it runs is the model's own
    (or torch's), none from gptviz.trace, and no recorder or site name is made."""
    import sys

    called = set()

    def profile(frame, event, arg):
        if event == "call":
            called.add((frame.f_code.co_filename, frame.f_code.co_name))

    ids = torch.tensor([[1, 2, 3]])
    sys.setprofile(profile)
    try:
        with torch.no_grad():
            odd_model(ids)
    finally:
        sys.setprofile(None)
    ours = {name for file, name in called if "/gptviz/" in file}
    assert not any(file.endswith("gptviz/trace.py") for file, _ in called)
    assert ours == {"forward", "embed", "blocks_from", "unembed", "final_norm", "check_fits", "gelu"}  # gelu: the MLP's own
