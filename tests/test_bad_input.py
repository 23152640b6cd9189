"""Whatever a class types: every bad input is a GptvizError whose message names the fix, in the words of
the interface it came through (an argument in Python, a flag on the command line, a control in an
explorer). Each case asserts the error class and a phrase of the fix."""

from __future__ import annotations

import copy
import json
import re
import shutil

import numpy as np
import pytest
import torch

import gptviz
from gptviz import inputs
from gptviz import interventions as iv
from gptviz.__main__ import main
from gptviz.errors import ExportError, GptvizError, InputError, LoadError, TraceTooLargeError
from gptviz.export import export, export_heads
from gptviz.generation import Stepper, generate
from gptviz.sampling import check_seed, distribution
from gptviz.tokenizer import EOT, get_tokenizer
from gptviz.trace import check_budget
from gptviz.viz import bpe_merges, head_heatmap, token_strip
from gptviz.viz.vectors import embedding_map

tok = get_tokenizer()
EOT_TEXT = f"The end.{EOT}Once upon a time"
TOO_LONG = " a" * 200  # the odd model's context holds 128 tokens
HUGE = "a" * (inputs.MAX_TEXT_CHARS + 1)
LOGITS = torch.randn(50257, generator=torch.Generator().manual_seed(0))


def check(call, error, fix):
    """``call()`` raises ``error`` (a GptvizError) whose message matches the regex ``fix``."""
    assert issubclass(error, GptvizError)
    with pytest.raises(error, match=fix):
        call()


# ---- the tokenizer: Python arguments ---------------------------------------------------------
@pytest.mark.parametrize("call, fix", [
    (lambda: tok.encode(b"Hello"), r"decode it first"),
    (lambda: tok.encode(5), r"pass a text such as 'Hello world'"),
    (lambda: tok.encode(None), r"pass a text"),
    (lambda: tok.encode(EOT_TEXT), r"Pass allow_special=True"),
    (lambda: tok.decode(["5"]), r"pass ints such as \[15496, 995\]"),
    (lambda: tok.decode([1.7]), r"never rounded"),
    (lambda: tok.decode([True]), r"pass ints"),
    (lambda: tok.decode([None]), r"pass ints"),
    (lambda: tok.decode(b"Hello"), r"decode the bytes to a str first"),
    (lambda: tok.decode("Hello"), r"pass the text itself"),
    (lambda: tok.decode(5), r"pass a list such as"),
    (lambda: tok.decode([50257]), r"use ids below 50257"),
    (lambda: tok.decode([-1]), r"use ids below 50257"),
    (lambda: tok.decode(np.array([1.0, 2.0])), r"convert them yourself"),
    (lambda: tok.decode(torch.tensor([[1, 2]])), r"pick one row"),
    (lambda: tok.decode(torch.tensor([True])), r"convert them yourself"),
    (lambda: tok.token_str(50300), r"use ids below"),
    (lambda: tok.token_str(2.0), r"never rounded"),
    (lambda: tok.tokens([1, "x"]), r"pass ints"),
    (lambda: tok.pieces(b"x"), r"decode it first"),
    (lambda: tok.bpe_steps("Hello world"), r"use tokenizer.pieces\(text\) to cut it first"),
    (lambda: tok.bpe_steps("a" * 2000), r"Use tokenizer.encode\(piece\)"),
    (lambda: tok.bpe_steps(7), r"pass a text"),
])
def test_tokenizer(call, fix):
    check(call, InputError, fix)


# ---- traces ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, fix", [
    (5, r"pass a list such as \[15496, 995\], or a str"),
    (None, r"give at least one character"),
    (b"Hello", r"decode the bytes to a str first"),
    ([1.7, 2.2], r"never rounded"),
    ([True, False], r"pass ints"),
    (["5"], r"pass ints"),
    (np.array([1.5]), r"convert them yourself"),
    (torch.zeros(2, 3, dtype=torch.long), r"pick one row"),
    ("", r"give at least one character, or the ids \[50256\]"),
    ([], r"give at least one id"),
    ([50257], r"use ids below 50257"),
    ([-3], r"use ids below"),
    (EOT_TEXT, r"pass allow_special=True"),
    (TOO_LONG, r"model.tokenizer.encode\(text\)\[-128:\]"),
    (list(range(129)), r"shorten it, or pass its last 128 tokens"),
    (HUGE, r"pass a shorter text, e.g. its end: text\[-100000:\]"),
])
def test_trace_input(odd_model, text, fix):
    check(lambda: odd_model.trace(text), InputError, fix)


@pytest.mark.parametrize("kwargs, error, fix", [
    (dict(names=5), InputError, r"such as \['blocks.\*.attn.pattern', 'logits'\]"),
    (dict(names=[5]), InputError, r"names as strings"),
    (dict(names=["blocks.9.attn.pattern"]), gptviz.errors.ActivationNameError, r"for i in 0..2"),
    (dict(names="attention"), gptviz.errors.ActivationNameError, r"Valid names"),
    (dict(max_bytes="lots"), InputError, r"give bytes as a number \(4000000000, 4e9\) or with a unit"),
    (dict(max_bytes=-1), InputError, r"give a finite size >= 0"),
    (dict(max_bytes=True), InputError, r"max_bytes must be a number of bytes"),
    (dict(max_bytes=float("inf")), InputError, r"finite size"),
    (dict(allow_special="yes"), InputError, r"allow_special=True"),
    (dict(edits=5), InputError, r"takes a dict"),
    (dict(edits={"logits": 5}), InputError, r"must be a function"),
])
def test_trace_settings(odd_model, kwargs, error, fix):
    check(lambda: odd_model.trace("Hello there", **kwargs), error, fix)


