"""How fast do views export? Prints a markdown table.

    python benchmarks/export.py

Measures, on a random-weight model with GPT-2 small's dimensions (12 layers x 12 heads) and a
128-token text: one head heatmap built and saved as PNG (target < 0.5 s), all 144 heads saved with
``export_heads`` (target < 30 s), and the size of standalone HTML pages (matplotlib heatmap as
inline SVG, plotly heatmap with plotly.js inline) at 128 and 512 tokens; then the page of every
head (``export_heads(trace, "heads.html")``) at 512 tokens, its build time and size (target < 10 MB),
for the random-weight model (near-uniform attention, which compresses well) and for softmaxed
Gaussian scores of the same shape (the hardest case to compress that was found).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from gptviz.config import GPTConfig
from gptviz.export import export, export_heads
from gptviz.model import GPT
from gptviz.viz.attention import attention_heatmap_interactive, head_heatmap
from gptviz.viz.heads_page import heads_page
from gptviz.viz.style import causal_mask
from timing import clocked

TEXT = ("A robot may not injure a human being or, through inaction, allow a human being to come to harm. "
        "A robot must obey the orders given it by human beings except where such orders would conflict "
        "with the First Law. ")


def text_of(model, n_tokens: int) -> list[int]:
    ids = model.tokenizer.encode(TEXT * 40)
    return ids[:n_tokens]


def seconds(wall: float, cpu: float) -> str:
    return f"{wall:.2f} s (CPU {cpu:.2f} s)"


def heads_page_rows(model, tmp: Path) -> list[tuple[str, str, str]]:
    """The page of every head at 512 tokens: the model's own patterns, then noisy ones."""
    n = 512
    trace = model.trace(text_of(model, n), names=["blocks.*.attn.pattern"])
    [path], *took = clocked(lambda: export_heads(trace, tmp / "heads.html"))
    rows = [(f"page of every head (export_heads to .html), {model.config.n_layer} x {model.config.n_head} "
             f"heads, {n} tokens, random weights", f"{path.stat().st_size / 2**20:.2f} MiB in {seconds(*took)}",
             "< 10 MB")]
    scores = torch.randn(model.config.n_layer, model.config.n_head, n, n)
    patterns = scores.masked_fill(torch.from_numpy(causal_mask(n, n)), float("-inf")).softmax(-1)
    page, *took = clocked(lambda: heads_page(patterns, trace.tokens))
    rows.append((f"the same page, softmax of N(0, 1) scores (hard to compress), {n} tokens",
                 f"{len(page.encode()) / 2**20:.2f} MiB in {seconds(*took)}", "< 10 MB"))
    return rows


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
        rows.extend(heads_page_rows(small, tmp))
    print("| measurement | result | target |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
