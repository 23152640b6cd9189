"""How fast do the explorers answer a control? Server-side time from setting ``.value`` to the
observer's return, on a model of GPT-2 small's size (random weights) and a 128-token text.

    python benchmarks/widgets.py [--tokens 128] [--repeats 15]

Each control is moved through several values, ``repeats`` times; the table gives the median and the
slowest change, and the forward passes the changes ran (0 expected). The text change that runs the
model is timed once per explorer, for comparison; "HTML" is the size of the explorer's HTML
outputs after the changes (what a redraw sends to the browser, at most). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time

import ipywidgets as widgets
import torch
from transformers import GPT2Config, GPT2LMHeadModel

import gptviz
from gptviz.widgets import (AttentionExplorer, FeedForwardExplorer, GenerationStepper, LogitLensExplorer,
                            SamplingExplorer)
from timing import timed

STORY = ("Once upon a time, a small robot lived in a quiet town by the sea. Every morning it walked to the "
         "harbour, counted the boats, and told the fishermen which way the wind would blow. ")


def text_of(model, n_tokens: int) -> str:
    """A text that is exactly ``n_tokens`` tokens long."""
    tok = model.tokenizer
    ids = tok.encode(STORY * (n_tokens // 20 + 1))
    for cut in range(n_tokens, 0, -1):
        text = tok.decode(ids[:cut])
        if len(tok.encode(text)) == n_tokens:
            return text
    raise RuntimeError("could not build the text")


def html_kb(widget) -> float:
    """Kilobytes of HTML held by a widget and its descendants: what a redraw sends to the browser,
    at most."""
    if isinstance(widget, widgets.HTML):
        return len(widget.value.encode("utf-8")) / 1024
    return sum(html_kb(child) for child in getattr(widget, "children", ()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        GPT2LMHeadModel(GPT2Config()).save_pretrained(folder)
        model = gptviz.load(folder, device="cpu")
    text = text_of(model, args.tokens)
    c = model.config
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; random GPT-2 small "
          f"({c.n_layer} layers, {c.n_head} heads, d {c.d_model}); text of {args.tokens} tokens\n")

    builders = {
        "SamplingExplorer": lambda: SamplingExplorer(model, text),
        "AttentionExplorer": lambda: AttentionExplorer(model, text),
        "FeedForwardExplorer": lambda: FeedForwardExplorer(model, text),
        "LogitLensExplorer": lambda: LogitLensExplorer(model, text),
        "GenerationStepper": lambda: GenerationStepper(model, text),
    }
    built, rows = {}, []
    for name, build in builders.items():
        start = time.perf_counter()
        built[name] = build()
        rows.append((name, "build (reads the text: 1 forward pass)", [time.perf_counter() - start],
                     built[name].n_forward, html_kb(built[name])))

    s, a = built["SamplingExplorer"], built["AttentionExplorer"]
    f, lens, g = built["FeedForwardExplorer"], built["LogitLensExplorer"], built["GenerationStepper"]
    T = args.tokens
    controls = [
        ("SamplingExplorer", "temperature", s.controls.temperature, [0.5, 0.8, 1.2, 1.5, 0.0, 1.0]),
        ("SamplingExplorer", "top-k", s.controls.top_k, [1, 5, 40, 100, 0]),
        ("SamplingExplorer", "top-p", s.controls.top_p, [0.5, 0.9, 0.95, 1.0]),
        ("AttentionExplorer", "head", a.head, list(range(c.n_head))),
        ("AttentionExplorer", "layer", a.layer, list(range(c.n_layer))),
        ("AttentionExplorer", "query", a.query, [T - 1, T // 2, 5, T - 2]),
        ("FeedForwardExplorer", "layer", f.layer, list(range(c.n_layer))),
        ("FeedForwardExplorer", "token", f.position, [T - 1, T // 2, 5]),
        ("LogitLensExplorer", "layer", lens.layer, list(range(c.n_layer + 1))),
        ("LogitLensExplorer", "token", lens.position, [T - 1, T // 2, 5]),
        ("GenerationStepper", "temperature", g.controls.temperature, [0.5, 1.0, 1.5]),
    ]
    for name, label, control, values in controls:
        explorer = built[name]
        before = explorer.n_forward
        times = [timed(lambda: setattr(control, "value", v))
                 for v in itertools.islice(itertools.cycle(values), len(values) * args.repeats)
                 if control.value != v]  # setting the same value would not call the observer
        rows.append((name, label, times, explorer.n_forward - before, html_kb(explorer)))
    before = s.n_forward
    times = [timed(lambda: s.sample_many(100)) for _ in range(args.repeats)]
    rows.append(("SamplingExplorer", "sample 100 (button)", times, s.n_forward - before, html_kb(s)))
    before = g.n_forward
    rows.append(("GenerationStepper", "step (1 forward pass of 1 token)", [timed(g.step) for _ in range(10)],
                 g.n_forward - before, html_kb(g)))

    print("| explorer | control | median (ms) | slowest (ms) | changes | forward passes | HTML (kB) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, label, times, runs, kb in rows:
        print(f"| {name} | {label} | {statistics.median(times) * 1e3:.1f} | {max(times) * 1e3:.1f} | "
              f"{len(times)} | {runs} | {kb:.0f} |", flush=True)


if __name__ == "__main__":
    main()