def test_budget_advice_fits_the_model(odd_model):
    cfg = odd_model.config  # 3 layers: the last is blocks.2
    full = gptviz.trace_nbytes(cfg, 20)
    with pytest.raises(TraceTooLargeError, match=r"^A full trace .* names=\['blocks.2.attn.pattern'\]") as err:
        odd_model.trace(list(range(20)), max_bytes=full // 2)
    assert "blocks.5" not in str(err.value) and "use at most" in str(err.value)
    patterns = gptviz.trace_nbytes(cfg, 20, "blocks.*.attn.pattern")
    with pytest.raises(TraceTooLargeError, match=r"^A filtered trace of 20 tokens.*use at most 1[0-9] tokens") as err:
        odd_model.trace(list(range(20)), names="blocks.*.attn.pattern", max_bytes=patterns - 1)
    assert "names=['blocks.*.attn.pattern']" not in str(err.value)  # not the filter already in use
    assert "max_bytes='1MiB'" in str(err.value)


@pytest.mark.parametrize("value, fix", [
    ("lots", r"GPTVIZ_MAX_TRACE_BYTES='lots' is not a size: give bytes as a number"),
    ("4 parsecs", r"GPTVIZ_MAX_TRACE_BYTES='4 parsecs' is not a size"),
    ("-5", r"GPTVIZ_MAX_TRACE_BYTES='-5' is not a size"),
    ("1e999", r"GPTVIZ_MAX_TRACE_BYTES='1e999': give a finite size"),
])
def test_budget_variable_is_named_when_unreadable(odd_model, monkeypatch, value, fix):
    monkeypatch.setenv("GPTVIZ_MAX_TRACE_BYTES", value)
    check(lambda: odd_model.trace("Hello"), InputError, fix)


@pytest.mark.parametrize("value, expected", [("4e9", 4 * 10**9), ("4GiB", 4 * 2**30), ("512 MiB", 512 * 2**20),
                                             ("4G", 4 * 2**30), ("2GB", 2 * 10**9), ("1000", 1000)])
def test_budget_variable_parses_sizes(monkeypatch, value, expected):
    monkeypatch.setenv("GPTVIZ_MAX_TRACE_BYTES", value)
    assert gptviz.trace.trace_budget() == expected


@pytest.mark.parametrize("via, fix", [
    (inputs.CLI, r"shorten the text to at most [0-9,]+ tokens or set the environment variable "
                 r"GPTVIZ_MAX_TRACE_BYTES=5GiB"),
    (inputs.EXPLORER, r"shorten the text in the box to at most [0-9,]+ tokens or set .*\(os.environ in a cell\)"),
    (inputs.PYTHON, r"use at most [0-9,]+ tokens or raise the budget \(max_bytes='5GiB'"),
])
def test_budget_advice_speaks_the_interface(via, fix):
    xl = gptviz.PRESETS["gpt2-xl"]  # its attention patterns alone at 1024 tokens: ~5 GB
    check(lambda: check_budget(xl, 1024, ["blocks.*.attn.pattern"], via=via), TraceTooLargeError, fix)


# ---- generation --------------------------------------------------------------------------------
@pytest.mark.parametrize("prompt, kwargs, fix", [
    (5, {}, r"pass a list such as"),
    (b"Once", {}, r"decode the bytes"),
    ("", {}, r"give at least one character"),
    (EOT_TEXT, {}, r"pass allow_special=True"),
    (TOO_LONG, {}, r"pass truncate=True to keep its last 127 tokens"),
    ([1.5, 2.0], {}, r"never rounded"),
    ("Once", dict(seed=2**64), r"seed % 2\*\*64"),
    ("Once", dict(seed=-1), r"e.g. seed=0"),
    ("Once", dict(seed=1.9), r"e.g. seed=0"),
    ("Once", dict(seed="7"), r"e.g. seed=0"),
    ("Once", dict(seed=True), r"e.g. seed=0"),
    ("Once", dict(max_new_tokens=0), r"e.g. max_new_tokens=50"),
    ("Once", dict(max_new_tokens=2.5), r"e.g. max_new_tokens=50"),
    ("Once", dict(max_new_tokens=True), r"e.g. max_new_tokens=50"),
    ("Once", dict(max_new_tokens="5"), r"e.g. max_new_tokens=50"),
    ("Once", dict(temperature=-1), r"try 1.0"),
    ("Once", dict(temperature=float("nan")), r"try 1.0"),
    ("Once", dict(temperature=float("inf")), r"try 1.0"),
    ("Once", dict(temperature="hot"), r"a number >= 0"),
    ("Once", dict(temperature=True), r"a number >= 0"),
    ("Once", dict(top_k=0), r"try top_k=40"),
    ("Once", dict(top_k=1.5), r"or None for no top-k"),
    ("Once", dict(top_k=True), r"or None for no top-k"),
    ("Once", dict(top_p=0.0), r"e.g. top_p=0.9"),
    ("Once", dict(top_p=1.5), r"e.g. top_p=0.9"),
    ("Once", dict(top_p=float("nan")), r"e.g. top_p=0.9"),
    ("Once", dict(top_p="0.9"), r"or None for no top-p"),
    ("Once", dict(greedy="yes"), r"e.g. greedy=True"),
    ("Once", dict(stop_at_eos="no"), r"e.g. stop_at_eos=True"),
    ("Once", dict(truncate=1), r"e.g. truncate=True"),
    ("Once", dict(use_cache=None), r"e.g. use_cache=True"),
    ("Once", dict(temperature=1e-40), r"use temperature=0 for greedy"),
])
def test_generate(odd_model, prompt, kwargs, fix):
    check(lambda: generate(odd_model, prompt, max_new_tokens=kwargs.pop("max_new_tokens", 3), **kwargs),
          InputError, fix)


@pytest.mark.parametrize("kwargs, fix", [
    (dict(prompt=list(range(128))), r"pass truncate=True"),
    (dict(prompt="Once", room=0), r"keep between 1 and 127 positions free"),
    (dict(prompt="Once", room=128, truncate=True), r"keep between 1 and 127"),
    (dict(prompt="Once", room=2.5), r"keep between 1 and 127"),
    (dict(prompt="Once", seed=1.9), r"e.g. seed=0"),
    (dict(prompt=5), r"pass a list such as"),
    (dict(prompt="Once", record="yes"), r"e.g. record=True"),
    (dict(prompt="Once", max_new_tokens=-2), r"e.g. max_new_tokens=50"),
])
def test_stepper_arguments(odd_model, kwargs, fix):
    check(lambda: Stepper(odd_model, **kwargs), InputError, fix)


def test_stepper_steps_that_cannot_happen(odd_model):
    stepper = Stepper(odd_model, "Once", max_new_tokens=1)
    check(stepper.back, InputError, r"no step to undo")
    stepper.step()
    check(stepper.step, InputError, r"call back\(\) to undo the last step or reset\(\)")
    check(Stepper(odd_model, "Once", use_cache=False).cache_rows, InputError, r"use_cache=True")


# ---- sampling ----------------------------------------------------------------------------------
@pytest.mark.parametrize("call, fix", [
    (lambda: distribution(LOGITS[None]), r"take logits\[0, -1\]"),
    (lambda: distribution(torch.full((5,), float("nan"))), r"check the weights and the input"),
    (lambda: distribution(torch.tensor([1.0, float("inf")])), r"or -inf for a banned token"),
    (lambda: distribution(torch.full((5,), float("-inf"))), r"at least one token must stay possible"),
    (lambda: distribution(LOGITS).draws(-1), r"e.g. draws\(100\)"),
    (lambda: distribution(LOGITS).draws(1.5), r"e.g. draws\(100\)"),
    (lambda: distribution(LOGITS).draws(10**9), r"from 0 to 1,000,000"),
    (lambda: distribution(LOGITS).draw(2**64), r"seed % 2\*\*64"),
    (lambda: distribution(LOGITS).draw(0.5), r"e.g. seed=0"),
    (lambda: distribution(LOGITS).top(1.5), r"e.g. top\(10\)"),
    (lambda: distribution(LOGITS).top("3"), r"e.g. top\(10\)"),
    (lambda: check_seed(None, allow_none=False), r"e.g. seed=0"),
])
def test_sampling(call, fix):
    check(call, InputError, fix)


@pytest.mark.parametrize("temperature", [1e-40, 1e-46, 2e-45])
def test_a_temperature_too_small_for_float32_is_refused_never_nan(temperature):
    """Dividing all-negative logits by 1e-40 gives -inf everywhere: the softmax was NaN and a draw
    fell outside the vocabulary (id 3 of 3)."""
    check(lambda: distribution([-1.0, -2.0, -3.0], temperature=temperature), InputError,
          r"use temperature=0 for greedy decoding")


def test_a_small_but_representable_temperature_is_greedy_in_effect():
    d = distribution([-1.0, -2.0, -3.0], temperature=1.18e-38)  # just above float32's smallest normal
    assert d.probs.tolist() == [1.0, 0.0, 0.0] and d.draws(50, seed=0).tolist() == [0] * 50


def test_generate_at_a_tiny_temperature_on_all_negative_logits_is_refused():
    from gptviz.config import GPTConfig
    from gptviz.model import GPT

    model = GPT(GPTConfig(n_ctx=16, d_model=8, n_layer=1, n_head=2)).init_weights(seed=0).eval()
    with torch.no_grad():  # every logit is ln_f's bias (ones) times a row of -|wte|: negative
        model.ln_f.weight.zero_()
        model.ln_f.bias.fill_(1.0)
        model.wte.weight.abs_().neg_()
    assert (model(torch.tensor([[0]])) < 0).all()
    check(lambda: generate(model, [0], max_new_tokens=2, temperature=1e-40), InputError,
          r"use temperature=0 for greedy decoding")


# ---- views ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, fix", [
    (lambda m: embedding_map(m, []), r"give at least two"),
    (lambda m: embedding_map(m, [" king"]), r"give at least two"),
    (lambda m: embedding_map(m, "king"), r"a list of words or token ids"),
    (lambda m: embedding_map(m, [" king", "two words"]), r"one token each"),
    (lambda m: embedding_map(m, [1.5, 2]), r"never rounded"),
    (lambda m: embedding_map(m, [True, 3]), r"pass ints"),
    (lambda m: embedding_map(m, [50257, 3]), r"use ids below"),
    (lambda m: token_strip(""), r"give at least one character"),
    (lambda m: token_strip([1.5]), r"never rounded"),
    (lambda m: token_strip(EOT_TEXT), r"pass allow_special=True"),
    (lambda m: token_strip(list(range(3000))), r"pass a part of them, e.g. ids\[:2000\]"),
    (lambda m: bpe_merges("a" * 100), r"draw a shorter piece, or list the steps"),
    (lambda m: bpe_merges("Hello world"), r"use tokenizer.pieces\(text\)"),
    (lambda m: head_heatmap(m.trace("Hello there"), 7, 0), r"layer"),
])
def test_views(odd_model, make, fix):
    check(lambda: make(odd_model), InputError, fix)


