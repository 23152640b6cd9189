"""Which earlier tokens does each token look at? Layer, head and query controls over one trace."""

from __future__ import annotations

import numpy as np

from ..attention import query_links, qk_steps
from ..viz.attention import attention_heatmap_interactive, head_heatmap, head_title
from ..viz.lines import attention_lines_interactive, head_lines
from ..viz.qk import qk_view
from ..viz.style import SEQUENTIAL, causal_mask
from . import _render
from .base import Explorer, ExportBar, html_box, int_slider, position_picker, row, set_positions, text_box

NAMES = ["blocks.*.attn.q", "blocks.*.attn.k", "blocks.*.attn.v", "blocks.*.attn.pattern"]
DEFAULT_TEXT = "The robot picked up the red ball because it was the only toy left on the floor."


class AttentionExplorer(Explorer):
    """One head's attention over a text: the coefficients as a heatmap and as lines, and for the
    selected query token the step-by-step q.k, scaling and softmax.

    Controls: ``text`` (re-runs the model when you leave the box), ``layer``, ``head``, ``query``
    (a position). Outputs: ``heatmap`` (rows are queries, columns keys; the query's row outlined),
    ``lines`` (thinned as the exported lines view is: each query's strongest links, and all of the
    selected query's), ``qk``, and ``export_bar`` (saves the heatmap, the lines or the q.k view as PNG, SVG
    or HTML into ``folder``). ``shown_pattern`` is the ``[T, T]`` array drawn last.
    """

    def __init__(self, model=None, text: str = DEFAULT_TEXT, layer: int = 0, head: int = 0, query: int = -1,
                 folder: str = "exports"):
        super().__init__(model)
        config = self.model.config
        self.trace = None
        self.shown_pattern: np.ndarray | None = None
        self._query = query
        self.text = text_box(text)
        self.layer = int_slider("layer", config.n_layer - 1, "gptviz-layer", layer)
        self.head = int_slider("head", config.n_head - 1, "gptviz-head", head)
        self.query = position_picker("query", "gptviz-query")
        self.heatmap = html_box("gptviz-heatmap")
        self.lines = html_box("gptviz-lines")
        self.qk = html_box("gptviz-qk")
        self.title = html_box("gptviz-title")
        self.export_bar = ExportBar(self, ["heatmap", "lines", "q.k breakdown"], folder)
        self.children = [
            self.text, self.special, row(self.layer, self.head, self.query), self.message, self.title,
            row(self.heatmap, self.lines), self.qk, self.export_bar,
        ]
        self.watch(self.layer, self.head, self.query)
        self.text.observe(lambda change: self.set_text(change["new"]), names="value")
        self.set_text(text)

    def read(self, text: str) -> None:
        trace = self.run_trace(text, NAMES)
        self.trace = trace
        self._heat = _render.HeatmapLayout(trace.tokens, trace.tokens, "query", "key")
        self._links = _render.LinesLayout(trace.tokens)
        self._mask = causal_mask(trace.n_tokens, trace.n_tokens)
        set_positions(self.query, trace.tokens, self._query)

    def draw(self) -> None:
        if self.trace is None:
            return
        layer, head, query = self.layer.value, self.head.value, self.query.value
        pattern = self.trace[f"blocks.{layer}.attn.pattern"][head].numpy()  # [T, T]
        self.shown_pattern = pattern
        tokens = self.trace.tokens
        self.title.value = _render.heading(head_title(layer, head),
                                           f"query {query}: {tokens[query]} (outlined row, orange lines)")
        rgb = _render.colourise(pattern, SEQUENTIAL, 0.0, 1.0, self._mask)
        scale = _render.colour_bar(SEQUENTIAL, "0", "1", "coefficient; grey: a later token, masked")
        self.heatmap.value = self._heat.html(rgb, query, head_title(layer, head), scale)
        self.lines.value = self._links.svg(query_links(pattern, query), query)
        self.qk.value = qk_table(qk_steps(self.trace, layer, head, query), tokens, query)

    # ---- export --------------------------------------------------------------------------------
    def file_stem(self, view: str) -> str:
        kind = {"heatmap": "heatmap", "lines": "lines"}.get(view, "qk")
        return f"attention-layer{self.layer.value}-head{self.head.value}-{kind}"

    def figure(self, view: str, fmt: str):
        """The view as a figure for :func:`gptviz.export.export`: interactive plotly for HTML where
        one exists, else matplotlib."""
        trace, layer, head = self.trace, self.layer.value, self.head.value
        title = head_title(layer, head)
        pattern = trace[f"blocks.{layer}.attn.pattern"][head]
        if view == "heatmap":
            return attention_heatmap_interactive(pattern, trace.tokens, title) if fmt == "html" else \
                head_heatmap(trace, layer, head)
        if view == "lines":
            return attention_lines_interactive(pattern, trace.tokens, title) if fmt == "html" else \
                head_lines(trace, layer, head)
        return qk_view(trace, layer, head, self.query.value)


def qk_table(steps: dict, tokens: list[str], query: int) -> str:
    """The q.k breakdown for one query as a table: one row per key it may see."""
    coefficients = steps["coefficients"]
    top = int(steps["strongest"])
    rows = [[str(j), _render.token_cell(tokens[j]), f"{dot:+.3f}", f"{scaled:+.3f}", f"{a:.4f}", _render.bar(a)]
            for j, (dot, scaled, a) in enumerate(zip(steps["dot"], steps["scaled"], coefficients))]
    styles = ["font-weight:bold" if j == top else "" for j in range(len(rows))]
    head = _render.heading(
        f"How query {query} ({tokens[query]}) decides where to look",
        f"q·k, divided by √{steps['z'].size} = {steps['sqrt_d']:.2f}, softmax over the {len(rows)} keys it may see "
        f"(bold: the largest coefficient); the head's output z is the coefficient-weighted sum of values, "
        f"|z| = {steps['z_norm']:.3f}")
    return head + _render.table(["key", "token", "q·k", "÷ √d", "coefficient", ""], rows, styles)
