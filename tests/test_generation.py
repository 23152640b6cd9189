"""Generation: the KV cache changes nothing but speed; greedy equals transformers; stops are explicit."""

from __future__ import annotations

import copy

import pytest
import torch

from gptviz.config import GPTConfig
from gptviz.errors import InputError
from gptviz.generation import Generation, Stepper, generate
from gptviz.inputs import read_input
from gptviz.kvcache import KVCache
from gptviz.model import GPT
from gptviz.tokenizer import EOT_ID
from gptviz.trace import activation_shapes, trace

PROMPT = "Once upon a time, a robot"


@pytest.fixture(scope="module")
def tiny_ctx_model():
    """A random GPT-2 whose context holds 8 tokens."""
    return GPT(GPTConfig(n_ctx=8, d_model=16, n_layer=1, n_head=2, name="tiny")).init_weights(0)


@pytest.fixture(scope="module")
def eos_model(odd_model):
    """The odd model with its final LayerNorm pinned so that <|endoftext|> always scores highest."""
    model = copy.deepcopy(odd_model)
    with torch.no_grad():
        direction = torch.nn.functional.normalize(torch.randn(model.config.d_model), dim=0)
        model.ln_f.weight.zero_()
        model.ln_f.bias.copy_(10 * direction)  # ln_f output is this vector at every position
        model.wte.weight[EOT_ID] = 5 * direction  # EOT's logit 50; the others about 0.2 * 10
    return model


def test_cached_and_uncached_steps_give_the_same_logits_and_tokens(odd_model):
    stepper = Stepper(odd_model, PROMPT, temperature=1.0, top_k=40, seed=1, stop_at_eos=False)
    steps = [stepper.step() for _ in range(6)]
    with torch.inference_mode():
        for step in steps:
            full = odd_model(torch.tensor([stepper.ids[: step.position]]))[0, -1]  # re-read everything
            torch.testing.assert_close(step.distribution.logits, full, atol=1e-5, rtol=0)
    kwargs = dict(max_new_tokens=8, top_k=40, seed=3, stop_at_eos=False)
    cached, uncached = generate(odd_model, PROMPT, **kwargs), generate(odd_model, PROMPT, use_cache=False, **kwargs)
    assert cached.new_ids == uncached.new_ids
    stepper = Stepper(odd_model, PROMPT, top_k=40, seed=3, stop_at_eos=False)
    assert [stepper.step().token_id for _ in range(8)] == cached.new_ids  # same (seed, position) draws


def test_appending_a_token_leaves_earlier_positions_unchanged(odd_model):
    ids = odd_model.tokenizer.encode(PROMPT)
    n = len(ids) - 1
    short, long = trace(odd_model, ids[:n]), trace(odd_model, ids)
    assert short.names() == list(activation_shapes(odd_model.config, n))  # every layer, every name
    for name in short.names():
        a, b = short[name], long[name]
        if name.endswith(("attn.scores", "attn.pattern")):  # [H, T, T]
            b = b[:, :n, :n]
            assert (long[name][:, :n, n] == (float("-inf") if name.endswith("scores") else 0.0)).all()
        elif name.endswith(("attn.q", "attn.k", "attn.v", "attn.z")):  # [H, T, d]
            b = b[:, :n]
        else:  # [T, ...]
            b = b[:n]
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5, msg=name)
    # With the cache, the earlier rows are not even recomputed: the new token's trace continues them.
    cache = KVCache(odd_model.config.n_layer)
    trace(odd_model, ids[:n], cache=cache)
    keys_before = cache.keys[2].clone()
    step = trace(odd_model, ids[n:], cache=cache)
    assert torch.equal(cache.keys[2][:, :, :n], keys_before)
    torch.testing.assert_close(step["logits"][0], long["logits"][n], atol=1e-5, rtol=0)
    torch.testing.assert_close(step["blocks.2.attn.pattern"][:, 0], long["blocks.2.attn.pattern"][:, n],
                               atol=1e-6, rtol=0)


def test_greedy_generation_equals_transformers(odd_model, odd_checkpoint):
    from transformers import GPT2LMHeadModel

    hf = GPT2LMHeadModel.from_pretrained(odd_checkpoint).eval()
    for prompt in (PROMPT, "The"):
        ids = odd_model.tokenizer.encode(prompt)
        with torch.no_grad():
            out = hf.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                              do_sample=False, max_new_tokens=20, pad_token_id=EOT_ID, eos_token_id=EOT_ID)
        ours = generate(odd_model, prompt, max_new_tokens=20, greedy=True)
        assert ours.prompt_ids == ids
        assert ours.new_ids == out[0, len(ids):].tolist()
        assert generate(odd_model, prompt, max_new_tokens=20, temperature=0).new_ids == ours.new_ids