# ---- export ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def figure(odd_model):
    return head_heatmap(odd_model.trace("Hello there, robot"), 0, 0)


@pytest.mark.parametrize("kwargs, fix", [
    (dict(width=0), r"width must be a whole number of pixels >= 1"),
    (dict(width=-5), r"width must be a whole number of pixels >= 1"),
    (dict(width=1.5), r"width must be a whole number of pixels >= 1"),
    (dict(height=True), r"height must be a whole number of pixels"),
    (dict(dpi=0), r"try dpi=100"),
    (dict(dpi=float("nan")), r"try dpi=100"),
    (dict(dpi="high"), r"dpi must be a number > 0"),
    (dict(scale=0), r"scale must be a number > 0"),
])
def test_export_sizes(figure, tmp_path, kwargs, fix):
    check(lambda: export(figure, tmp_path / "f.png", **kwargs), InputError, fix)
    assert list(tmp_path.iterdir()) == []


def test_export_paths(figure, odd_model, tmp_path):
    check(lambda: export(figure, tmp_path / "f.bmp"), InputError, r"Use a file name ending in .png")
    check(lambda: export(odd_model, tmp_path / "f.png"), InputError, r"matplotlib or plotly figure")
    (tmp_path / "taken.png").mkdir()
    check(lambda: export(figure, tmp_path / "taken.png"), ExportError, r"Save to a folder you can write to")
    (tmp_path / "file").write_text("x")
    check(lambda: export(figure, tmp_path / "file" / "f.png"), ExportError, r"Save to a folder you can write to")
    check(lambda: export_heads(odd_model.trace("Hi"), tmp_path / "file"), InputError, r"needs a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "taken.png"]  # no temporary file left


# ---- loading -------------------------------------------------------------------------------------
@pytest.mark.parametrize("config, fix", [
    ([1, 2, 3], r"save the checkpoint again"),
    ("gpt2", r"save the checkpoint again"),
    ({"n_layer": "two"}, r"n_layer must be a whole number >= 1, got 'two'; fix config.json \(GPT-2 small has \"n_layer\": 12\)"),
    ({"n_embd": None}, r"n_embd must be a whole number >= 1, got None; fix config.json"),
    ({"n_head": 0}, r"n_head must be a whole number >= 1, got 0"),
    ({"n_head": 2.0}, r"n_head must be a whole number"),
    ({"n_layer": True}, r"n_layer must be a whole number"),
    ({"vocab_size": 100}, r"only a checkpoint with \"vocab_size\": 50257 can be loaded"),
    ({"vocab_size": 50304}, r"\"vocab_size\": 50257"),
    ({"n_head": 7}, r"divisible by n_head.*fix config.json"),
    ({"layer_norm_epsilon": "small"}, r"GPT-2 uses 1e-05"),
    ({"n_positions": -1}, r"n_positions must be a whole number >= 1"),
    ({"model_type": "llama"}, r"gpt2, gpt2-medium"),
])
def test_configs_refused_at_load(odd_checkpoint, tmp_path, config, fix):
    shutil.copy(odd_checkpoint / "model.safetensors", tmp_path)
    if isinstance(config, dict):
        config = {**json.loads((odd_checkpoint / "config.json").read_text()), **config}
    (tmp_path / "config.json").write_text(json.dumps(config))
    check(lambda: gptviz.load(tmp_path, device="cpu"), LoadError, fix)


def test_missing_field_is_named(odd_checkpoint, tmp_path):
    config = json.loads((odd_checkpoint / "config.json").read_text())
    del config["n_head"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    check(lambda: gptviz.load(tmp_path), LoadError, r"n_head must be .* got nothing \(the field is missing\)")


@pytest.mark.parametrize("content, fix", [
    ([torch.zeros(2)], r"save the weights with torch.save\(model.state_dict\(\), ...\)"),
    ({"wte.weight": [1, 2]}, r"save the weights with torch.save"),
    ({3: torch.zeros(2)}, r"save the weights with torch.save"),
])
def test_bin_that_is_not_a_state_dict(odd_checkpoint, tmp_path, content, fix):
    shutil.copy(odd_checkpoint / "config.json", tmp_path)
    torch.save(content, tmp_path / "pytorch_model.bin")
    check(lambda: gptviz.load(tmp_path), LoadError, fix)


@pytest.mark.parametrize("name, device, error, fix", [
    ("no-such-model", "cpu", LoadError, r"Known names: gpt2"),
    ("gptviz-stories", "gpu", LoadError, r"not a device name; this machine has cpu"),
    ("gptviz-stories", 3.5, LoadError, r"use device='cpu'"),
    ("gptviz-stories", "cuda", LoadError, r"not on this machine .*use device='cpu' \(or leave device out\)"),
    ("gptviz-stories", "meta", LoadError, r"holds shapes but no numbers"),
    ("gptviz-stories", "mps", LoadError, r"'mps' is not on this machine.*this machine has cpu"),
    ("gptviz-stories", "xla", LoadError, r"'xla' is not on this machine"),
    ("gptviz-stories", "cpu:7", LoadError, r"'cpu:7' is not on this machine"),
])
def test_names_and_devices(name, device, error, fix):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU: device='cuda' is valid here")
    check(lambda: gptviz.load(name, device=device), error, fix)


@pytest.mark.parametrize("dtype, expected", [(None, torch.float32), ("bfloat16", torch.bfloat16),
                                             (torch.float64, torch.float64), ("torch.float16", torch.float16)])
def test_load_takes_the_four_dtypes_by_name_or_as_torch_dtypes(dtype, expected):
    model = gptviz.load(dtype=dtype, device="cpu:0")
    assert {p.dtype for p in model.parameters()} == {expected} and model.device == torch.device("cpu")


@pytest.mark.parametrize("dtype", ["int8", torch.int64, "fp8", 32])
def test_load_refuses_other_dtypes(dtype):
    check(lambda: gptviz.load(dtype=dtype, device="cpu"), LoadError, r"use one of float32, float16, bfloat16, float64")


# ---- checkpoints that are not what they seem: refused before any memory is taken -----------------
def _copy_checkpoint(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_config_json_that_is_a_folder(odd_checkpoint, tmp_path):
    bad = _copy_checkpoint(odd_checkpoint, tmp_path / "ck")
    (bad / "config.json").unlink()
    (bad / "config.json").mkdir()
    check(lambda: gptviz.load(bad), LoadError, r"config.json is a folder, not a file")


def test_safetensors_that_is_a_folder_is_not_called_corrupt(odd_checkpoint, tmp_path):
    bad = _copy_checkpoint(odd_checkpoint, tmp_path / "ck")
    (bad / "model.safetensors").unlink()
    (bad / "model.safetensors").mkdir()
    check(lambda: gptviz.load(bad), LoadError, r"model.safetensors is a folder, not a file")


@pytest.mark.parametrize("name", ["config.json", "model.safetensors"])
def test_a_symlink_loop_is_named_as_one(odd_checkpoint, tmp_path, name):
    bad = _copy_checkpoint(odd_checkpoint, tmp_path / "ck")
    (bad / name).unlink()
    (bad / name).symlink_to(bad / name)
    check(lambda: gptviz.load(bad), LoadError, r"symbolic link that leads nowhere .*points back at itself")


def test_an_absurd_width_is_refused_from_config_json(odd_checkpoint, tmp_path):
    bad = _copy_checkpoint(odd_checkpoint, tmp_path / "ck")
    config = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps({**config, "n_embd": 10**12}))
    check(lambda: gptviz.load(bad), LoadError, r"n_embd is 1,000,000,000,000, larger than any GPT-2 or GPT-3")


def test_shapes_are_checked_from_the_header_before_allocating(odd_checkpoint, tmp_path, monkeypatch):
    """16,384 positions beside 128-row weights: refused from the safetensors header, before the model
    (688 MiB of causal masks at that size) is built."""
    import gptviz.hub as hub

    bad = _copy_checkpoint(odd_checkpoint, tmp_path / "ck")
    config = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps({**config, "n_positions": 16_384, "n_ctx": 16_384}))
    real = hub.GPT

    def shapes_only(*args, **kwargs):  # a model on the meta device takes no memory; any other would
        if torch.empty(0).device.type != "meta":
            pytest.fail("the model was allocated before the header was read")
        return real(*args, **kwargs)
    monkeypatch.setattr(hub, "GPT", shapes_only)
    monkeypatch.setattr(hub, "read_state_dict", lambda folder: pytest.fail("read every tensor first"))
    with pytest.raises(LoadError, match=r"wpe.weight has shape \[128, 96\] but config.json implies \[16384, 96\]"):
        hub.load_checkpoint(bad)


# ---- the command line: one line, the fix as a flag ------------------------------------------------
def run_cli(capsys, *args) -> tuple[int, str]:
    try:
        code = main([str(a) for a in args])
    except SystemExit as done:  # argparse: a malformed command line
        code = done.code
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("gptviz")
    return code, err


@pytest.mark.parametrize("args, code, fix", [
    (["tokens", EOT_TEXT], 1, r"add --allow-special"),
    (["tokens", ""], 1, r"give a non-empty text argument"),
    (["tokens", TOO_LONG], 1, r"shorten the text to at most 128 tokens"),
    (["tokens", HUGE[:200] * 600], 1, r"pass a shorter text"),
    (["attention", "Hi", "--layer", "9", "--head", "0"], 1, r"layer 9 is out of range"),
    (["attention", "Hi", "--head", "0"], 1, r"--head needs --layer"),
    (["attention", "Hi", "--dpi", "0"], 2, r"try --dpi 100"),
    (["attention", "Hi", "--dpi", "nan"], 2, r"try --dpi 100"),
    (["attention", "Hi", "--dpi", "high"], 2, r"try --dpi 100"),
    (["attention", "Hi", "--width", "0"], 2, r"try --width 800"),
    (["attention", "Hi", "--width", "1.5"], 2, r"try --width 800"),
    (["attention", "Hi", "--height", "-3"], 2, r"try --height 600"),
    (["attention", "Hi", "--layer", "one"], 2, r"see gptviz attention --help"),
    (["attention", "Hi", "--dpi", "1e-300"], 2, r"outside 10 to 1,200; try --dpi 100"),
    (["attention", "Hi", "--width", str(10**9)], 2, r"outside 50 to 20,000; try --width 800"),
    (["attention", "Hi", "--height", "20001"], 2, r"try --height 600"),
    (["attention", "Hi", "--all", "--layer", "0", "--head", "0"], 1, r"--head draws one head, --all every head"),
    (["attention", "Hi", "--all", "--lines"], 1, r"--lines draws one head, --all every head"),
    (["attention", "Hi", "--format", "svg"], 1, r"--format sets the file type of each head with --all"),
    (["tokens", "-hello"], 2, r"a text that starts with '-' goes last, after --"),
])
def test_cli_input(odd_checkpoint, tmp_path, capsys, args, code, fix):
    got, err = run_cli(capsys, *args, "--model", odd_checkpoint, "--out", tmp_path / "x.png")
    assert got == code and re.search(fix, err), err
    assert not (tmp_path / "x.png").exists()


def test_cli_text_after_double_dash(odd_checkpoint, tmp_path, capsys):
    assert main(["tokens", "--model", str(odd_checkpoint), "--out", str(tmp_path / "t.png"), "--", "-hello"]) == 0
    assert (tmp_path / "t.png").stat().st_size > 0


def test_cli_empty_model_is_refused_not_the_current_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a folder that would be read as a checkpoint
    for args in (["tokens", "Hi", "--model", "", "--out", "t.png"], ["trace-size", "--model", " "]):
        code, err = run_cli(capsys, *args)
        assert code == 2 and "--model is empty: give a name such as gpt2" in err, err


@pytest.mark.parametrize("name", ["heads.png", "heads.htm", "heads.svg"])
def test_cli_all_heads_to_a_file_name_that_is_not_html(odd_checkpoint, tmp_path, capsys, name):
    """--all --out heads.png used to make a folder called heads.png."""
    code, err = run_cli(capsys, "attention", "Hi", "--all", "--model", odd_checkpoint, "--out", tmp_path / name)
    assert code == 1 and "is neither" in err and "heads.html" in err
    assert not (tmp_path / name).exists()


def test_a_read_only_page_is_not_replaced(odd_model, tmp_path):
    page = tmp_path / "heads.html"
    page.write_text("my annotated page")
    page.chmod(0o444)
    check(lambda: export_heads(odd_model.trace("Hi there"), page), ExportError, r"read-only, so it was left as it is")
    assert page.read_text() == "my annotated page"


def test_a_nul_byte_in_a_path_is_a_clear_error(odd_model, figure, tmp_path):
    check(lambda: export(figure, tmp_path / "a\x00b.png"), InputError, r"holds a NUL byte")
    check(lambda: export_heads(odd_model.trace("Hi"), tmp_path / "a\x00b"), InputError, r"holds a NUL byte")


def test_a_heads_page_refuses_nan_weights():
    from gptviz.viz.heads_page import heads_page

    patterns = torch.full((1, 1, 2, 2), 0.5)
    patterns[0, 0, 1, 0] = float("nan")
    check(lambda: heads_page(patterns, ["a", "b"]), InputError, r"hold NaN or infinite weights")


def test_cli_files(odd_checkpoint, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, err = run_cli(capsys, "tokens", "Hi", "--model", odd_checkpoint, "--out", tmp_path / "file" / "t.png")
    assert code == 1 and "Save to a folder you can write to" in err
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(odd_checkpoint / "model.safetensors", bad)
    (bad / "config.json").write_text('{"model_type": "gpt2", "n_layer": "two"')
    code, err = run_cli(capsys, "tokens", "Hi", "--model", bad, "--out", tmp_path / "t.png")
    assert code == 1 and "not valid JSON" in err
    (bad / "config.json").write_text('[1, 2]')
    code, err = run_cli(capsys, "trace-size", "--model", bad)
    assert code == 1 and "save the checkpoint again" in err
    code, err = run_cli(capsys, "trace-size", "--model", "gpt2", "--tokens", "0")
    assert code == 2 and "try --tokens 1024" in err
    code, err = run_cli(capsys, "lens", "Hi", "--model", "no-such-model", "--out", tmp_path / "l.png")
    assert code == 1 and "Known names" in err


# ---- the explorers: the fix is a control ------------------------------------------------------------
EXPLORERS = ["TokenizerExplorer", "EmbeddingExplorer", "AttentionExplorer", "FeedForwardExplorer",
             "LogitLensExplorer", "SamplingExplorer", "GenerationStepper", "AblationExplorer"]


def _explorer(name, model):
    from gptviz import widgets

    explorer = getattr(widgets, name)(model)
    box = explorer.prompt if name == "GenerationStepper" else explorer.text
    return explorer, box


@pytest.mark.parametrize("name", EXPLORERS)
@pytest.mark.parametrize("text, fix", [
    (EOT_TEXT, r"tick “read &lt;\|endoftext\|&gt; as a token”"),
    ("", r"type at least one character in the box"),
    (HUGE, r"paste a shorter (text|prompt) into the box"),
])
def test_explorer_text(odd_model, name, text, fix):
    explorer, box = _explorer(name, odd_model)
    runs = explorer.n_forward
    box.value = text
    assert "Text not applied" in explorer.message.value and re.search(fix, explorer.message.value)
    assert explorer.n_forward == runs and "allow_special" not in explorer.message.value
    assert explorer.special in explorer.children  # the checkbox the message names is there to tick
    assert explorer.special.layout.display == ("" if EOT in text else "none")


@pytest.mark.parametrize("name", EXPLORERS[1:5])
def test_explorer_too_long(odd_model, name):
    explorer, box = _explorer(name, odd_model)
    box.value = TOO_LONG
    assert "shorten the text in the box to at most 128 tokens" in explorer.message.value
    assert "tokenizer.encode" not in explorer.message.value


def test_explorer_limit_of_its_own(odd_model, monkeypatch):
    from gptviz.widgets import LogitLensExplorer

    monkeypatch.setattr(LogitLensExplorer, "token_limit", (10, "the logit lens explorer reads at most 10"))
    explorer = LogitLensExplorer(odd_model, "Hello there")
    explorer.text.value = " a" * 11
    assert "but the logit lens explorer reads at most 10: shorten the text in the box to at most 10 tokens" \
        in explorer.message.value


def test_explorer_tokenizer_export_of_a_long_piece(odd_model, tmp_path):
    from gptviz.widgets import TokenizerExplorer

    explorer = TokenizerExplorer(odd_model, "x" + "ab" * 40, folder=str(tmp_path))
    explorer.export_bar.view.value = "merges"
    assert explorer.export_bar.save() is None
    assert "pick a shorter one in the piece menu" in explorer.export_bar.where.value
    assert list(tmp_path.iterdir()) == []


def test_explorer_over_the_memory_budget(odd_model, monkeypatch):
    from gptviz.widgets import AttentionExplorer

    from gptviz.widgets.attention import NAMES

    explorer = AttentionExplorer(odd_model, "Hello there")
    monkeypatch.setenv("GPTVIZ_MAX_TRACE_BYTES", str(gptviz.trace_nbytes(odd_model.config, 3, NAMES)))
    explorer.text.value = "A longer text than before, please."
    assert "shorten the text in the box" in explorer.message.value
    assert "GPTVIZ_MAX_TRACE_BYTES" in explorer.message.value and "names=" not in explorer.message.value



# ---- a hub name with no network: a clear error within 3 s ----------------------------------------
@pytest.fixture
def no_cache_online_mode(tmp_path, monkeypatch):
    """An empty hub cache and HF_HUB_OFFLINE unset, as on a student's laptop that lost its network."""
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", False)
    return c


def _load_timed(name):
    import time

    start = time.perf_counter()
    with pytest.raises(LoadError) as err:
        gptviz.load(name)
    return time.perf_counter() - start, str(err.value)


def test_hub_name_without_network_fails_fast(no_cache_online_mode, monkeypatch):
    monkeypatch.setattr(no_cache_online_mode, "ENDPOINT", "https://hub.invalid")  # a name that never resolves
    seconds, message = _load_timed("gpt2")
    assert seconds < 3 and "cannot be reached" in message and "use the bundled offline model" in message


def test_hub_that_never_answers_fails_fast(no_cache_online_mode, monkeypatch):
    import socket
    import time

    def silent(*args, **kwargs):  # a network that drops every packet: the connection times out late
        time.sleep(5)
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket, "create_connection", silent)
    seconds, message = _load_timed("distilgpt2")
    assert seconds < 3 and "did not answer within 2 s" in message and "copy a cached folder" in message


def test_hub_that_takes_the_connection_and_never_answers(no_cache_online_mode, monkeypatch):
    """A server (or proxy) on 127.0.0.1 that accepts and then says nothing: load() used to wait on it
    for over 90 s. Now one request is given ANSWER_SECONDS (1 s here), and the error says so."""
    import socket
    import threading

    import gptviz.hub as hub

    server = socket.create_server(("127.0.0.1", 0))
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass
    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setattr(no_cache_online_mode, "ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
    monkeypatch.setattr(hub, "ANSWER_SECONDS", 1.0)
    try:
        seconds, message = _load_timed("gpt2")
    finally:
        stop.set()
        for conn in held:
            conn.close()
        server.close()
    assert seconds < 30 and held, (seconds, message)
    assert "took the connection but sent no answer within 1 s" in message and "bundled offline model" in message


# ---- lone surrogates: read as U+FFFD by every entry point, and said so where a person reads ----------
def test_lone_surrogates_are_read_one_way_everywhere(odd_model):
    from gptviz.widgets import TokenizerExplorer

    text = "caf\ud800 ok"
    mended = "caf\ufffd ok"
    assert tok.encode(text) == tok.encode(mended) == odd_model.trace(text).ids
    assert tok.pieces(text) == tok.pieces(mended) and odd_model.trace(text).text == mended
    assert tok.pieces(text) == ["caf", "\ufffd", " ok"]  # U+FFFD is a symbol: a piece of its own
    assert tok.bpe_steps(" \ud800")[-1] == tok.bpe_steps(" \ufffd")[-1]
    assert bpe_merges(" \ud800") is not None
    assert tok.encode("\ud83d\ude00") == tok.encode("😀")  # a pair is the character it encodes
    explorer = TokenizerExplorer(odd_model, text)
    assert "lone surrogate" in explorer.message.value and "U+FFFD" in explorer.message.value
    assert "Text not applied" not in explorer.message.value and explorer.pieces[-1] == " ok"


# ---- patching's arguments: positions= and the sweep's batch in the trace budget ----------------------
PATCH_CLEAN = "One day Lily and Tom went to the park. Lily gave the ball to"
PATCH_CORRUPT = "One day Tom and Lily went to the park. Tom gave the ball to"


@pytest.mark.parametrize("positions, words", [
    ([], "got an empty list: pass positions=None"),
    (1.0, "got 1.0"),
    ([2, 1.5], "got 1.5"),
    ("3", "got '3'"),
    ([True], "got True"),
    (np.float64(2), "np.float64(2.0)"),
])
def test_patch_positions_refused_clearly(odd_model, positions, words):
    from gptviz.interventions import patch

    with pytest.raises(InputError, match=re.escape(words)) as err:
        patch(odd_model, PATCH_CLEAN, PATCH_CORRUPT, "blocks.0.resid_post", positions=positions)
    assert "positions= takes positions from 0 to" in str(err.value)


def test_patch_positions_take_numpy_ints(odd_model):
    from gptviz.interventions import patch

    names = "blocks.1.resid_post"
    want = patch(odd_model, PATCH_CLEAN, PATCH_CORRUPT, names, positions=[3])["logits"]
    assert torch.equal(patch(odd_model, PATCH_CLEAN, PATCH_CORRUPT, names, positions=np.int64(3))["logits"], want)
    assert torch.equal(patch(odd_model, PATCH_CLEAN, PATCH_CORRUPT, names, positions=np.array([3, -1]))["logits"],
                       patch(odd_model, PATCH_CLEAN, PATCH_CORRUPT, names, positions=[3, 14])["logits"])


def test_patch_sweep_runs_in_batches_the_budget_allows():
    """1,024 tokens on a 12-head model: a heads sweep is 12 copies of a block whose attention alone
    holds 2 x 12 x 1,024 x 1,024 floats (96 MiB) per copy. Under a 300 MiB budget it runs in batches of
    copies that fit (counted at the block, from outside), with the same scores as in larger batches.
    The batches used to be refused with advice naming a max_bytes= that patch_sweep did not take."""
    from gptviz.config import GPTConfig
    from gptviz.interventions import patch_sweep
    from gptviz.model import GPT

    model = GPT(GPTConfig(n_ctx=1024, d_model=48, n_layer=1, n_head=12, name="wide")).init_weights(seed=0)
    clean, corrupt = [300 + i % 40 for i in range(1024)], [300 + i % 40 for i in range(1023)] + [301]
    one_copy = gptviz.trace_nbytes(model.config, 1024, ["blocks.0.*"])  # what one copy holds in the block
    sizes = []
    hook = model.h[0].register_forward_pre_hook(lambda module, args: sizes.append(args[0].shape[0]))
    try:
        small = patch_sweep(model, clean, corrupt, 300, 301, what="heads", max_bytes="300MiB")
        small_sizes, sizes[:] = list(sizes), []
        large = patch_sweep(model, clean, corrupt, 300, 301, what="heads", max_bytes="700MiB")
    finally:
        hook.remove()
    assert small_sizes[:2] == sizes[:2] == [1, 1]  # the clean and corrupt runs: one sequence each
    assert sum(small_sizes[2:]) == sum(sizes[2:]) == 12 and len(small_sizes) > len(sizes) > 3
    assert max(small_sizes) * one_copy <= 300 * 2**20 and max(sizes) * one_copy <= 700 * 2**20
    assert small.shape == (1, 12)
    torch.testing.assert_close(small, large, atol=1e-5, rtol=1e-5)


def test_patch_sweep_budget_is_its_own_argument(odd_model):
    """An unreadable budget is named as patch_sweep's argument."""
    from gptviz.interventions import patch_sweep

    check(lambda: patch_sweep(odd_model, PATCH_CLEAN, PATCH_CORRUPT, " Tom", " Lily", max_bytes="lots"),
          InputError, r"give bytes as a number")


# ---- indices: accepted or refused the same way by the views and the interventions -------------------
def _index_users(model, i):
    """Every public call that takes a layer, head or position index, given ``i`` for it."""
    from gptviz import interventions as iv

    tr = model.trace(PATCH_CLEAN)
    return {
        "head_heatmap(layer)": lambda: head_heatmap(tr, i, 0),
        "head_heatmap(head)": lambda: head_heatmap(tr, 0, i),
        "ablate(heads=)": lambda: iv.ablate(model, PATCH_CLEAN, heads=[(i, 0)]),
        "ablate(mlps=)": lambda: iv.ablate(model, PATCH_CLEAN, mlps=[i]),
        "ablation_edits(heads=)": lambda: iv.ablation_edits(model, heads=[(0, i)]),
        "patch(positions=)": lambda: iv.patch(model, PATCH_CLEAN, PATCH_CORRUPT, "blocks.0.resid_post", positions=i),
        "logit_attribution(position=)": lambda: iv.logit_attribution(model, tr, " Tom", position=i),
    }


@pytest.mark.parametrize("index", [-1, -2, np.int64(1), np.int32(-1), np.uint8(0)])
def test_an_index_one_call_accepts_every_call_accepts(odd_model, index):
    for name, call in _index_users(odd_model, index).items():
        assert call() is not None, name


@pytest.mark.parametrize("index", [1.0, True, np.bool_(False), "0", np.float64(1), 99, -99])
def test_an_index_one_call_refuses_every_call_refuses(odd_model, index):
    for name, call in _index_users(odd_model, index).items():
        with pytest.raises(InputError) as err:
            call()
        assert repr(index) in str(err.value) or str(index) in str(err.value), (name, str(err.value))


# ---- the head detectors and induction ---------------------------------------------------------------
@pytest.fixture(scope="module")
def repeated(odd_model):
    from gptviz.interventions import repeated_tokens

    return odd_model.trace(repeated_tokens(odd_model, n=8, tokens=range(1000, 1100)), allow_special=True)


@pytest.mark.parametrize("period, words", [
    (1.5, "got 1.5"), ("2", "got '2'"), (None, "got None"), (True, "got True"), (0, "got 0"), (9, "got 9"),
])
def test_induction_period_refused_clearly(repeated, period, words):
    from gptviz.interventions import induction_scores

    check(lambda: induction_scores(repeated, period), InputError,
          r"period= is the length of the part that repeats, a whole number from 1 to 8 .*" + re.escape(words))


def test_induction_period_takes_numpy_ints(repeated):
    from gptviz.interventions import induction_scores

    assert torch.equal(induction_scores(repeated, np.int64(8)), induction_scores(repeated, 8))


@pytest.mark.parametrize("kwargs, fix", [
    (dict(seed=1.5), r"seed must be a whole number .*got 1.5 \(float\): e.g. seed=0"),
    (dict(seed="x"), r"got 'x' \(str\): e.g. seed=0"),
    (dict(seed=2**64), r"seed % 2\*\*64"),
    (dict(seed=-1), r"seed must be from 0 to 2\*\*64 - 1, got -1"),
    (dict(tokens=["a"]), r"tokens= takes the token ids to draw from, e\.g\. tokens=learned_tokens\(model\): .*'a' \(str\)"),
    (dict(tokens=[1.5]), r"tokens= takes the token ids .*never rounded"),
    (dict(tokens=[99999]), r"tokens= takes the token ids .*use ids below 50257"),
    (dict(tokens="abc"), r"tokens= takes the token ids"),
    (dict(tokens=[]), r"tokens= takes at least 1 token id, got 0"),
    (dict(n=2.0), r"n must be an int from 1 to 63"),
])
def test_repeated_tokens_arguments(odd_model, kwargs, fix):
    from gptviz.interventions import repeated_tokens

    check(lambda: repeated_tokens(odd_model, **{"n": 5, **kwargs}), InputError, fix)


@pytest.mark.parametrize("seeds, fix", [
    (5, r"seeds= takes a list of seeds, one forward pass each, e.g. seeds=range\(16\); got 5"),
    ("ab", r"seeds= takes a list of seeds"),
    ([], r"seeds= must hold at least one seed"),
    ([0, 1.5], r"seed must be a whole number .*got 1.5"),
])
def test_measure_induction_seeds(odd_model, count_forward, seeds, fix):
    from gptviz.interventions import measure_induction

    passes = count_forward(odd_model)
    check(lambda: measure_induction(odd_model, n=5, seeds=seeds), InputError, fix)
    assert passes.passes == 0  # refused before the first seed's forward pass


@pytest.fixture(scope="module")
def step_trace(odd_model):
    """A generation step's trace: one query, keys over the whole cache."""
    stepper = Stepper(odd_model, "Once upon a time", record=True, seed=0)
    trace = stepper.step().trace
    assert trace["blocks.0.attn.pattern"].shape[1:] == (1, 5) and trace.start == 4
    return trace


@pytest.mark.parametrize("detector", ["previous_token_scores", "current_token_scores", "first_token_scores",
                                      "induction_scores"])
def test_detectors_refuse_a_generation_steps_trace(step_trace, detector):
    """They read every query of a whole text; a step's trace holds one, and gave IndexError or NaN."""
    from gptviz import interventions as iv

    args = (1,) if detector == "induction_scores" else ()
    check(lambda: getattr(iv, detector)(step_trace, *args), InputError,
          r"the head scores need the trace of a whole text, but this trace covers 1 new token after a cache of 4 "
          r"\(a generation step's trace\): trace the whole text instead, e.g. model.trace\(stepper.ids\)")


# ---- attribution: parts that do not sum to the logit are refused ----------------------------------
@pytest.mark.parametrize("name", ["blocks.2.resid_post", "ln_f", "blocks.1.resid_mid", "embed.sum", "blocks.0.attn.out",
                                  "logits"])
def test_attribution_refuses_a_trace_whose_stream_was_edited(odd_model, name):
    from gptviz.interventions import logit_attribution

    trace = odd_model.trace(PATCH_CLEAN, edits={name: lambda x: x * 1.5 + 0.1})
    check(lambda: logit_attribution(odd_model, trace, " Tom"), InputError,
          rf"the direct contributions sum to -?[0-9.]+ but the recorded logit is -?[0-9.]+: this trace was edited at "
          rf"{re.escape(name)}, which is no head's or MLP's output.*edit heads \(blocks.{{i}}.attn.z\) or MLPs")


def test_attribution_in_bfloat16_allows_its_rounding_and_still_refuses_an_edited_stream(odd_model):
    """A bfloat16 model rounds its own logit to about 1 part in 128: the parts sum to it within that,
    and an edit of the residual stream is still refused."""
    from gptviz.interventions import logit_attribution

    coarse = copy.deepcopy(odd_model).to(torch.bfloat16)
    a = logit_attribution(coarse, coarse.trace(PATCH_CLEAN), " Tom")
    assert abs(float(a.values.sum()) + a.bias - a.logit) > 1e-5  # the rounding the float32 share would refuse
    edited = coarse.trace(PATCH_CLEAN, edits={"blocks.1.resid_post": lambda x: x * 1.5 + 0.1})
    check(lambda: logit_attribution(coarse, edited, " Tom"), InputError, r"this trace was edited at blocks.1.resid_post")


@pytest.mark.parametrize("name", ["blocks.1.attn.z", "blocks.0.mlp.out", "blocks.2.attn.pattern", "embed.pos",
                                  "blocks.1.ln_2"])
def test_attribution_takes_edits_that_its_parts_record(odd_model, name):
    from gptviz.interventions import logit_attribution

    def edit(x):  # a pattern must stay a pattern: every query spreads its weight evenly over its keys
        uniform = torch.ones_like(x).tril()
        return uniform / uniform.sum(-1, keepdim=True) if name.endswith("pattern") else x * 1.5
    a = logit_attribution(odd_model, odd_model.trace(PATCH_CLEAN, edits={name: edit}), " Tom")
    assert abs(float(a.values.sum()) + a.bias - a.logit) < 1e-3


# ---- edits that return what the model cannot use ------------------------------------------------------
@pytest.mark.parametrize("edit, fix", [
    (lambda x: torch.empty_like(x, device="meta"), r"returned a tensor on the meta device, which holds a shape but no numbers"),
    (lambda x: x.to_sparse(), r"returned a sparse_coo tensor: return an ordinary dense one, e.g. out.to_dense\(\)"),
    (lambda x: torch.nested.nested_tensor([x]), r"returned a nested tensor: return an ordinary dense one"),
    (lambda x: x.long(), r"returned a tensor of int64: return floating-point numbers"),
    (lambda x: x > 0, r"returned a tensor of bool: return floating-point numbers"),
    (lambda x: x.to(torch.complex64), r"returned a tensor of complex64"),
    (lambda x: x[:, :2], r"returned shape \[[0-9]+, 2\], but the activation has shape"),
])
def test_edits_returning_what_the_model_cannot_use(odd_model, edit, fix):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the nested tensor's prototype warning
        check(lambda: odd_model.trace("Hello there", edits={"blocks.0.mlp.out": edit}), gptviz.errors.EditError,
              r"^the edit at 'blocks.0.mlp.out' " + fix)


# ---- configs and training windows ---------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, fix", [
    (dict(n_layer=0), r"GPTConfig\(n_layer=...\) must be a whole number >= 1, got 0: e.g. GPTConfig\(n_layer=12\)"),
    (dict(n_head="4"), r"GPTConfig\(n_head=...\) must be a whole number >= 1, got '4'"),
    (dict(d_model=2.5), r"GPTConfig\(d_model=...\) must be a whole number"),
    (dict(n_ctx=True), r"GPTConfig\(n_ctx=...\) must be a whole number"),
    (dict(d_mlp=-1), r"GPTConfig\(d_mlp=...\) must be a whole number >= 0 \(0: 4 \* d_model\)"),
    (dict(d_model=10, n_head=3), r"GPTConfig\(d_model=10\) must be divisible by n_head=3.*e.g. d_model=192"),
    (dict(layer_norm_eps=0), r"GPTConfig\(layer_norm_eps=...\) must be a small number > 0, got 0: GPT-2 uses 1e-05"),
    (dict(layer_norm_eps="small"), r"GPT-2 uses 1e-05"),
])
def test_configs(kwargs, fix):
    from gptviz.config import GPTConfig

    check(lambda: GPTConfig(**kwargs), InputError, fix)
    with pytest.raises(ValueError):  # what callers that caught ValueError before still catch
        GPTConfig(**kwargs)


