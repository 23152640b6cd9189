"""Text as the model sees it: a row of tokens with their ids, and the byte-pair merges of a word.

Labels come from :meth:`gptviz.tokenizer.Tokenizer.token_str`: a space is ``␣``, a newline ``↵``,
a tab ``⇥``, and a byte that is only part of a character (an emoji is often split over several
tokens) is ``\\xNN``; such tokens get a dashed box.
"""

from __future__ import annotations

from matplotlib.collections import PatchCollection
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Patch

from ..errors import InputError
from ..inputs import read_input
from ..tokenizer import clean_surrogates, get_tokenizer, readable
from .style import ACCENT, TOKEN_COLOURS, ViewFigure, cell_width, check_prompt_len, font_families, styled

UNIT = 0.09  # inches per character cell of the strip
ROW = 0.55  # inches per row of boxes
LINE_UNITS = 80  # character cells per row: 7.2 inches, so a strip fits a notebook's 8 inches
LABEL_PT, ID_PT = 10, 8  # no label under 8 pt at notebook width
MERGED = "#e69f00"  # the part a merge step has just formed (Okabe-Ito orange)
PLAIN = "#e8e8e8"
GENERATED_FILL, GENERATED_EDGE = "white", "#0072b2"  # a token the model wrote (Okabe-Ito blue outline)
GAP = 1.0  # cells left free for the mark where the prompt ends
MAX_STRIP_TOKENS = 2000  # token_strip: about 60 rows of boxes, a few seconds to draw
MAX_MERGE_BYTES = 64  # bpe_merges: one row per merge step, so at most 64 rows


def _box_units(label: str, sub: str) -> int:
    return max(cell_width(label), len(sub) * ID_PT / LABEL_PT) + 1.5


def _draw_box(ax, boxes: list, x: float, y: float, label: str, sub: str, colour: str, dashed: bool,
              edge: str | None = None) -> float:
    """One token box at ``(x, y)`` (cells, rows; y grows downwards): label, and ``sub`` below in
    small grey type; ``edge``: an outline colour (a dashed outline marks part of a character). The
    box itself joins ``boxes``, drawn by :func:`_add_boxes` as one collection (hundreds of separate
    patches draw slowly). Returns the box width in cells."""
    width = _box_units(label, sub)
    boxes.append(FancyBboxPatch((x + 0.15, y + 0.08), width - 0.3, 0.62, boxstyle="round,pad=0,rounding_size=0.12",
                                facecolor=colour, edgecolor=edge or ("#555555" if dashed else "none"),
                                linestyle="--" if dashed else "-", linewidth=1.2 if edge else 0.8))
    ax.text(x + width / 2, y + 0.4, label, ha="center", va="center", fontsize=LABEL_PT,
            family=font_families(mono=True))
    ax.text(x + width / 2, y + 0.86, sub, ha="center", va="center", fontsize=ID_PT, color="#444444")
    return width


def _add_boxes(ax, boxes: list) -> None:
    ax.add_collection(PatchCollection(boxes, match_original=True, zorder=0))


def _canvas(n_rows: int, title: str, units: float = LINE_UNITS, legend: list | None = None,
            key: str | None = None) -> tuple[ViewFigure, object]:
    """A figure whose axes measure ``units`` character cells across and ``n_rows`` rows down,
    with ``title`` on top, under it the line ``key`` in smaller type, then a one-line legend of
    ``legend`` (artists with labels)."""
    key_in = 0.25 if key else 0.0
    title_in = 0.55 + key_in + (0.35 if legend else 0.0)
    height = n_rows * ROW + title_in + 0.1
    width = max(units * UNIT, 6.0)
    fig = ViewFigure(figsize=(width + 0.4, height))
    ax = fig.add_axes((0.2 / (width + 0.4), 0.1 / height, width / (width + 0.4), (height - title_in - 0.1) / height))
    ax.set_xlim(0, width / UNIT)
    ax.set_ylim(n_rows, 0)
    ax.set_axis_off()
    fig.suptitle(title, y=1 - 0.12 / height, va="top", fontsize=11)
    if key:
        fig.text(0.5, 1 - 0.42 / height, key, ha="center", va="top", fontsize=8.5, color="#444444")
    if legend:
        fig.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, 1 - (0.45 + key_in) / height),
                   ncol=len(legend), fontsize=9, frameon=False)
    return fig, ax


def _ids_of(text_or_ids, tok, allow_special: bool) -> tuple[list[int], str, int | None]:
    """The ids, the text, and the prompt's length when ``text_or_ids`` is a generation."""
    if hasattr(text_or_ids, "prompt_ids") and hasattr(text_or_ids, "new_ids"):  # a Generation
        ids = read_input(tok, list(text_or_ids.prompt_ids) + list(text_or_ids.new_ids)).ids
        return ids, tok.decode(ids), len(text_or_ids.prompt_ids)
    if hasattr(text_or_ids, "ids"):  # a Trace
        return list(text_or_ids.ids), text_or_ids.text, None
    read = read_input(tok, text_or_ids, allow_special=allow_special)
    return read.ids, read.text, None


