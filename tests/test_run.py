"""The one recorded forward pass, model.run: its sources, its end-of-text and truncation policy, the
same logits from every entry point, non-finite numbers said, and trace tensors that are ordinary."""

import copy

import pytest
import torch

import gptviz
from gptviz.errors import InputError, NonFiniteError
from gptviz.evaluate import score_stories
from gptviz.generation import Stepper, generate
from gptviz.inputs import keep_last
from gptviz.interventions import ablate, patch
from gptviz.lens import lens_logits, logit_lens
from gptviz.tokenizer import EOT_ID

TEXT = "Lily had a red ball. She gave the ball to Tom, and Tom said thank you to Lily."


def test_run_is_trace(odd_model):
    a, b = odd_model.run(TEXT), odd_model.trace(TEXT)
    assert a.names() == b.names() and torch.equal(a["logits"], b["logits"])
    assert torch.equal(gptviz.trace.trace(odd_model, TEXT)["logits"], a["logits"])


@pytest.mark.parametrize("layer", [0, 1, 3])
def test_restart_from_a_recorded_stream(odd_model, layer):
    full = odd_model.trace(TEXT)
    entering = full["embed.sum"] if layer == 0 else full[f"blocks.{layer - 1}.resid_post"]
    restarted = odd_model.run(entering, start_layer=layer)
    assert restarted.ids == [] and "embed.sum" not in restarted
    assert restarted.names()[0] == ("ln_f" if layer == 3 else f"blocks.{layer}.ln_1")
    torch.testing.assert_close(restarted["logits"], full["logits"], atol=1e-5, rtol=1e-5)


def test_a_batch_of_streams_is_recorded_whole(odd_model):
    full = odd_model.trace(TEXT)
    stream = full["blocks.0.resid_post"]
    batch = torch.stack([stream, stream * 0.5])  # [2, T, D]
    seen = []
    out = odd_model.run(batch, start_layer=1, names=["blocks.2.resid_post"],
                        edits={"blocks.1.attn.out": lambda x: seen.append(x.shape) or x})
    assert seen == [(2, len(full.ids), 96)]  # the edit receives the batch
    assert out["blocks.2.resid_post"].shape == (2, len(full.ids), 96) and "logits" not in out
    torch.testing.assert_close(out["blocks.2.resid_post"][0], full["blocks.2.resid_post"], atol=1e-5, rtol=1e-5)


def test_bos_puts_endoftext_first_inside_the_context(odd_model):
    ids = odd_model.tokenizer.encode(TEXT)
    with_bos = odd_model.run(TEXT, bos=True)
    assert with_bos.ids == [EOT_ID] + ids and with_bos.tokens[0] == "<|endoftext|>"
    assert torch.equal(with_bos["logits"], odd_model.trace([EOT_ID] + ids)["logits"])
    assert odd_model.run(TEXT).ids == ids  # the default reads exactly the tokens given
    assert odd_model.run([], bos=True).ids == [EOT_ID]
    with pytest.raises(InputError, match="bos=False to continue the cache"):
        cache = gptviz.KVCache(3)
        odd_model.run(ids[:3], cache=cache)
        odd_model.run(ids[3:5], cache=cache, bos=True)


def test_one_truncation_rule_keeps_the_last_ids(odd_model):
    assert keep_last([1, 2, 3, 4], 3) == ([2, 3, 4], 1)
    assert keep_last([1, 2, 3, 4], 3, bos=True) == ([EOT_ID, 3, 4], 2)
    assert keep_last([1, 2], 3, bos=True) == ([EOT_ID, 1, 2], 0)
    ids = list(range(300, 300 + 130))  # two more than the context of 128
    tr = odd_model.run(ids, truncate=True, names=["logits"])
    assert tr.ids == ids[2:] and tr.dropped == 2
    tr = odd_model.run(ids, truncate=True, bos=True, names=["logits"])
    assert tr.ids == [EOT_ID] + ids[3:] and tr.dropped == 3
    with pytest.raises(InputError, match="131 tokens with <|endoftext|> first"):
        odd_model.run(ids, bos=True)