def test_config_reads_numpy_ints_as_ints():
    from gptviz.config import GPTConfig

    cfg = GPTConfig(n_layer=np.int64(2), n_head=np.int32(2), d_model=8)
    assert cfg == GPTConfig(n_layer=2, n_head=2, d_model=8) and type(cfg.n_layer) is int


@pytest.mark.parametrize("args, fix", [
    (([1, 2, 3], 5), r"3 tokens make no window of context=5 \+ 1 tokens: give at least 6 tokens, or a smaller "
                     r"context \(at most context=2\)"),
    (([7], 1), r"1 tokens make no window of context=1 \+ 1 tokens: give at least 2 tokens$"),
    (([1, 2, 3], 1.5), r"context= is the length of one window, a whole number >= 1, got 1.5: e.g. context=6"),
    (([1, 2, 3], 1, 0), r"stride= is the step from one window to the next"),
    (("abc", 1), r"pass the text itself where a text is accepted, or tokenizer.encode\(text\)"),
    (([1.5, 2.0], 1), r"never rounded"),
])
def test_sliding_windows(args, fix):
    from gptviz.train import sliding_windows

    check(lambda: sliding_windows(*args), InputError, fix)


# ---- a trace argument that is not a Trace --------------------------------------------------------
@pytest.mark.parametrize("call", ["previous_token_scores", "current_token_scores", "first_token_scores",
                                  "induction_scores", "position_losses", "logit_attribution", "head_output"])
