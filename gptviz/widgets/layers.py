"""Inside the stack: one layer's MLP neurons for one token, and the logit lens after every layer."""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib import colormaps

from ..compare import activation_curves, gelu_vs_relu, variant_edits
from ..lens import logit_lens, masked_note
from ..mlp import activation_histogram
from ..viz.lens import MAX_LABEL, lens_table
from ..viz.mlp import mlp_activations, top_neurons
from ..viz.style import DIVERGING, SEQUENTIAL, shorten, symmetric_limit, text_colour
from . import _render
from .base import Explorer, ExportBar, html_box, int_slider, position_picker, row, set_positions, text_box

MLP_NAMES = ["blocks.*.mlp.pre", "blocks.*.mlp.post", "blocks.*.mlp.out"]
GRID_COLS = 64  # neurons per row of the neuron grid
N_STRONGEST = 10


class FeedForwardExplorer(Explorer):
    """What does one layer's MLP do to one token? Its ``d_mlp`` neurons before the activation,
    after GELU (what GPT-2 uses) and after ReLU (what it would be with the older activation), the
    strongest neurons, and how much the layer's output would change in a GPT-2 whose every MLP used
    ReLU (the same weights; :func:`gptviz.compare.run_variant`). Controls: ``text``, ``layer``,
    ``position``. Reading a text runs the model twice (GELU, then ReLU); the controls run it never.
    """

    def __init__(self, model=None, text: str = "The capital of France is Paris, and the capital of Italy is",
                 layer: int = 0, position: int = -1, folder: str = "exports"):
        super().__init__(model)
        self.trace = None
        self._position = position
        self.text = text_box(text)
        self.layer = int_slider("layer", self.model.config.n_layer - 1, "gptviz-layer", layer)
        self.position = position_picker("token", "gptviz-position")
        self.neurons = html_box("gptviz-neurons")
        self.strongest = html_box("gptviz-top-neurons")
        self.gelu_relu = html_box("gptviz-gelu-relu")
        self.export_bar = ExportBar(self, ["neurons of every token", "strongest neurons"], folder)
        self.children = [self.text, self.special, row(self.layer, self.position), self.message, self.neurons,
                         row(self.strongest, self.gelu_relu), self.export_bar]
        self.watch(self.layer, self.position)
        self.text.observe(lambda change: self.set_text(change["new"]), names="value")
        self.set_text(text)

    def read(self, text: str) -> None:
        self.trace = self.run_trace(text, MLP_NAMES)
        self.relu_trace = self.run_trace(text, ["blocks.*.mlp.out"], variant_edits(self.model, activation="relu"))
        set_positions(self.position, self.trace.tokens, self._position)

    def draw(self) -> None:
        if self.trace is None:
            return
        layer, pos = self.layer.value, self.position.value
        p = f"blocks.{layer}.mlp."
        pre = self.trace[p + "pre"][pos]  # [F]
        gelu = self.trace[p + "post"][pos]  # [F]
        report = gelu_vs_relu(pre, gelu, self.trace[p + "out"][pos], self.relu_trace[p + "out"][pos], N_STRONGEST)
        limit = symmetric_limit(pre.numpy())
        token = self.trace.tokens[pos]
        views = ((pre, "before the activation (mlp.pre)", "pre"), (gelu, "after GELU (mlp.post)", "gelu"),
                 (report.relu, "after ReLU", "relu"))
        grids = "".join(self._grid(v.numpy(), title, limit, report.positive[key]) for v, title, key in views)
        scale = _render.colour_bar(DIVERGING, f"{-limit:.2f}", f"{limit:.2f}",
                                   "blue negative, red positive; one cell per neuron")
        self.neurons.value = (_render.heading(f"Layer {layer}, token {token} (position {pos}): "
                                              f"{pre.numel():,} neurons") +
                              f'<div style="display:flex;gap:14px;flex-wrap:wrap">{grids}</div>{scale}')
        self.strongest.value = self._strongest_html(pre.numpy(), gelu.numpy(), report)
        self.gelu_relu.value = self._gelu_relu_html(pre, gelu, report)

    @staticmethod
    def _grid(values: np.ndarray, title: str, limit: float, positive: int) -> str:
        """``values`` ``[F]`` as a grid of cells, ``GRID_COLS`` per row (grey padding at the end)."""
        cols = min(GRID_COLS, values.size)
        rows = math.ceil(values.size / cols)
        padded = np.full(rows * cols, np.nan)
        padded[: values.size] = values
        cell = int(np.clip(320 // cols, 3, 12))
        image = _render.pixels(_render.colourise(padded.reshape(rows, cols), DIVERGING, -limit, limit),
                               cols * cell, rows * cell, title)
        return f'<div>{_render.heading(title, f"{positive:,} positive")}{image}</div>'

    @staticmethod
    def _strongest_html(pre: np.ndarray, gelu: np.ndarray, report) -> str:
        order, relu = report.strongest, report.relu.numpy()
        top = float(np.abs(gelu[order[0]])) or 1.0
        rows = [[str(n), f"{pre[n]:+.3f}", f"{gelu[n]:+.3f}", f"{relu[n]:+.3f}",
                 _render.bar(abs(gelu[n]) / top, _render.BAR if gelu[n] >= 0 else _render.ACCENT)] for n in order]
        return _render.heading("Strongest neurons", "largest |GELU output|; orange: negative") + \
            _render.table(["neuron", "pre", "GELU", "ReLU", ""], rows)

    @staticmethod
    def _gelu_relu_html(pre: torch.Tensor, gelu: torch.Tensor, report) -> str:
        """GELU beside ReLU: this token's negative neurons, and how far the layer's output moves in the
        all-ReLU variant (:func:`gptviz.compare.gelu_vs_relu`)."""
        summary = (f"{report.n_negative:,} of {pre.numel():,} neurons are negative before the activation. "
                   f"ReLU sets them all to 0; GELU lets them through as small negatives "
                   f"(sum {report.negative_sum:+.2f}, never below -0.17). If every MLP used ReLU "
                   f"(same weights), this layer's output would change by {report.change:.1%} of its length "
                   f"(cosine {report.cosine:.3f} with GELU's); from layer 1 on, the changes of earlier layers add up.")
        return (_render.heading("GELU vs ReLU") + _render.message(summary, "info") +
                activation_svg(pre.numpy(), gelu.numpy(), report.strongest))

    def file_stem(self, view: str) -> str:
        return f"mlp-layer{self.layer.value}-{view.split()[0]}"

    def figure(self, view: str, fmt: str):
        if view.startswith("strongest"):
            return top_neurons(self.trace, self.layer.value)
        return mlp_activations(self.trace, self.layer.value)


def activation_svg(pre: np.ndarray, gelu: np.ndarray, strongest: np.ndarray, width: int = 360, height: int = 180) -> str:
    """GELU and ReLU as curves over x in [-4, 4], over a histogram of this token's pre-activations."""
    x_lo, x_hi, y_lo, y_hi = -4.0, 4.0, -0.5, 4.0
    left, bottom = 30, 18
    w, h = width - left - 6, height - bottom - 6
    sx = lambda x: left + (np.clip(x, x_lo, x_hi) - x_lo) / (x_hi - x_lo) * w  # noqa: E731
    sy = lambda y: 6 + (y_hi - np.clip(y, y_lo, y_hi)) / (y_hi - y_lo) * h  # noqa: E731
    counts, edges = activation_histogram(pre, x_lo, x_hi, 40)
    bars = "".join(
        f'<rect x="{sx(a):.1f}" y="{6 + h - c / counts.max() * h:.1f}" width="{sx(b) - sx(a):.1f}" '
        f'height="{c / counts.max() * h:.1f}" fill="#dddddd"/>' for a, b, c in zip(edges[:-1], edges[1:], counts) if c)
    curves = activation_curves(x_lo, x_hi, 161)
    xs = curves["x"]
    curve = lambda ys: " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(xs, ys))  # noqa: E731
    dots = "".join(f'<circle cx="{sx(a):.1f}" cy="{sy(b):.1f}" r="2.5" fill="{_render.ACCENT}"/>'
                   for a, b in zip(pre[strongest], gelu[strongest]))
    ticks = "".join(f'<text x="{sx(t):.1f}" y="{height - 4}" text-anchor="middle">{t:g}</text>'
                    for t in (-4, -2, 0, 2, 4))
    ticks += "".join(f'<text x="{left - 4}" y="{sy(t) + 3:.1f}" text-anchor="end">{t:g}</text>' for t in (0, 2, 4))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="10" '
            f'style="display:block;{_render.FONT}">{bars}'
            f'<line x1="{left}" x2="{left + w}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" stroke="#999"/>'
            f'<line x1="{sx(0):.1f}" x2="{sx(0):.1f}" y1="6" y2="{6 + h}" stroke="#999"/>'
            f'<polyline points="{curve(curves["relu"])}" fill="none" stroke="#999" stroke-width="2" '
            f'stroke-dasharray="5 3"/>'
            f'<polyline points="{curve(curves["gelu"])}" fill="none" stroke="{_render.BAR}" stroke-width="2"/>{dots}{ticks}'
            f'<text x="{left + 6}" y="16" fill="{_render.BAR}">GELU</text>'
            f'<text x="{left + 6}" y="28" fill="#777">ReLU (dashed)</text>'
            f'<text x="{left + 6}" y="40" fill="#777">grey: this token\'s pre-activations</text>'
            f'<text x="{left + 6}" y="52" fill="{_render.ACCENT}">dots: strongest neurons</text></svg>')


class LogitLensExplorer(Explorer):
    """What would the model predict if it stopped after ``layer`` blocks? The logit lens reads the
    residual stream after each block through the final LayerNorm and the unembedding. The grid shows
    the top guess after every layer (columns, as in the exported :func:`~gptviz.viz.lens_table`) at
    the positions around the selected one (rows); the table, the top 10 at the selected position and
    layer (the text's real next token in bold). The lens of the whole
    text is computed once per text (at most 256 tokens: ``token_limit``); the controls only choose
    what is shown.
    """

    N_TOP = 10
    WINDOW = 12
    # The lens scores the whole vocabulary after every layer at every position: on GPT-2 small 1,024
    # tokens take ~25 CPU-seconds, 256 tokens a quarter of that (benchmarks/inputs.py).
    token_limit = (256, "the logit lens explorer reads at most 256 (it scores all 50,257 tokens after "
                        "every layer at every position)")

    def __init__(self, model=None, text: str = "The Eiffel Tower is in the city of Paris. The Colosseum is in",
                 position: int = -1, layer: int | None = None, folder: str = "exports"):
        super().__init__(model)
        n_layer = self.model.config.n_layer
        self.trace = self.lens = None
        self._position = position
        self.text = text_box(text)
        self.position = position_picker("token", "gptviz-position")
        self.layer = int_slider("blocks run", n_layer, "gptviz-layer", n_layer if layer is None else layer)
        self.grid = html_box("gptviz-lens-grid")
        self.top = html_box("gptviz-lens-top")
        self.export_bar = ExportBar(self, ["lens table"], folder)
        self.children = [self.text, self.special, row(self.position, self.layer), self.message, self.grid, self.top, self.export_bar]
        self.watch(self.position, self.layer)
        self.text.observe(lambda change: self.set_text(change["new"]), names="value")
        self.set_text(text)

    def read(self, text: str) -> None:
        trace = self.run_trace(text, ["embed.sum", "blocks.*.resid_post"])
        self.lens = logit_lens(self.model, trace, k=self.N_TOP)  # ids, probs: [n_layer + 1, T, N_TOP]
        self.trace = trace
        set_positions(self.position, trace.tokens, self._position)

    def window(self) -> list[int]:
        """The positions shown as rows: up to ``WINDOW`` around the selected one."""
        T, pos = self.trace.n_tokens, self.position.value
        start = int(np.clip(pos - self.WINDOW // 2, 0, max(T - self.WINDOW, 0)))
        return list(range(start, min(start + self.WINDOW, T)))

    def draw(self) -> None:
        if self.lens is None:
            return
        lens, pos, layer = self.lens, self.position.value, self.layer.value
        tokens = self.trace.tokens
        cmap = colormaps[SEQUENTIAL]
        rows = self.window()
        head = "".join(f'<th style="padding:2px 4px;font-weight:{"bold" if r == layer else "normal"}">'
                       f'{_render.esc(label)}</th>' for r, label in enumerate(lens.row_labels))
        body = []
        for c in rows:  # one row per input token, one column per layer: the stream flows left to right
            cells = []
            for r in range(len(lens.row_labels)):
                p = float(lens.probs[r, c, 0])
                rgba = cmap(p)
                colour = "#{:02x}{:02x}{:02x}".format(*(int(v * 255) for v in rgba[:3]))
                mark = f"outline:3px solid {_render.ACCENT};outline-offset:-3px;" if (r, c) == (layer, pos) else ""
                word = shorten(lens.labels[r][c][0], MAX_LABEL)
                cells.append(f'<td title="{_render.esc(lens.labels[r][c][0])} {p:.3f}" style="background:{colour};'
                             f'color:{text_colour(rgba)};{mark}padding:2px 4px;text-align:center;{_render.MONO}">'
                             f'{_render.esc(word)}</td>')
            weight = "bold" if c == pos else "normal"
            body.append(f'<tr><th style="text-align:right;padding:2px 6px;{_render.MONO};font-weight:{weight}">'
                        f'{c}&nbsp;{_render.esc(tokens[c])}</th>{"".join(cells)}</tr>')
        self.grid.value = (_render.heading("Logit lens: the top next-token guess after each layer",
                                           "rows: input tokens (the guess is for the token after each); "
                                           "columns: the residual stream read after each layer, left to "
                                           "right; the last column is the model's real output; colour: "
                                           "probability" + (f"; {masked_note(lens)}" if lens.n_masked else "")) +
                           f'<table style="border-collapse:collapse;{_render.FONT}"><thead><tr><th></th>{head}</tr>'
                           f'</thead><tbody>{"".join(body)}</tbody></table>' +
                           _render.colour_bar(SEQUENTIAL, "0", "1", "probability of the top guess"))
        following = self.trace.ids[pos + 1] if pos + 1 < self.trace.n_tokens else None
        candidates = [(int(i), label, float(p)) for i, label, p in
                      zip(lens.ids[layer, pos], lens.labels[layer][pos], lens.probs[layer, pos])]
        real = (f"the text's next token is {self.model.tokenizer.token_str(following)} (bold if among them)"
                if following is not None else "the last position: its guess is the model's continuation")
        where = "after the embeddings" if layer == 0 else lens.row_labels[layer]
        self.top.value = (_render.heading(f"Top {self.N_TOP} {where}, at {tokens[pos]} (position {pos})", real) +
                          _render.prob_rows(candidates, chosen=following))

    def file_stem(self, view: str) -> str:
        return "logit-lens"

    def figure(self, view: str, fmt: str):
        return lens_table(self.lens, self.window())
