"""Loading: hub-format folders, the hub cache offline, and every way a checkpoint can be wrong."""

import json
import os
import pickle
import shutil

import pytest
import torch

import gptviz
from gptviz.hub import save_checkpoint


def test_hub_format_folder_round_trips(odd_model, tmp_path):
    save_checkpoint(odd_model, tmp_path)
    again = gptviz.load(tmp_path, device="cpu")
    ids = torch.tensor([[464, 3290, 318]])
    with torch.no_grad():
        assert torch.equal(odd_model(ids), again(ids))
    assert again.config.name == tmp_path.name and again.source == str(tmp_path)


def test_transformers_reads_what_gptviz_saves(odd_model, tmp_path):
    from transformers import GPT2LMHeadModel

    save_checkpoint(odd_model, tmp_path)
    ref = GPT2LMHeadModel.from_pretrained(tmp_path).eval()
    ids = torch.tensor([[464, 3290, 318, 13]])
    with torch.no_grad():
        assert (ref(ids).logits - odd_model(ids)).abs().max() < 1e-4


def test_pytorch_model_bin_with_plain_tensors_loads(odd_model, odd_checkpoint, tmp_path):
    from safetensors.torch import load_file

    shutil.copy(odd_checkpoint / "config.json", tmp_path)
    torch.save(load_file(odd_checkpoint / "model.safetensors"), tmp_path / "pytorch_model.bin")
    model = gptviz.load(tmp_path, device="cpu")
    ids = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        assert torch.equal(model(ids), odd_model(ids))


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/gptviz-pwned",))


def test_pickled_code_is_refused(odd_checkpoint, tmp_path):
    shutil.copy(odd_checkpoint / "config.json", tmp_path)
    with open(tmp_path / "pytorch_model.bin", "wb") as f:
        pickle.dump({"wte.weight": _RunsCode()}, f, protocol=2)  # torch.save's protocol: no warning about it
    with pytest.raises(gptviz.LoadError, match="never runs code"):
        gptviz.load(tmp_path)
    assert not os.path.exists("/tmp/gptviz-pwned")


def test_truncated_safetensors_is_a_clear_error(odd_checkpoint, tmp_path):
    shutil.copy(odd_checkpoint / "config.json", tmp_path)
    data = (odd_checkpoint / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(gptviz.LoadError, match="truncated or corrupt"):
        gptviz.load(tmp_path)


def test_weights_that_do_not_match_their_config(odd_checkpoint, tmp_path):
    shutil.copy(odd_checkpoint / "model.safetensors", tmp_path)
    config = json.loads((odd_checkpoint / "config.json").read_text())
    config["n_embd"] = 192
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(gptviz.LoadError, match="do not match their config"):
        gptviz.load(tmp_path)


@pytest.mark.parametrize("change, message", [
    ({"model_type": "llama"}, "not 'gpt2'"),
    ({"activation_function": "relu"}, "tanh GELU"),
    ({"scale_attn_by_inverse_layer_idx": True}, "scale_attn_by_inverse_layer_idx"),
])
def test_configs_that_are_not_gpt2(odd_checkpoint, tmp_path, change, message):
    shutil.copy(odd_checkpoint / "model.safetensors", tmp_path)
    config = {**json.loads((odd_checkpoint / "config.json").read_text()), **change}
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(gptviz.LoadError, match=message):
        gptviz.load(tmp_path)


def test_corrupt_config_and_missing_files(odd_checkpoint, tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(gptviz.LoadError, match="not valid JSON"):
        gptviz.load(tmp_path)
    shutil.copy(odd_checkpoint / "config.json", tmp_path)
    with pytest.raises(gptviz.LoadError, match="no model.safetensors"):
        gptviz.load(tmp_path)


def test_unknown_name_lists_known_ones():
    with pytest.raises(gptviz.LoadError, match=r"Known names: gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2"):
        gptviz.load("gpt-5")


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(cache))
    return cache


def test_offline_with_nothing_cached_says_what_to_do(empty_hub_cache, monkeypatch):
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    with pytest.raises(gptviz.LoadError, match=r"not in the local Hugging Face cache.*HF_HUB_OFFLINE.*bundled offline model"):
        gptviz.load("gpt2")


def test_no_network_says_what_to_do(empty_hub_cache, monkeypatch):
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(c, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(c, "HUGGINGFACE_CO_URL_TEMPLATE", "http://127.0.0.1:9/{repo_id}/resolve/{revision}/{filename}")
    with pytest.raises(gptviz.LoadError, match="bundled offline model"):
        gptviz.load("distilgpt2")


def test_hub_name_loads_from_the_cache_offline(empty_hub_cache, odd_checkpoint, monkeypatch):
    """The real hub path, fed by a cache laid out as huggingface_hub lays it out."""
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    repo = empty_hub_cache / "models--openai-community--gpt2"
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    for f in ("config.json", "model.safetensors"):
        shutil.copy(odd_checkpoint / f, snapshot / f)
    model = gptviz.load("gpt2", device="cpu")
    assert model.config.name == "gpt2" and model.config.n_layer == 3


def test_default_comes_from_environment(odd_checkpoint, monkeypatch):
    monkeypatch.setenv("GPTVIZ_MODEL", str(odd_checkpoint))
    assert gptviz.load(device="cpu").config.n_head == 6
