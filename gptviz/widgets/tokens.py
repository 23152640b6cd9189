"""Text to tokens, and tokens to vectors: a tokenizer explorer and an embedding explorer.

Neither runs the model: tokenizing is GPT-2's byte-pair encoding, and an embedding is a row of a
table (``wte`` for the token, ``wpe`` for the position). ``n_forward`` stays 0.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch

from ..embeddings import input_embeddings, nearest_tokens, vector_lengths
from ..errors import InputError
from ..inputs import EXPLORER, read_input
from ..tokenizer import get_tokenizer, readable
from ..viz.style import DIVERGING, symmetric_limit
from ..viz.tokens import MAX_MERGE_BYTES, bpe_merges, token_strip
from ..viz.vectors import embedding_map
from . import _render
from .base import Explorer, ExportBar, html_box, row, text_box

MAX_CHIPS = 1000  # tokens drawn as boxes (and exported); a longer text is counted in full but drawn in part
MAX_PIECES = 1000  # pieces offered in the piece menu: those of the text's start
MENU_CHARS = 40  # characters of a piece shown in the menu
MAX_PIECE_BYTES = MAX_MERGE_BYTES  # longer pieces are not stepped through, on screen or in the export
GPT2_CONTEXT = 1024


class TokenizerExplorer(Explorer):
    """How does GPT-2 cut a text into tokens? The tokens, their ids and their count update as you
    type; pick a piece of the text (a word with its leading space) and step through its byte-pair
    merges with a slider. Needs no model (``model`` only sets the context length that is checked).
    """

    def __init__(self, model=None, text: str = "Tokenization isn't magic: GPT-2 reads bytes.",
                 folder: str = "exports"):
        super().__init__(model, load_model=False)
        self.tokenizer = self.model.tokenizer if self.model is not None else get_tokenizer()
        self.n_ctx = self.model.config.n_ctx if self.model is not None else GPT2_CONTEXT
        self.ids: list[int] = []
        self.pieces: list[str] = []
        self.shown = ""  # the text read (lone surrogates mended)
        self.steps = []  # the merge steps of the selected piece
        self.text = text_box(text, live=True)
        self.count = html_box("gptviz-n-tokens")
        self.tokens = html_box("gptviz-tokens")
        self.ids_view = html_box("gptviz-ids")
        self.piece = widgets.Dropdown(description="piece", options=[])
        self.piece.add_class("gptviz-piece")
        self.merge_step = widgets.IntSlider(description="merge step", min=0, max=0, continuous_update=True)
        self.merge_step.add_class("gptviz-merge-step")
        self.merges = html_box("gptviz-merges")
        self.export_bar = ExportBar(self, ["tokens", "merges"], folder)
        self.children = [self.text, self.special, self.message, self.count, self.tokens, self.ids_view,
                         row(self.piece, self.merge_step), self.merges, self.export_bar]
        self.piece.observe(self._on_piece, names="value")
        self.watch(self.merge_step)
        self.text.observe(lambda change: self.set_text(change["new"]), names="value")
        self.set_text(text)

    def read(self, text: str) -> None:
        read = read_input(self.tokenizer, text, allow_special=self.special.value, via=EXPLORER)
        notes = list(read.notes)
        self.ids, self.shown = read.ids, read.text
        self.pieces = self.tokenizer.pieces(read.text)[:MAX_PIECES]
        if len(read.ids) > self.n_ctx:
            notes.append(f"{len(read.ids):,} tokens: longer than the model's context of {self.n_ctx:,} tokens; "
                         f"the model would read only the last {self.n_ctx:,}.")
        if len(self.pieces) == MAX_PIECES:
            notes.append(f"The piece menu offers the first {MAX_PIECES:,} pieces.")
        if notes:
            self.say(" ".join(notes), "info")
        options = [(f"{i}: {readable(p[:MENU_CHARS].encode('utf-8'))}{'…' * (len(p) > MENU_CHARS)}", i)
                   for i, p in enumerate(self.pieces)]
        longest = max(range(len(self.pieces)), key=lambda i: len(self.pieces[i].encode("utf-8")))
        self.piece.options = options
        self.piece.value = longest
        self._on_piece()

    def _on_piece(self, change=None) -> None:
        """A new piece: fit the merge slider to its steps, at the last (the piece's tokens)."""
        if self.piece.value is None:
            return
        piece = self.pieces[self.piece.value]
        if len(piece.encode("utf-8")) > MAX_PIECE_BYTES:
            self.steps = []
        else:
            self.steps = self.tokenizer.bpe_steps(piece)
        with self.held():
            self.merge_step.max = max(len(self.steps) - 1, 0)
            self.merge_step.value = self.merge_step.max

    def draw(self) -> None:
        ids = self.ids
        self.count.value = (f"{_render.number(len(ids), ',d')} tokens for {len(self.shown):,} characters "
                            f"({len(self.shown.encode('utf-8')):,} bytes)")
        shown = ids[:MAX_CHIPS]
        more = ""
        if len(ids) > MAX_CHIPS:
            more = _render.message(f"(the first {MAX_CHIPS:,} of {len(ids):,} tokens)", "info")
        self.tokens.value = _render.chips(self.tokenizer.tokens(shown), [str(i) for i in shown]) + more
        self.ids_view.value = f'<div style="{_render.MONO};font-size:12px">ids: {_render.esc(shown)}</div>'
        self.merges.value = self._merges_html()

    def _merges_html(self) -> str:
        if not self.steps:
            return _render.message(f"This piece is longer than {MAX_PIECE_BYTES} bytes: pick a shorter one "
                                   "to step through its merges", "info")
        s = self.merge_step.value
        lines = []
        for n, step in enumerate(self.steps[: s + 1]):
            joined = step.pair[0] + step.pair[1] if step.pair else None
            parts = [_render.chip(readable(p), str(self.tokenizer.id_of(p)) if n == len(self.steps) - 1 else "",
                                  _render.ACCENT if p == joined and n == s else "#e8e8e8",
                                  "color:white" if p == joined and n == s else "") for p in step.parts]
            note = (f"merge {readable(step.pair[0])} + {readable(step.pair[1])} (rank {step.rank:,})"
                    if step.pair else "start: one box per byte")
            lines.append(f'<div style="{_render.FONT};{"font-weight:bold" if n == s else "color:#666"}">'
                         f'{"".join(parts)} <span>{_render.esc(note)}</span></div>')
        done = "these are the piece's tokens" if s == len(self.steps) - 1 else "move the slider on for the next merge"
        return _render.heading(f"Byte-pair merges, step {s} of {len(self.steps) - 1}", done) + "".join(lines)

    def file_stem(self, view: str) -> str:
        return f"tokenizer-{view}"

    def figure(self, view: str, fmt: str):
        """The tokens shown (at most ``MAX_CHIPS``), or the selected piece's merges."""
        if view == "tokens":
            return token_strip(self.ids[:MAX_CHIPS], self.tokenizer)
        piece = self.pieces[self.piece.value]
        if len(piece.encode("utf-8")) > MAX_PIECE_BYTES:
            raise InputError(f"This piece is {len(piece.encode('utf-8')):,} bytes; merges are drawn for pieces of "
                             f"at most {MAX_PIECE_BYTES}: pick a shorter one in the piece menu")
        return bpe_merges(piece, self.tokenizer)


class EmbeddingExplorer(Explorer):
    """What vector does the model start from for each token? Pick tokens of the text: each gets
    its token embedding (a row of ``wte``), its position's embedding (a row of ``wpe``) and their
    sum, the vector that enters block 0, all on one colour scale; and the tokens whose embeddings
    point the same way (cosine similarity over all of ``wte``).
    """

    N_NEAREST = 8

    def __init__(self, model=None, text: str = "The king and the queen walked to the castle.",
                 picked=(1, 4), folder: str = "exports"):
        super().__init__(model)
        self.ids: list[int] = []
        self._picked = tuple(picked)
        self.text = text_box(text)
        self.pick = widgets.SelectMultiple(description="tokens", options=[], rows=6)
        self.pick.add_class("gptviz-pick")
        self.vectors = html_box("gptviz-vectors")
        self.nearest = html_box("gptviz-nearest")
        self.export_bar = ExportBar(self, ["embedding map"], folder)
        self.children = [self.text, self.special, self.message, row(self.pick, self.nearest), self.vectors, self.export_bar]
        self.watch(self.pick)
        self.text.observe(lambda change: self.set_text(change["new"]), names="value")
        self.set_text(text)

    def read(self, text: str) -> None:
        ids = self.checked(text).ids  # checks: empty, too long; no forward pass
        tokens = self.model.tokenizer.tokens(ids)
        keep = [p for p in (self.pick.value or self._picked) if p < len(ids)] or [0]
        self.ids = ids
        self.pick.options = [(f"{i}: {t}", i) for i, t in enumerate(tokens)]
        self.pick.value = tuple(keep)

    def draw(self) -> None:
        positions = list(self.pick.value)
        if not positions:
            self.vectors.value = _render.message("Pick one or more tokens (Ctrl/Shift-click for several)", "info")
            self.nearest.value = ""
            return
        model, tok = self.model, self.model.tokenizer
        ids = [self.ids[p] for p in positions]
        token_vecs, pos_vecs, sums = (v.numpy() for v in input_embeddings(model, self.ids, positions))  # [n, D] each
        limit = symmetric_limit(np.concatenate([token_vecs, pos_vecs, sums]))
        D = token_vecs.shape[1]
        width = D * max(1, 640 // D)
        rows = []
        lengths = [vector_lengths(v) for v in (token_vecs, pos_vecs, sums)]  # [n] each: gptviz.embeddings
        for r, (p, i, t, e, s) in enumerate(zip(positions, ids, token_vecs, pos_vecs, sums)):
            parts = ((f"token {tok.token_str(i)} (id {i})", t), (f"+ position {p}", e), ("= input to block 0", s))
            for (label, v), length in zip(parts, (n[r] for n in lengths)):
                rows.append([_render.token_cell(label),
                             _render.pixels(_render.colourise(v[None], DIVERGING, -limit, limit), width, 14),
                             f"{length:.2f}"])
        scale = _render.colour_bar(DIVERGING, f"{-limit:.2f}", f"{limit:.2f}", "blue negative, red positive")
        self.vectors.value = (_render.heading("Embeddings", f"{D} numbers each, one cell per number") +
                              _render.table(["", f"the {D} dimensions", "length"], rows) + scale)
        self.nearest.value = self._nearest_html(ids, token_vecs)

    def _nearest_html(self, ids: list[int], vecs: np.ndarray) -> str:
        tok = self.model.tokenizer
        near, cosines = nearest_tokens(self.model, torch.from_numpy(vecs), self.N_NEAREST, exclude=ids)
        blocks = []
        for i, found, cos in zip(ids, near.tolist(), cosines.tolist()):
            cells = " ".join(f'{_render.token_cell(tok.token_str(j))} <span style="color:#666">{c:.2f}</span>'
                             for j, c in zip(found, cos))
            blocks.append(f'<div style="{_render.FONT};margin:2px 0">'
                          f'<b>{_render.esc(tok.token_str(i))}</b>: {cells}</div>')
        note = "cosine similarity of token embeddings (rows of wte)"
        return _render.heading("Nearest tokens", note) + "".join(blocks)

    def file_stem(self, view: str) -> str:
        return "embeddings-map"

    def figure(self, view: str, fmt: str):
        ids = sorted({self.ids[p] for p in self.pick.value} | set(self.ids))
        return embedding_map(self.model, ids)
