"""Write a checkpoint with GPT-2 small's shape and random weights, in the hub's format, without a download.

    python tools/gpt2_shaped.py /tmp/gpt2small      # ~500 MB: config.json + model.safetensors

12 layers, 12 heads, d_model 768, context 1,024, vocabulary 50,257 (``transformers.GPT2Config()``'s
defaults, which are GPT-2 small's). Its weights are random, so its text is noise; it is for checking
that every chapter runs, and how long it takes, on a model of GPT-2's size
(``GPTVIZ_MODEL=/tmp/gpt2small python -m pytest --nbval-lax notebooks``; ``make test-gpt2``).
An existing checkpoint with the same config is kept, not rewritten.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def write(folder: Path, seed: int = 0) -> Path:
    """``folder`` holding GPT-2 small's ``config.json`` and random ``model.safetensors``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config()
    config_file, weights = folder / "config.json", folder / "model.safetensors"
    if config_file.exists() and weights.exists():
        stored = json.loads(config_file.read_text())
        keys = ("n_layer", "n_head", "n_embd", "n_positions", "vocab_size")
        if all(stored.get(k) == getattr(config, k) for k in keys):
            return folder
    torch.manual_seed(seed)
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    print(write(args.folder))


if __name__ == "__main__":
    main()