def test_seeded_generation_is_reproducible_and_private(odd_model):
    state = torch.random.get_rng_state()
    a = generate(odd_model, PROMPT, max_new_tokens=10, seed=11, stop_at_eos=False)
    b = generate(odd_model, PROMPT, max_new_tokens=10, seed=11, stop_at_eos=False)
    c = generate(odd_model, PROMPT, max_new_tokens=10, seed=12, stop_at_eos=False)
    unseeded = generate(odd_model, PROMPT, max_new_tokens=10, stop_at_eos=False)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert a == b and a.new_ids != c.new_ids
    assert generate(odd_model, PROMPT, max_new_tokens=10, seed=unseeded.seed, stop_at_eos=False) == unseeded
    assert isinstance(a, Generation) and a.stop_reason == "max_new_tokens" and len(a.new_ids) == 10
    tok = odd_model.tokenizer
    assert a.text == str(a) == tok.decode(a.prompt_ids + a.new_ids) and a.new_text == tok.decode(a.new_ids)


def test_no_prompt_starts_from_end_of_text(odd_model):
    g = generate(odd_model, max_new_tokens=3, seed=0, stop_at_eos=False)
    assert g.prompt_ids == [EOT_ID] and g.text.startswith("<|endoftext|>")
    assert Stepper(odd_model).ids == [EOT_ID]


def test_stops_at_end_of_text_unless_told_not_to(eos_model):
    g = generate(eos_model, PROMPT, max_new_tokens=5, seed=0)
    assert g.stop_reason == "eos" and g.new_ids == [EOT_ID] and g.text.endswith("<|endoftext|>")
    g = generate(eos_model, PROMPT, max_new_tokens=5, seed=0, stop_at_eos=False)
    assert g.stop_reason == "max_new_tokens" and g.new_ids == [EOT_ID] * 5
    stepper = Stepper(eos_model, PROMPT)
    assert [s.token_id for s in stepper] == [EOT_ID]
    assert stepper.stopped and stepper.stop_reason == "eos"
    with pytest.raises(InputError, match="stopped"):
        stepper.step()


def test_stops_when_the_context_is_full(tiny_ctx_model):
    g = generate(tiny_ctx_model, "one two three", max_new_tokens=100, seed=0, stop_at_eos=False)
    assert g.stop_reason == "context_full" and len(g.prompt_ids) + len(g.new_ids) == 8
    stepper = Stepper(tiny_ctx_model, "one two three", stop_at_eos=False)
    steps, rows = [], []
    for step in stepper:  # the cache's rows counted from the cache itself after every step
        steps.append(step)
        rows.append(len(stepper.cache))
    assert stepper.stop_reason == "context_full" and len(stepper.ids) == 8
    assert rows == [s.cache_len for s in steps] == list(range(4, 9))
    assert [s.token_id for s in steps] == g.new_ids
    uncached = generate(tiny_ctx_model, "one two three", max_new_tokens=100, seed=0, stop_at_eos=False, use_cache=False)
    assert uncached.new_ids == g.new_ids


def test_over_long_prompts_raise_or_truncate(tiny_ctx_model, odd_model):
    ids = list(range(100, 120))  # 20 tokens, context 8
    with pytest.raises(InputError, match="truncate=True"):
        generate(tiny_ctx_model, ids)
    with pytest.raises(InputError, match="truncate=True"):
        Stepper(tiny_ctx_model, ids[:8])  # no room left for a new token
    g = generate(tiny_ctx_model, ids, max_new_tokens=3, truncate=True, seed=0, stop_at_eos=False)
    assert g.prompt_ids == ids[-5:] and g.dropped == 15 and g.stop_reason == "max_new_tokens"
    stepper = Stepper(tiny_ctx_model, ids, truncate=True)
    assert stepper.ids == ids[-7:] and stepper.dropped == 13
    stepper = Stepper(tiny_ctx_model, ids, truncate=True, room=3)
    assert stepper.ids == ids[-5:] and stepper.dropped == 15
    with pytest.raises(InputError, match="room=8"):
        Stepper(tiny_ctx_model, ids, truncate=True, room=8)
    assert read_input(odd_model, ids).ids == ids and read_input(odd_model, ids).dropped == 0


