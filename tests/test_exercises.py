"""Check-your-work helpers (right answers pass, wrong ones say what differs) and the notebook setup."""

import math

import numpy as np
import pytest
import torch

from gptviz import GPT, GPTConfig
from gptviz.exercises import check, check_trace, verdict


@pytest.fixture(scope="module")
def tiny_trace():
    model = GPT(GPTConfig(n_layer=1, n_head=2, d_model=16, n_ctx=16)).init_weights(0).eval()
    return model.trace("Lily saw Tom.")


def test_close_tensors_pass_and_far_ones_report_the_worst_index():
    expected = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert verdict(expected + 1e-6, expected).ok
    off = expected.clone()
    off[1, 0] += 0.5
    v = verdict(off, expected)
    assert not v.ok and v.max_diff == pytest.approx(0.5)
    assert "index [1, 0]" in v.message and "3.5" in v.message


def test_shape_mismatch_is_named():
    v = verdict(torch.zeros(2, 3), torch.zeros(3, 2), what="x")
    assert not v.ok and "[2, 3]" in v.message and "[3, 2]" in v.message and math.isinf(v.max_diff)


def test_matching_minus_infinity_counts_as_equal_and_a_missing_mask_does_not():
    masked = torch.tensor([[0.5, -math.inf], [0.1, 0.2]])
    assert verdict(masked.clone(), masked).ok
    v = verdict(torch.tensor([[0.5, 0.7], [0.1, 0.2]]), masked)
    assert not v.ok and "index [0, 1]" in v.message and "mask" in v.message


def test_nan_is_never_right():
    assert not verdict(torch.tensor([math.nan]), torch.tensor([1.0])).ok


def test_whole_numbers_and_strings_compare_exactly():
    assert verdict([15496, 995], [15496, 995]).ok
    assert not verdict([15496, 995], [15496, 996]).ok
    assert verdict(np.array([1, 2]), torch.tensor([1, 2])).ok
    assert verdict("␣Lily", "␣Lily").ok
    assert not verdict("Lily", "␣Lily").ok


def test_numbers_and_tensors_mix():
    assert verdict(0.5, torch.tensor(0.50001)).ok
    assert verdict(np.float32(2.0), 2).ok


def test_check_prints_the_verdict(capsys):
    check(torch.ones(3), torch.ones(3), what="the sum")
    assert capsys.readouterr().out.startswith("Right! the sum matches")
    check(torch.ones(3), torch.zeros(3))
    assert capsys.readouterr().out.startswith("Not yet: max difference 1")


def test_check_trace_compares_with_a_recorded_tensor(tiny_trace, capsys):
    q, k = tiny_trace["blocks.0.attn.q"][1], tiny_trace["blocks.0.attn.k"][1]
    T, d = q.shape
    scores = (q @ k.T) / math.sqrt(d)
    scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), -math.inf)
    check_trace(torch.softmax(scores, -1), tiny_trace, "blocks.0.attn.pattern", 1)
    out = capsys.readouterr().out
    assert out.startswith("Right!") and "trace['blocks.0.attn.pattern'][1]" in out
    check_trace(torch.softmax(q @ k.T, -1), tiny_trace, "blocks.0.attn.pattern", 1)
    assert capsys.readouterr().out.startswith("Not yet:")


def test_notebook_setup_fixes_the_renderer_and_the_seed():
    import plotly.io as pio

    from gptviz.notebook import describe, setup

    assert setup(load=False, seed=5) is None
    assert pio.renderers.default == "plotly_mimetype"
    first = torch.rand(3)
    setup(load=False, seed=5)
    assert torch.equal(torch.rand(3), first)
    model = GPT(GPTConfig(n_layer=1, n_head=2, d_model=16, n_ctx=16, name="tiny"))
    line = describe(model)
    assert line.startswith("Model: tiny: 1 layers, 2 heads, d_model 16") and "/" not in line


def test_require_prints_when_right_and_raises_with_the_hint_when_wrong(capsys):
    from gptviz.exercises import require

    require([1, 2], [1, 2], what="ids")
    assert capsys.readouterr().out.startswith("Right! ids")
    with pytest.raises(AssertionError) as err:
        require(torch.ones(2), torch.zeros(2), what="x", hint="subtract the mean")
    assert str(err.value).startswith("Not yet: max difference 1") and str(err.value).endswith(
        "Hint: subtract the mean")
    with pytest.raises(AssertionError, match=r"expected \[3, 2\]\.$"):
        require(torch.zeros(2, 3), torch.zeros(3, 2))


