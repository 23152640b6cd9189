"""What every gptviz picture shares: colour maps, fonts, figure creation, token labels, checks.

Colour maps are chosen for readers with colour-blind vision: ``viridis`` for values that only grow
(attention coefficients, probabilities, norms) and the blue-white-red ``RdBu_r`` centred on zero
for signed values (embeddings, activations). Cells that a causal mask hides are grey.
"""

from __future__ import annotations

import functools
import html
import io
import math
import numbers
import unicodedata

import matplotlib
import matplotlib.figure
import numpy as np
import torch

from ..checks import check_head, check_layer, check_position  # noqa: F401  (the views import them from here)
from ..errors import InputError

SEQUENTIAL = "viridis"
DIVERGING = "RdBu_r"
MASKED = "#d0d0d0"  # causally masked cells: a key the query cannot see
#: Okabe-Ito vermillion: what a picture points the reader to (highlighted cells and links, where the
#: prompt ends, the explorers' selected row and chosen token).
ACCENT = "#d55e00"
#: Light tints of the Okabe-Ito palette: neighbouring tokens differ for every kind of colour vision.
TOKEN_COLOURS = ("#f5d08a", "#a6d4f2", "#9fdcc5", "#f2b8a0", "#d9bfe0", "#f7f0a0")

# Families tried in order for each character; only installed ones are used (no warnings).
_PREFERRED_FONTS = ("DejaVu Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "WenQuanYi Zen Hei",
                    "Noto Emoji", "Last Resort High-Efficiency")
_PREFERRED_MONO = ("DejaVu Sans Mono",) + _PREFERRED_FONTS[1:]


@functools.lru_cache(maxsize=None)
def colour_levels(cmap: str) -> np.ndarray:
    """The colour map's 256 levels as a ``[256, 3]`` uint8 lookup table (level 0 is the map's
    low end): the colours of the widgets' and the heads page's pixel heatmaps."""
    from matplotlib import colormaps

    return (colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3] * 255 + 0.5).astype(np.uint8)


@functools.lru_cache(maxsize=None)
def font_families(mono: bool = False) -> list[str]:
    """Installed font families for labels, with fallbacks for CJK and emoji characters.

    matplotlib falls back along the list character by character; its bundled "Last Resort" font
    draws a box naming the character's script when no installed font has the glyph.
    """
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    families = [f for f in (_PREFERRED_MONO if mono else _PREFERRED_FONTS) if f in installed]
    return families or ["sans-serif"]


class ViewFigure(matplotlib.figure.Figure):
    """A matplotlib figure that shows itself as PNG in a notebook even when pyplot was never
    imported (a bare ``Figure`` would print as text). It never goes through pyplot, so a notebook
    cell displays it once."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png")
        return buf.getvalue()


def styled(view):
    """Decorator for a matplotlib view: draw it with gptviz's fonts, and with ``$`` in token labels
    shown as a dollar sign rather than starting a formula."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context({"font.family": font_families(), "text.parse_math": False,
                                    "axes.titlesize": 11, "figure.titlesize": 12}):
            return view(*args, **kwargs)

    return wrapper


def new_figure(width: float, height: float, **kwargs) -> ViewFigure:
    """A figure of ``width`` x ``height`` inches whose layout keeps labels inside it."""
    return ViewFigure(figsize=(width, height), layout="constrained", **kwargs)


def finish(fig: ViewFigure) -> ViewFigure:
    """Lay ``fig`` out once and keep that layout. With no layout engine left, a save draws the
    figure once, instead of measuring every label again in a dry run first (labels are most of a
    heatmap's drawing time). :func:`relayout` lays it out again after a change of size."""
    fig.get_layout_engine().execute(fig)
    fig.set_layout_engine(None)
    fig.laid_out = True
    return fig


def relayout(fig) -> None:
    """Lay a gptviz figure out again after a change of size: by its own ``place()`` when it has
    one (views placed by hand), else by constrained layout when :func:`finish` made it."""
    place = getattr(fig, "place", None)
    if place is not None:
        place()
    elif getattr(fig, "laid_out", False):
        fig.set_layout_engine("constrained")
        finish(fig)


def to_numpy(x, name: str = "tensor") -> np.ndarray:
    """A float64 NumPy copy of a tensor, array or list."""
    if isinstance(x, torch.Tensor):
        x = x.detach().to("cpu", torch.float64).numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numbers (a tensor or array), got {type(x).__name__}") from None


def check_len(tokens, n: int, what: str) -> list[str]:
    """The labels as a list of ``n`` strings, or an error that states both lengths."""
    tokens = [str(t) for t in tokens]
    if len(tokens) != n:
        raise InputError(f"{what} has {n} positions but {len(tokens)} token labels were given: "
                         "pass one label per position (trace.tokens)")
    return tokens