@styled
def token_strip(text_or_ids, tokenizer=None, allow_special: bool = False, prompt_len: int | None = None):
    """How is this text cut into tokens? Each token in a coloured box with its id beneath.

    ``text_or_ids``: a string, a list of token ids, a trace (checked as everywhere, see
    :mod:`gptviz.inputs`; ``allow_special`` reads a literal ``<|endoftext|>`` as its token), or what
    :func:`~gptviz.generation.generate` returns. For a generation, or with ``prompt_len`` (how many
    of the tokens are the prompt), the prompt's tokens stay coloured, the generated ones are white
    with a blue outline, and a bar marks where the prompt ends. Rows wrap at 7.2 inches (a
    notebook's width) and after every token that ends a line of the text. At most ``MAX_STRIP_TOKENS`` (2,000) tokens.
    """
    tok = tokenizer or get_tokenizer()
    ids, text, from_generation = _ids_of(text_or_ids, tok, allow_special)
    if prompt_len is None:
        prompt_len = from_generation
    if len(ids) > MAX_STRIP_TOKENS:
        raise InputError(f"{len(ids):,} tokens are too many for one strip: token_strip draws at most "
                         f"{MAX_STRIP_TOKENS:,}; pass a part of them, e.g. ids[:{MAX_STRIP_TOKENS}]")
    split = prompt_len is not None
    prompt_len = check_prompt_len(prompt_len, len(ids))
    labels = tok.tokens(ids)
    # Lay out first (cells, rows), then draw on a canvas of the right height.
    places, x, row, used = [], 0.0, 0, 0.0
    for n, (i, label) in enumerate(zip(ids, labels)):
        if split and n == prompt_len and n:
            x += GAP
        width = _box_units(label, str(i))
        if x > 0 and x + width > LINE_UNITS:
            x, row = 0.0, row + 1
        places.append((x, row))
        x += width
        used = max(used, x)
        if tok.token_bytes(i).endswith(b"\n"):
            x, row = 0.0, row + 1
    n_rows = places[-1][1] + 1
    title = f"{len(ids)} tokens for {len(text)} characters"
    key = "␣ space, ↵ newline, \\xNN part of a character (dashed box); the number below is the token id"
    n_new = len(ids) - prompt_len
    legend = [Patch(facecolor=TOKEN_COLOURS[0], label=f"prompt: {prompt_len} token{'s' * (prompt_len != 1)}"),
              Patch(facecolor=GENERATED_FILL, edgecolor=GENERATED_EDGE, lw=1.2,
                    label=f"generated by the model: {n_new} token{'s' * (n_new != 1)}"),
              Line2D([], [], color=ACCENT, lw=2.5, label="where the prompt ends")] if split else None
    fig, ax = _canvas(n_rows, title, used, legend, key)
    boxes = []
    for n, (i, label, (x, row)) in enumerate(zip(ids, labels, places)):
        generated = split and n >= prompt_len
        _draw_box(ax, boxes, x, row, label, str(i),
                  GENERATED_FILL if generated else TOKEN_COLOURS[n % len(TOKEN_COLOURS)], "\\x" in label,
                  GENERATED_EDGE if generated else None)
    _add_boxes(ax, boxes)
    if split and 0 < prompt_len < len(ids):
        x, row = places[prompt_len]
        x = x - GAP / 2 if x > 0 else 0.05  # the first generated token may start a row
        ax.plot([x, x], [row + 0.02, row + 0.98], color=ACCENT, lw=2.5, solid_capstyle="butt", gid="prompt-end")
    return fig


@styled
def bpe_merges(piece: str, tokenizer=None):
    """How does byte-pair encoding turn one word into tokens? One row per merge step.

    Row 0 has every UTF-8 byte apart; each later row joins the adjacent pair with the lowest rank
    (the newly joined part in orange, its rank on the right); the last row shows the token ids.
    ``piece``: one piece of the pre-tokenizer, e.g. ``" robot"`` (see ``tokenizer.pieces(text)``), of at
    most ``MAX_MERGE_BYTES`` (64) bytes: a row per step.
    """
    tok = tokenizer or get_tokenizer()
    piece = clean_surrogates(piece) if isinstance(piece, str) else piece  # as bpe_steps reads it
    n_bytes = len(piece.encode("utf-8")) if isinstance(piece, str) else 0
    if n_bytes > MAX_MERGE_BYTES:
        raise InputError(f"This piece is {n_bytes:,} bytes; bpe_merges draws one row per "
                         f"merge, for pieces of at most {MAX_MERGE_BYTES} bytes: draw a shorter piece, or list the "
                         "steps of this one with tokenizer.bpe_steps(piece)")
    steps = tok.bpe_steps(piece)
    last = len(steps) - 1
    rows = []  # per step: (label, id below, colour) of each part, and the note on the right
    for row, step in enumerate(steps):
        joined = step.pair[0] + step.pair[1] if step.pair else None
        parts = [(readable(p), str(tok.id_of(p)) if row == last else "", MERGED if p == joined else PLAIN)
                 for p in step.parts]
        note = (f"merge {readable(step.pair[0])} + {readable(step.pair[1])} (rank {step.rank})"
                if step.pair else "start: one box per byte")
        rows.append((parts, note))
    units = max(sum(_box_units(label, sub) for label, sub, _ in parts) + 1.5 + 0.7 * len(note)
                for parts, note in rows)
    n_bytes, n_tokens = len(steps[0].parts), len(steps[-1].parts)
    fig, ax = _canvas(len(steps), f"Byte-pair merges of {readable(piece.encode('utf-8'))}: {n_bytes} "
                                  f"byte{'s' * (n_bytes != 1)} to {n_tokens} token{'s' * (n_tokens != 1)}", units)
    boxes = []
    for row, (parts, note) in enumerate(rows):
        x = 0.0
        for label, sub, colour in parts:
            x += _draw_box(ax, boxes, x, row, label, sub, colour, "\\x" in label)
        ax.text(x + 1.5, row + 0.4, note, va="center", fontsize=9, color="#333333")
    _add_boxes(ax, boxes)
    return fig