def test_notebook_setup_takes_its_thread_count_from_gptviz_threads(monkeypatch):
    from gptviz.errors import InputError
    from gptviz.notebook import setup

    before = torch.get_num_threads()
    monkeypatch.setenv("GPTVIZ_THREADS", "2")
    try:
        setup()  # the bundled model: one thread unless GPTVIZ_THREADS says otherwise
        assert torch.get_num_threads() == 2
        monkeypatch.delenv("GPTVIZ_THREADS")
        setup()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    for bad in ("0", "two", "-1", "1.5"):
        monkeypatch.setenv("GPTVIZ_THREADS", bad)
        with pytest.raises(InputError, match="GPTVIZ_THREADS must be a whole number"):
            setup()


def test_a_claim_that_fails_stops_the_build_and_only_notes_it_elsewhere(monkeypatch, capsys):
    from gptviz.notebook import STRICT_CLAIMS, ClaimError, claim

    monkeypatch.setenv(STRICT_CLAIMS, "1")  # as tools/build_notebooks.py runs the chapters
    claim(0.7 >= 0.5, "the head puts most of its weight on the name")
    with pytest.raises(ClaimError, match="the model predicts the name") as err:
        claim(False, "the model predicts the name")
    assert isinstance(err.value, AssertionError) and "rewrite the sentence" in str(err.value)
    monkeypatch.delenv(STRICT_CLAIMS)  # a student's notebook, e.g. with setup("gpt2")
    claim(False, "the model predicts the name")
    out = capsys.readouterr().out
    assert out.startswith("Note: the text says 'the model predicts the name'") and "bundled model" in out
    claim(True, "silent when it holds")
    assert capsys.readouterr().out == ""


# ---- every exercise of the series: its solution passes, the one-line answers fail ------------------

import importlib.util
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
build_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_notebooks)

LIBRARY = "write it yourself: "  # a switched-off library entry point was called
WRONG = "Not yet: "  # the answer differs, on an input the student has not seen or on the chapter's own

_COPY_LOSS = "loss = -torch.log_softmax(logits[:-1], -1)[torch.arange(2 * n), torch.tensor(ids[1:])]\n"