@pytest.mark.parametrize("bos", [False, True])
def test_every_entry_point_gives_the_same_logits(odd_model, bos):
    """trace, run, generate's and Stepper's first distribution, the lens, score_stories, and the clean
    runs of patch and ablate: one forward pass, so the same logits for the same text and bos."""
    ref = odd_model.trace(TEXT, bos=bos)
    logits, last = ref["logits"], ref["logits"][-1]
    assert torch.equal(odd_model.run(TEXT, bos=bos)["logits"], logits)
    step = Stepper(odd_model, TEXT, bos=bos, greedy=True).step()
    torch.testing.assert_close(step.distribution.logits, last, atol=0, rtol=0)
    assert generate(odd_model, TEXT, bos=bos, greedy=True, max_new_tokens=1).new_ids == [int(last.argmax())]
    torch.testing.assert_close(lens_logits(odd_model, ref[f"blocks.{odd_model.config.n_layer - 1}.resid_post"]),
                               logits, atol=1e-5, rtol=1e-5)
    assert logit_lens(odd_model, ref).ids[-1, :, 0].tolist() == logits.argmax(-1).tolist()
    assert torch.equal(patch(odd_model, ref.ids, ref.ids, "blocks.0.attn.out")["logits"], logits)
    assert torch.equal(ablate(odd_model, ref.ids)["logits"], logits)
    if bos:  # score_stories reads every story after <|endoftext|>
        story = gptviz.corpus.Story(TEXT, "", [], [])
        scores = score_stories(odd_model, [story])
        targets = torch.tensor(ref.ids[1:] + [EOT_ID])
        expected = torch.nn.functional.cross_entropy(logits, targets, reduction="sum").item()
        assert scores.tokens == len(targets) and scores.loss_sum == pytest.approx(expected, rel=1e-6)


def test_non_finite_logits_name_the_first_site(odd_model):
    edit = {"blocks.1.mlp.out": lambda x: x + float("inf")}
    with pytest.raises(NonFiniteError, match=r"'blocks\.1\.mlp\.out' \(an edit replaced it\).*allow_nonfinite=True"):
        odd_model.trace(TEXT, edits=edit)
    kept = odd_model.trace(TEXT, edits=edit, allow_nonfinite=True)
    assert not torch.isfinite(kept["logits"]).all()
    broken = copy.deepcopy(odd_model)
    with torch.no_grad():
        broken.h[2].mlp.c_fc.weight[0, 0] = float("nan")
    with pytest.raises(NonFiniteError, match=r"'blocks\.2\.mlp\.pre' \(check the weights"):
        broken.run(TEXT, names=["logits"])
    with pytest.raises(NonFiniteError, match="blocks.2.mlp.pre"):  # the generation step says it too
        Stepper(broken, TEXT)


def test_masked_scores_are_not_non_finite(odd_model):
    """The -inf above the diagonal is the mask, and an edit may mask a key with -inf."""
    def mask_first(s):
        s = s.clone()
        s[:, 1:, 0] = float("-inf")
        return s
    tr = odd_model.trace(TEXT, edits={"blocks.0.attn.scores": mask_first})
    assert torch.isfinite(tr["logits"]).all() and tr["blocks.0.attn.pattern"][:, 1:, 0].eq(0).all()


def test_trace_tensors_are_ordinary_tensors(odd_model):
    tr = odd_model.trace(TEXT)
    x = tr["blocks.0.resid_post"]
    x.mul_(2)  # in place: no "inference tensor" error
    assert torch.equal(tr["blocks.0.resid_post"], x)
    w = torch.ones(96, requires_grad=True)
    out = odd_model.h[1](tr["blocks.0.resid_post"][None] * w)  # a module on a recorded activation, under autograd
    out.sum().backward()
    assert w.grad is not None and torch.isfinite(w.grad).all()


def test_model_trace_continues_a_cache(odd_model):
    ids = odd_model.tokenizer.encode(TEXT)
    cache = gptviz.KVCache(odd_model.config.n_layer)
    odd_model.trace(ids[:-1], names=["logits"], cache=cache)
    step = odd_model.trace(ids[-1:], cache=cache)
    assert step.start == len(ids) - 1
    step["blocks.0.attn.k"].zero_()  # writing into a trace leaves the cache as it was
    assert cache.keys[0].abs().sum() > 0
    torch.testing.assert_close(step["logits"][0], odd_model.trace(ids)["logits"][-1], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("call, words", [
    (lambda m: m.run(TEXT, start_layer=1), "needs a residual stream"),
    (lambda m: m.run(torch.zeros(4, 95), start_layer=1), r"shape \[T, 96\]"),
    (lambda m: m.run(torch.zeros(4, 96), start_layer=4), "from 0 to 3"),
    (lambda m: m.run(torch.zeros(4, 96), start_layer=True), "from 0 to 3"),
    (lambda m: m.run(torch.zeros(129, 96)), "do not fit"),
    (lambda m: m.run(torch.zeros(4, 96), bos=True), "residual stream: pass bos=False"),
    (lambda m: m.run(TEXT, bos="yes"), "bos must be True or False"),
    (lambda m: m.run(TEXT, allow_nonfinite=1), "allow_nonfinite must be True or False"),
])
def test_bad_run_arguments_name_the_fix(odd_model, call, words):
    with pytest.raises(InputError, match=words):
        call(odd_model)