@pytest.mark.parametrize("prompt, message", [
    ("", "empty"), ([], "empty"), ([5, 60000], "outside the vocabulary"),
    (torch.zeros(2, 3, dtype=torch.long), "shape"),
])
def test_bad_prompts_raise_input_error(odd_model, prompt, message):
    with pytest.raises(InputError, match=message):
        generate(odd_model, prompt)


@pytest.mark.parametrize("kwargs", [dict(max_new_tokens=0), dict(max_new_tokens=2.5), dict(temperature=-1),
                                    dict(top_k=0), dict(top_p=2.0)])
def test_bad_settings_raise_before_running_the_model(odd_model, kwargs):
    with pytest.raises(InputError):
        generate(odd_model, PROMPT, **kwargs)


def test_stepper_back_and_reset_repeat_the_same_tokens(odd_model):
    stepper = Stepper(odd_model, PROMPT, seed=5, top_p=0.9, stop_at_eos=False)
    prompt_len = stepper.prompt_len
    assert stepper.cache_rows() == {"reused": 0, "new": prompt_len, "total": prompt_len, "n_ctx": 128}
    first = [stepper.step().token_id for _ in range(4)]
    assert stepper.cache_rows() == {"reused": prompt_len + 3, "new": 1, "total": prompt_len + 4, "n_ctx": 128}
    text = stepper.text
    stepper.back()
    stepper.back()
    assert len(stepper.cache) == prompt_len + 2 == len(stepper.ids) and len(stepper.steps) == 2
    assert [stepper.step().token_id for _ in range(2)] == first[2:]
    assert stepper.text == text == odd_model.tokenizer.decode(stepper.ids)
    stepper.reset()
    fresh = Stepper(odd_model, PROMPT, seed=5, top_p=0.9, stop_at_eos=False)
    assert stepper.ids == fresh.ids and len(stepper.ids) == prompt_len and not stepper.steps
    assert len(stepper.cache) == prompt_len and all(torch.equal(a, b) for a, b in zip(stepper.cache.keys, fresh.cache.keys))
    again = [stepper.step() for _ in range(4)]
    assert [s.token_id for s in again] == first and len(stepper.ids) == prompt_len + 4
    assert torch.equal(again[0].distribution.logits, fresh.step().distribution.logits)
    stepper.reset()
    with pytest.raises(InputError, match="no step to undo"):
        stepper.back()
    sampled = generate(odd_model, PROMPT, max_new_tokens=4, seed=5, top_p=0.9, stop_at_eos=False)
    assert sampled.new_ids == first  # both seed each draw by (seed, position)


def test_recorded_steps_trace_the_new_token(odd_model):
    stepper = Stepper(odd_model, PROMPT, seed=0, record=True, stop_at_eos=False)
    a, b = stepper.step(), stepper.step()
    assert a.trace.ids == [a.token_id] and a.trace.start == a.position == stepper.prompt_len
    assert a.trace["blocks.1.attn.pattern"].shape == (6, 1, a.position + 1)
    # A step's trace is the whole text's trace at the new position: read everything again, uncached.
    full = trace(odd_model, stepper.ids)
    for step in (a, b):
        p = step.position
        torch.testing.assert_close(step.trace["logits"][0], full["logits"][p], atol=1e-5, rtol=0)
        for name in ("blocks.1.attn.pattern", "blocks.2.resid_post"):
            torch.testing.assert_close(step.trace[name][..., 0, :] if "pattern" in name else step.trace[name][0],
                                       full[name][:, p, : p + 1] if "pattern" in name else full[name][p],
                                       atol=1e-5, rtol=0, msg=name)
        for name in ("blocks.0.attn.k", "blocks.2.attn.v"):  # keys and values over the whole cache
            torch.testing.assert_close(step.trace[name], full[name][:, : p + 1], atol=1e-5, rtol=0, msg=name)
    torch.testing.assert_close(b.distribution.logits, full["logits"][a.position], atol=1e-5, rtol=0)
    assert len(stepper.cache) == b.cache_len == b.position + 1 and b.token == odd_model.tokenizer.token_str(b.token_id)
    assert Stepper(odd_model, PROMPT).step().trace is None
