"""The largest input each explorer's text box accepts: how long it takes, and how much memory.

    python benchmarks/inputs.py [--cases NAME ...]

On a model of GPT-2 small's size (random weights, context 1,024 tokens), each explorer is built with
a short text, then its text box is given the largest text it accepts: the tokenizer explorer
100,000 characters (the gate's limit, :data:`gptviz.inputs.MAX_TEXT_CHARS`) of three kinds, the
explorers that trace 1,024 tokens (the context), the generation stepper a 100,000-character prompt
(it keeps the last tokens) and then steps until the context is full. One step past each limit is
timed too: it must be refused at once. Each case runs in its own process; "peak MiB" is how far the
process's resident memory rose above what it held before the text was set (Linux ``VmHWM``, reset
first). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from timing import clocked

STORY = ("Once upon a time, a small robot lived in a quiet town by the sea. Every morning it walked to the "
         "harbour, counted the boats, and told the fishermen which way the wind would blow. ")


def _status(key: str) -> int:
    """A memory figure of this process from /proc/self/status, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def _tokens(tok, n: int) -> str:
    """A text of exactly ``n`` tokens."""
    ids = tok.encode(STORY * (n // 20 + 2))
    return next(tok.decode(ids[:cut]) for cut in range(n, 0, -1) if len(tok.encode(tok.decode(ids[:cut]))) == n)


def _texts(model) -> dict:
    from gptviz.inputs import MAX_TEXT_CHARS

    tok, n_ctx = model.tokenizer, model.config.n_ctx
    prose = (STORY * (MAX_TEXT_CHARS // len(STORY) + 1))[:MAX_TEXT_CHARS]
    return {"context": _tokens(tok, n_ctx), "past context": _tokens(tok, n_ctx + 1), "256": _tokens(tok, 256),
            "257": _tokens(tok, 257), "prose": prose, "emoji": "😀" * MAX_TEXT_CHARS,
            "one word": "a" * MAX_TEXT_CHARS, "past limit": prose + "a"}


CASES = {  # name: (explorer, text, action after the text)
    "TokenizerExplorer: 100,000 characters of prose": ("TokenizerExplorer", "prose", None),
    "TokenizerExplorer: 100,000 emoji (200,000 tokens)": ("TokenizerExplorer", "emoji", None),
    "TokenizerExplorer: one 100,000-letter word": ("TokenizerExplorer", "one word", None),
    "TokenizerExplorer: 100,001 characters (refused)": ("TokenizerExplorer", "past limit", None),
    "TokenizerExplorer: export the tokens and a 64-byte piece's merges": ("TokenizerExplorer", "prose", "export"),
    "EmbeddingExplorer: 1,024 tokens": ("EmbeddingExplorer", "context", None),
    "AttentionExplorer: 1,024 tokens": ("AttentionExplorer", "context", None),
    "AttentionExplorer: 1,025 tokens (refused)": ("AttentionExplorer", "past context", None),
    "FeedForwardExplorer: 1,024 tokens": ("FeedForwardExplorer", "context", None),
    "LogitLensExplorer: 256 tokens (its limit)": ("LogitLensExplorer", "256", None),
    "LogitLensExplorer: 257 tokens (refused)": ("LogitLensExplorer", "257", None),
    "SamplingExplorer: 1,024 tokens": ("SamplingExplorer", "context", None),
    "GenerationStepper: a 100,000-character prompt": ("GenerationStepper", "prose", None),
    "GenerationStepper: ... then run to the full context": ("GenerationStepper", "prose", "run"),
}


def run_case(name: str) -> dict:
    """One case, in this process: build the model and the explorer, then time the text (and action)."""
    import tempfile

    import torch

    import gptviz
    from gptviz import widgets
    from gptviz.viz.tokens import MAX_MERGE_BYTES

    torch.manual_seed(0)
    model = gptviz.GPT(gptviz.GPTConfig(name="gpt2-size")).init_weights(0).eval()
    kind, text_name, action = CASES[name]
    text = _texts(model)[text_name]
    explorer = getattr(widgets, kind)(model, "Once upon a time")
    box = explorer.prompt if kind == "GenerationStepper" else explorer.text
    def act() -> None:
        box.value = text
        if action == "run":
            while not explorer.stepper.stopped:
                explorer.run()
        elif action == "export":
            with tempfile.TemporaryDirectory() as folder:
                explorer.export_bar.folder.value = folder
                explorer.export_bar.view.value = "tokens"
                assert explorer.export_bar.save() is not None
                explorer.text.value = text[:1000] + " " + "b" * (MAX_MERGE_BYTES - 1)  # a 64-byte piece
                explorer.export_bar.view.value = "merges"
                assert explorer.export_bar.save() is not None, explorer.export_bar.where.value

    before = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark to the current size
    _, wall, cpu = clocked(act)
    applied = "Text not applied" not in explorer.message.value
    return {"seconds": wall, "cpu": cpu, "peak_mib": (_status("VmHWM") - before) / 2**20, "applied": applied,
            "n_forward": explorer.n_forward}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=list(CASES), help="cases to run (default all)")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # one case, run in a child process
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case)))
        return
    import torch

    load = os.getloadavg()[0]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; random GPT-2 small (context 1,024); "
          f"load average {load:.1f} at the start\n")
    print("| case | applied | wall s | CPU s | peak MiB | forward passes |")
    print("|---|---|---:|---:|---:|---:|")
    for name in args.cases:
        out = subprocess.run([sys.executable, __file__, "--case", name], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {name} | {'yes' if r['applied'] else 'refused'} | {r['seconds']:.2f} | {r['cpu']:.2f} | "
              f"{r['peak_mib']:,.0f} | {r['n_forward']} |", flush=True)


if __name__ == "__main__":
    main()