# For each exercise (its solution cell's id): the one-line answers a student could hand in instead of
# the work, each as the text of every solution block of the cell (in order), and how it must fail.
CHEATS = {
    "ex01_predict_count": [(["predicted_count = 8"], WRONG), (["predicted_count = 10"], WRONG)],
    "ex01_decode": [(["return tok.decode(ids)"], LIBRARY), (['return "".join(tok.token_texts(ids))'], LIBRARY),
                    (["return tok._encoding.decode(ids)"], LIBRARY), (["return sentence"], WRONG)],
    "ex02_token_embeddings": [(['return trace["embed.token"]'], WRONG),
                              (["return torch.nn.functional.embedding(torch.tensor(ids), W)"], LIBRARY)],
    "ex02_embed": [(['return model.trace(ids)["embed.sum"]'], LIBRARY), (["return model(torch.tensor([ids]))"], LIBRARY),
                   (['return trace["embed.sum"]'], WRONG)],
    "ex03_pattern": [(['return trace["blocks.0.attn.pattern"][0]', "predicted_first_weight = 1.0"], WRONG),
                     (["return torch.softmax(q @ k.T / math.sqrt(d), -1)", "predicted_first_weight = 1.0"], WRONG),
                     (["return torch.softmax((q @ k.T / math.sqrt(d)).masked_fill(torch.ones(len(q), len(q)).triu(1) > 0,"
                       " float('-inf')), -1)", "predicted_first_weight = 1.0"], WRONG)],
    "ex03_z": [(['return trace["blocks.0.attn.z"][0]'], WRONG)],
    "ex03_out": [(["return c_proj(z.transpose(0, 1).reshape(z.shape[1], -1)).detach()"], LIBRARY),
                 (['return trace["blocks.0.attn.out"]'], WRONG),
                 (["return z.reshape(z.shape[1], -1) @ c_proj.weight.detach().T + c_proj.bias.detach()"], WRONG)],
    "ex04_pre": [(["return c_fc(x).detach()"], LIBRARY), (['return trace["blocks.1.mlp.pre"]'], WRONG),
                 (["return x @ c_fc.weight.detach().T"], WRONG)],
    "ex04_gelu": [(['return torch.nn.functional.gelu(x, approximate="tanh")', "predicted_gelu_min = -0.17"], LIBRARY),
                  (['return torch.nn.GELU(approximate="tanh")(x)', "predicted_gelu_min = -0.17"], LIBRARY),
                  (['from gptviz.compare import ACTIVATIONS\nreturn ACTIVATIONS["gelu"](x)', "predicted_gelu_min = -0.17"],
                   LIBRARY),
                  (['return trace["blocks.1.mlp.post"]', "predicted_gelu_min = -0.17"], WRONG),
                  (["return x * torch.sigmoid(1.702 * x)", "predicted_gelu_min = -0.17"], WRONG),
                  (['return torch.nn.functional.gelu(x, approximate="tanh") if False else '
                    '0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))',
                    "predicted_gelu_min = -0.5"], WRONG),
                  (["return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))",
                    "predicted_gelu_min = 0.0"], WRONG)],
    "ex04_out": [(["return c_proj(post).detach()"], LIBRARY), (['return trace["blocks.1.mlp.out"]'], WRONG)],
    "ex05_layer_norm": [(["return torch.nn.functional.layer_norm(x, x.shape[-1:], ln.weight, ln.bias, ln.eps).detach()"],
                         LIBRARY),
                        (["return ln(x).detach()"], LIBRARY),
                        (['return trace["blocks.0.ln_1"]'], WRONG),
                        (["return (x - x.mean(-1, keepdim=True)) / x.std(-1, keepdim=True) * ln.weight.detach()"
                          " + ln.bias.detach()"], WRONG)],
    "ex05_block": [(["return block(x[None])[0].detach()"], LIBRARY), (['return trace["blocks.1.resid_post"]'], WRONG),
                   (["with torch.no_grad():\n    return x + block.attn(block.ln_1(x)[None])[0] + block.mlp(block.ln_2(x)[None])[0]"],
                    WRONG)],
    "ex05_shapes": [(["return {s: activation_shapes(cfg, T)[f'blocks.0.{s}'] for s in ARROW_SITES}"], LIBRARY),
                    (["return {s: tuple(GPT(cfg).trace(list(range(T)))[f'blocks.0.{s}'].shape) for s in ARROW_SITES}"],
                     LIBRARY),
                    (["return {s: tuple(trace[f'blocks.0.{s}'].shape) for s in ARROW_SITES}"], WRONG),
                    (["return {s: (H, T, d) if s.startswith('attn.') and s != 'attn.out' else (T, D) for s in ARROW_SITES}"],
                     WRONG)],
    "ex06_logits": [(["return torch.nn.functional.linear(final, W)"], LIBRARY), (['return trace["logits"]'], WRONG)],
    "ex06_probs": [(["return torch.softmax(logits, -1)"], LIBRARY), (["return logits.softmax(-1)"], LIBRARY),
                   (["return distribution(logits).probs"], LIBRARY), (["return dist.probs"], WRONG),
                   (["return torch.exp(logits) / torch.exp(logits).sum()"], WRONG)],
    "ex06_top_k": [(["return distribution(logits, top_k=k).probs"], LIBRARY),
                   (["return top40.probs"], WRONG)],
    "ex06_predict_temperature": [(["predicted_ratio = 2.72"], WRONG), (["predicted_ratio = 1.36"], WRONG),
                                 (["predicted_ratio = 5.44"], WRONG)],
    "ex06_top_p": [(["return distribution(logits, top_p=p).probs"], LIBRARY),
                   (["return distribution(logits, top_k=3).probs"], LIBRARY)],
    "ex07_greedy": [(["return model.generate(ids, max_new_tokens=n, temperature=0, stop_at_eos=False).new_ids"], LIBRARY),
                    (["ids.append(greedy_id(logits))"], LIBRARY),
                    (["return out.new_ids"], WRONG)],
    "ex08_loss": [(["return torch.nn.functional.cross_entropy(logits[:-1], torch.as_tensor(ids[1:]))"], LIBRARY),
                  (["return F.nll_loss(log_probs, torch.as_tensor(ids[1:]))"], LIBRARY),
                  (["return log_probs[torch.arange(len(ids) - 1), torch.as_tensor(ids[1:])].mean()"], WRONG)],
    "ex08_predict_shuffled": [([f'predicted_shuffled = "{x}"'], WRONG) for x in "ABC"],
    "ex08_perplexity": [(["return perplexity(logits, targets)"], LIBRARY),
                        (["return math.exp(F.cross_entropy(logits, torch.as_tensor(targets)).item())"], LIBRARY),
                        (["return -log_probs[torch.arange(len(targets)), torch.as_tensor(targets)].mean().item()"], WRONG),
                        (["return log_probs[torch.arange(len(targets)), torch.as_tensor(targets)].neg().exp().mean().item()"],
                         WRONG),
                        (["return math.exp(-log_probs.mean().item())"], WRONG),
                        (["return math.exp(remeasured)"], WRONG)],
    "ex09_param_count": [(["return cfg.n_params"], LIBRARY), (['return cfg.param_counts()["total"]'], LIBRARY),
                         (["return sum(p.numel() for p in GPT(cfg).parameters())"], LIBRARY),
                         (["return model.config.n_params if False else 124439808"], WRONG)],
    "ex09_predict_second_copy": [([f'predicted_second_copy = "{x}"'], WRONG) for x in "ABD"],
    "ex09_copy_gain": [(["per_token = position_losses(model.trace(ids))\n"
                         "return (per_token[:n].mean() - per_token[n:].mean()).item()"], LIBRARY),
                       (["r = measure_induction(model, n, seeds=[0])\nreturn r.first_copy - r.second_copy"], LIBRARY),
                       (["return torch.nn.functional.cross_entropy(logits[1:n + 1], torch.tensor(ids[2:n + 2])).item()"], LIBRARY),
                       (['return drop["the model"]'], WRONG),
                       ([_COPY_LOSS + "return (loss[n:].mean() - loss[:n].mean()).item()"], WRONG),  # the sign
                       ([_COPY_LOSS + "return (loss[:n + 1].mean() - loss[n + 1:].mean()).item()"], WRONG)],  # one off
    "ex10_sink": [(["return first_token_scores(trace)[layer]"], LIBRARY), (["return sink[layer]"], WRONG)],
    "ex10_predict_where": [(["return q - n"], WRONG), (["return q + 1"], WRONG), (["return q - n - 1"], WRONG)],
    "ex10_induction": [(["return induction_scores(trace, n)[layer]"], LIBRARY), (["return induction[layer]"], WRONG)],
    "ex10_patch_score": [(["return scores[0, 5].item()"], WRONG),
                         (["return patch_sweep(model, clean, corrupt, ' Jane', ' Walter')[0, 5].item()"], LIBRARY)],
}


