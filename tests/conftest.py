"""Shared fixtures: random-weight checkpoints written in the hub's format by transformers itself."""

from __future__ import annotations

import pytest
import torch

import gptviz

# Two shapes the parity tests cover: GPT-2 small's dimensions, and a small odd one.
SMALL_GPT2 = dict(n_layer=12, n_head=12, n_embd=768, n_positions=1024)
ODD = dict(n_layer=3, n_head=6, n_embd=96, n_positions=128)


def write_hf_checkpoint(folder, seed: int = 0, **dims):
    """Save a random-weight ``GPT2LMHeadModel`` with ``save_pretrained`` (config.json + safetensors)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=50257, **dims))
    # transformers initialises LayerNorms to (1, 0); random ones make parity tests stricter.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".ln_" in name or name.startswith("transformer.ln_f"):
                p.copy_(torch.randn_like(p) * 0.1 + (1.0 if name.endswith("weight") else 0.0))
            elif name.endswith("bias"):
                p.copy_(torch.randn_like(p) * 0.02)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def odd_checkpoint(tmp_path_factory):
    """A 3-layer, 6-head, 96-wide random GPT-2 in the hub's format."""
    return write_hf_checkpoint(tmp_path_factory.mktemp("odd"), seed=1, **ODD)


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory):
    """A random GPT-2 with GPT-2 small's dimensions (124M parameters) in the hub's format."""
    return write_hf_checkpoint(tmp_path_factory.mktemp("small"), seed=2, **SMALL_GPT2)


@pytest.fixture(scope="session")
def odd_model(odd_checkpoint):
    return gptviz.load(odd_checkpoint, device="cpu")


@pytest.fixture(scope="session")
def bundled_model():
    """The model shipped in assets/ (gptviz.load() with no argument)."""
    return gptviz.load(device="cpu")


class ForwardPasses:
    """Forward passes of a model, counted from outside by hooks on its blocks (not by what the code
    under test reports). Every pass, whole or started at a later layer (``model.blocks_from``), runs
    the last block once: ``passes``; ``blocks`` counts every block run."""

    def __init__(self, model):
        self.passes = self.blocks = 0
        self._handles = [model.h[-1].register_forward_pre_hook(self._count_pass)]
        self._handles += [block.register_forward_pre_hook(self._count_block) for block in model.h]

    def _count_pass(self, module, args):
        self.passes += 1

    def _count_block(self, module, args):
        self.blocks += 1

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


@pytest.fixture
def count_forward():
    """``count_forward(model)`` starts counting that model's forward passes (see :class:`ForwardPasses`);
    the hooks go when the test ends."""
    counters = []

    def start(model) -> ForwardPasses:
        counters.append(ForwardPasses(model))
        return counters[-1]

    yield start
    for counter in counters:
        counter.remove()