def check_prompt_len(prompt_len, n_tokens: int) -> int:
    """``prompt_len`` (how many of ``n_tokens`` tokens are the prompt) as an int in
    ``1 .. n_tokens``; None means the whole text is the prompt."""
    if prompt_len is None:
        return n_tokens
    if isinstance(prompt_len, bool) or not isinstance(prompt_len, numbers.Integral) \
            or not 1 <= prompt_len <= n_tokens:
        raise InputError(f"prompt_len must be a whole number from 1 to {n_tokens} (the text's tokens), got "
                         f"{prompt_len!r}: pass len(out.prompt_ids) for a generation's text")
    return int(prompt_len)


def key_labels(trace) -> list[str]:
    """Labels for the key positions of a trace's attention: the trace's tokens, preceded by
    ``[j]`` placeholders for positions read from a cache before the trace began."""
    return [f"[{j}]" for j in range(trace.start)] + list(trace.tokens)


def causal_mask(n_query: int, n_key: int) -> np.ndarray:
    """True where query ``i`` may not see key ``j``: the last ``n_query`` of ``n_key`` positions
    are the queries, so query ``i`` sees keys ``0 .. n_key - n_query + i``. Shape [n_query, n_key]."""
    offset = n_key - n_query
    return np.arange(n_key)[None, :] > (np.arange(n_query)[:, None] + offset)


def label_step(n: int, max_labels: int) -> int:
    """Show every ``step``-th of ``n`` labels so that at most ``max_labels`` are shown."""
    return max(1, math.ceil(n / max_labels))


def label_size(n_shown: int) -> float:
    """A font size (points) that keeps ``n_shown`` labels along one side of a figure legible."""
    return 9.0 if n_shown <= 24 else 7.5 if n_shown <= 48 else 6.0


def set_token_ticks(ax, axis: str, tokens: list[str], max_labels: int = 40,
                    rotate: bool = True) -> tuple[list[str], float]:
    """Label an axis with tokens at integer positions, thinned to ``max_labels``; thinned labels
    carry their position (``12:␣robot``) so a reader can still count. Returns the labels shown
    and their font size."""
    step = label_step(len(tokens), max_labels)
    ticks = list(range(0, len(tokens), step))
    labels = [tokens[i] if step == 1 else f"{i}:{tokens[i]}" for i in ticks]
    size = label_size(len(ticks))
    if axis == "x":
        ax.set_xticks(ticks, labels, fontsize=size, rotation=90 if rotate else 0)
    else:
        ax.set_yticks(ticks, labels, fontsize=size)
    return labels, size


def cell_width(label: str) -> int:
    """Character cells a label takes in a monospaced font: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in label)


def shorten(label: str, cells: int) -> str:
    """``label`` cut to at most ``cells`` character cells (:func:`cell_width`), "…" included."""
    if cell_width(label) <= cells:
        return label
    n, used = 0, 0
    while used + cell_width(label[n]) <= cells - 1:
        used += cell_width(label[n])
        n += 1
    return label[:n] + "…"


def label_inches(labels: list[str], size: float) -> float:
    """A generous estimate of the length of the longest label at ``size`` points, in inches, with
    the tick and its padding (East Asian wide characters count double)."""
    longest = max((cell_width(label) for label in labels), default=0)
    return longest * size * 0.65 / 72 + 0.12


def symmetric_limit(values: np.ndarray) -> float:
    """The largest absolute value (at least a tiny positive number): a diverging scale centred on 0."""
    finite = values[np.isfinite(values)]
    return float(max(np.abs(finite).max(initial=0.0), 1e-12))


def text_colour(rgba) -> str:
    """Black or white, whichever reads better on a cell of colour ``rgba``."""
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def plotly_label(label: str) -> str:
    """A token label made safe for plotly, which reads labels and hover text as HTML-like markup:
    ``<``, ``>`` and ``&`` become entities that plotly displays as the characters themselves."""
    return html.escape(str(label), quote=False)


def choose_positions(positions, n: int, max_rows: int) -> tuple[list[int], str]:
    """The positions to show as rows: ``positions`` (checked), or else the last ``max_rows`` of
    ``n``, with a note for the title when some are left out."""
    if positions is not None:
        rows = [check_position(p, n) for p in positions]
        if not rows:
            raise InputError("positions is empty: give at least one position to show")
        return rows, ""
    if n <= max_rows:
        return list(range(n)), ""
    return list(range(n - max_rows, n)), f" (last {max_rows} of {n} tokens)"
