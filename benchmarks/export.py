"""How fast do views export? Prints a markdown table.

    python benchmarks/export.py

Measures, on a random-weight model with GPT-2 small's dimensions (12 layers x 12 heads) and a
128-token text: one head heatmap built and saved as PNG (target < 0.5 s), all 144 heads saved with
``export_heads`` (target < 30 s), and the size of standalone HTML pages (matplotlib heatmap as
inline SVG, plotly heatmap with plotly.js inline) at 128 and 512 tokens.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from gptviz.config import GPTConfig
from gptviz.export import export, export_heads
from gptviz.model import GPT
from gptviz.viz.attention import attention_heatmap_interactive, head_heatmap
from timing import clocked

TEXT = ("A robot may not injure a human being or, through inaction, allow a human being to come to harm. "
        "A robot must obey the orders given it by human beings except where such orders would conflict "
        "with the First Law. ")


def text_of(model, n_tokens: int) -> list[int]:
    ids = model.tokenizer.encode(TEXT * 40)
    return ids[:n_tokens]


def seconds(wall: float, cpu: float) -> str:
    return f"{wall:.2f} s (CPU {cpu:.2f} s)"


def main() -> None:
    torch.manual_seed(0)
    small = GPT(GPTConfig(name="gpt2-sized random")).init_weights()
    wide = GPT(GPTConfig(n_ctx=512, d_model=64, n_layer=2, n_head=4, name="512-context random")).init_weights()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        trace = small.trace(text_of(small, 128), names=["blocks.*.attn.pattern"])
        head_heatmap(trace, 0, 0)  # warm up fonts and caches
        runs = sorted(clocked(lambda: export(head_heatmap(trace, 5, h), tmp / f"head{h}.png"))[1:] for h in range(5))
        rows.append(("one head heatmap, built + PNG, 128 tokens (5 heads: median; slowest)",
                     f"{seconds(*runs[2])}; {seconds(*runs[-1])}", "< 0.5 s"))
        paths, *took = clocked(lambda: export_heads(trace, tmp / "heads"))
        rows.append((f"export_heads: all {len(paths)} heads as PNG, 128 tokens", seconds(*took), "< 30 s"))
        for n, model in ((128, small), (512, wide)):
            t = model.trace(text_of(model, n), names=["blocks.0.attn.pattern"])
            pattern = t["blocks.0.attn.pattern"][0]
            for label, fig in (("matplotlib heatmap (inline SVG)", head_heatmap(t, 0, 0)),
                               ("plotly heatmap (plotly.js inline)",
                                attention_heatmap_interactive(pattern, t.tokens))):
                path, *took = clocked(lambda: export(fig, tmp / f"view{n}.html"))
                rows.append((f"HTML page, {label}, {n} tokens",
                             f"{path.stat().st_size / 2**20:.2f} MiB in {seconds(*took)}", ""))
    print("| measurement | result | target |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