@pytest.mark.parametrize("given", [None, "Hello there", {"logits": torch.zeros(2, 3)}, "model"])
def test_a_trace_argument_must_be_a_trace(odd_model, call, given):
    from gptviz import interventions as iv
    from gptviz.interventions import composition

    given = odd_model if given == "model" else given
    calls = {"induction_scores": lambda: iv.induction_scores(given, 2),
             "logit_attribution": lambda: iv.logit_attribution(odd_model, given, " Tom"),
             "head_output": lambda: composition.head_output(odd_model, given, 0, 0)}
    check(calls.get(call, lambda: getattr(iv, call)(given)), InputError,
          rf"trace= takes a Trace, such as model.trace\(text\), got {type(given).__name__}")


def test_a_trace_of_another_model_is_refused(odd_model, bundled_model):
    from gptviz.interventions import logit_attribution

    check(lambda: logit_attribution(odd_model, bundled_model.trace("Hello there"), " Tom"), InputError,
          r"trace= was traced on another model \(gptviz-stories\): trace the text with this model")


@pytest.mark.parametrize("call", [
    lambda m: m.trace("Hello", names=torch.tensor(1)),
    lambda m: iv.ablation_edits(m, mlps=torch.tensor(1)),
    lambda m: iv.ablate(m, "Hello", heads=np.array(3)),
])
def test_a_zero_dimensional_tensor_is_not_a_list(odd_model, call):
    check(lambda: call(odd_model), InputError, r"takes a")


@pytest.mark.parametrize("reference, fix", [
    ("", r"The reference is empty: give at least one character"),
    ([], r"The token list is empty"),
    (" a" * 200, r"The reference is 200 tokens, but the model's context holds 128"),
    ("trace", r"reference= takes a text or token ids \(ablate traces it\), got Trace; a Trace goes to "
              r"ablation_edits\(reference=...\)"),
])
def test_mean_ablation_reference(odd_model, reference, fix):
    reference = odd_model.trace("Hello there") if reference == "trace" else reference
    check(lambda: iv.ablate(odd_model, PATCH_CLEAN, heads=[(0, 0)], how="mean", reference=reference), InputError, fix)


def test_mean_ablation_edits_need_a_reference(odd_model):
    check(lambda: iv.ablation_edits(odd_model, heads=[(0, 0)], how="mean"), InputError,
          r"how='mean' needs reference=: a trace holding the attn.z and mlp.out")