def _chapters() -> list[Path]:
    return sorted((ROOT / "notebooks" / "src").glob("*.py"))


def _exercises(cells) -> dict[str, tuple[int, int]]:
    """Each solution cell's id -> (its index, the index of the last test cell it is checked by)."""
    found, current = {}, None
    for i, cell in enumerate(cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            current = meta["grade_id"]
            found[current] = (i, None)
        elif meta.get("grade") and current is not None:
            found[current] = (found[current][0], i)
    return found


def _with(source: str, bodies: list[str]) -> str:
    """``source`` with the text of each solution block replaced by the next of ``bodies``."""
    lines, out, inside, blocks = source.splitlines(), [], False, iter(bodies)
    for line in lines:
        if line.strip() == build_notebooks.BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            out += [line] + [indent + body_line for body_line in next(blocks).splitlines()]
            inside = True
        elif line.strip() == build_notebooks.END:
            out.append(line)
            inside = False
        elif not inside:
            out.append(line)
    assert next(blocks, None) is None, "more cheat bodies than solution blocks"
    return "\n".join(out)


def test_every_exercise_has_cheats_and_the_series_has_at_least_60_points():
    ids, points = set(), 0
    for source in _chapters():
        cells = build_notebooks.parse(source.read_text(), source.name)
        ids |= set(_exercises(cells))
        points += sum(c.metadata["nbgrader"].get("points", 0) for c in cells if "nbgrader" in c.metadata)
    assert ids == set(CHEATS), f"exercises without cheat cases: {sorted(ids - set(CHEATS))}; " \
                               f"cheats of no exercise: {sorted(set(CHEATS) - ids)}"
    assert all(CHEATS[i] for i in ids) and points >= 60, points


@pytest.fixture
def shell(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.chdir(ROOT / "notebooks")  # where the chapters run
    monkeypatch.setenv("PLOTLY_RENDERER", "plotly_mimetype")
    monkeypatch.setenv("GPTVIZ_STRICT_CLAIMS", "1")
    ip = InteractiveShell.instance()
    monkeypatch.setattr(ip, "enable_gui", lambda gui=None: None, raising=False)  # no event loop: `%matplotlib inline` only
    ip.reset(new_session=True)
    yield ip
    ip.reset(new_session=True)
    import matplotlib.pyplot as plt

    plt.close("all")


def _run(shell, source: str):
    """The exception ``source`` raised in ``shell``, or None."""
    result = shell.run_cell(source, store_history=False, silent=True)
    return result.error_before_exec or result.error_in_exec


@pytest.mark.parametrize("chapter", [p.name for p in _chapters()
                                     if "[solution]" in p.read_text()])
def test_each_solution_passes_and_each_one_line_answer_fails(chapter, shell, capsys):
    cells = build_notebooks.parse((ROOT / "notebooks" / "src" / chapter).read_text(), chapter)
    code = [i for i, c in enumerate(cells) if c.cell_type == "code"]
    exercises = _exercises(cells)
    last = max(end for _, end in exercises.values())
    for i in code:
        if i > last:
            break
        error = _run(shell, cells[i].source)
        assert error is None, f"{chapter} cell {i} failed with the reference solutions: {error!r}"
    for grade_id, (start, end) in exercises.items():
        group = [i for i in code if start < i <= end]  # the cells after the solution, to its last test
        for bodies, failure in CHEATS[grade_id]:
            assert _run(shell, _with(cells[start].source, bodies)) is None, (grade_id, bodies)
            errors = [e for e in (_run(shell, cells[i].source) for i in group) if e is not None]
            assert errors, f"{grade_id}: the answer {bodies} passed its checks"
            assert str(errors[0]).startswith(failure), f"{grade_id}, {bodies}: failed with {errors[0]!r}"
            for i in [start] + group:  # back to the reference solution, for the exercises after it
                assert _run(shell, cells[i].source) is None, (grade_id, i)
    capsys.readouterr()


def test_forbid_switches_off_functions_methods_and_properties_everywhere_and_puts_them_back():
    import torch.nn.functional as F
    from torch.nn.functional import gelu as imported_gelu

    from gptviz.exercises import WriteItYourself, forbid
    from gptviz.tokenizer import get_tokenizer

    tok = get_tokenizer()
    namespace = {"gelu": imported_gelu, "decode": tok.decode}
    originals = (F.gelu, torch.softmax, GPTConfig.__dict__["n_params"])
    with forbid(F.gelu, tok.decode, GPTConfig.n_params, (torch.Tensor, "softmax"), namespace=namespace):
        calls = [lambda: F.gelu(torch.ones(1)), lambda: namespace["gelu"](torch.ones(1)),
                 lambda: torch.nn.GELU()(torch.ones(1)), lambda: tok.decode([1]), lambda: namespace["decode"]([1]),
                 lambda: GPTConfig().n_params, lambda: torch.ones(2).softmax(-1)]
        for call in calls:
            with pytest.raises(WriteItYourself, match="^write it yourself: .* is switched off while your answer"):
                call()
        with pytest.raises(WriteItYourself, match="torch.nn.functional.gelu"):
            F.gelu(torch.ones(1))
        assert torch.softmax(torch.ones(2), -1).sum() == 1  # only what was named is off
    assert (F.gelu, torch.softmax, GPTConfig.__dict__["n_params"]) == originals
    assert namespace["gelu"] is imported_gelu and tok.decode([15496]) == "Hello"
    assert "softmax" not in torch.Tensor.__dict__ and torch.ones(2).softmax(-1).sum() == 1
    with pytest.raises(ZeroDivisionError):  # an error inside the block puts everything back too
        with forbid(F.gelu, namespace={}):
            1 / 0
    assert F.gelu is originals[0]


def test_random_helpers_leave_the_global_random_state_alone():
    from gptviz.exercises import random_model, random_tensor

    torch.manual_seed(3)
    before = torch.rand(2)
    torch.manual_seed(3)
    model, x = random_model(seed=1), random_tensor(2, 3, seed=1)
    assert torch.equal(torch.rand(2), before)
    assert torch.equal(x, random_tensor(2, 3, seed=1)) and not torch.equal(x, random_tensor(2, 3, seed=2))
    ln = model.h[0].ln_1
    assert not torch.equal(ln.weight, torch.ones_like(ln.weight)) and bool((model.h[0].attn.c_attn.bias != 0).all())


def test_forbid_refuses_what_it_cannot_switch_off():
    from gptviz.errors import InputError
    from gptviz.exercises import forbid

    def nowhere():
        return 1

    with pytest.raises(InputError, match="held by no loaded module"):
        with forbid(nowhere, namespace={}):
            pass
    with pytest.raises(InputError, match="has no attribute 'nope'"):
        with forbid((torch.Tensor, "nope")):
            pass
    with pytest.raises(InputError, match="at least one"):
        forbid()
