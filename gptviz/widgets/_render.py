"""Fast pictures for the widgets: HTML tables and bars, inline SVG, and small PNGs the browser scales.

A slider must redraw in milliseconds, which a matplotlib figure cannot (a 128-token heatmap takes
~0.2 s to draw and ~40 ms just to PNG-encode at 900 x 800 pixels). Here every picture is a string of
HTML for a ``widgets.HTML``: labels are text that the browser lays out (any script, always passed
through :func:`esc`), and a matrix is a PNG with one pixel per cell (a 128 x 128 pattern encodes in
about a millisecond) that the browser scales up with ``image-rendering: pixelated``. No script and no
external resource: this works offline in JupyterLab, Notebook 7, VS Code and Voila.

Colours follow :mod:`gptviz.viz.style`: ``viridis`` for coefficients and probabilities, ``RdBu_r``
centred on zero for signed values, grey for masked cells.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re

import numpy as np
from matplotlib.colors import to_rgb
from PIL import Image

from ..viz.style import ACCENT, MASKED, TOKEN_COLOURS, colour_levels

FONT = "font-family:var(--jp-ui-font-family, sans-serif);font-size:12px"
MONO = "font-family:var(--jp-code-font-family, monospace)"
BAR = "#0072b2"  # Okabe-Ito blue
CUT = "#bbbbbb"


def esc(text) -> str:
    """``text`` made safe to put inside HTML (element content or a quoted attribute)."""
    return html.escape(str(text), quote=True)


# ---- colours and pixels --------------------------------------------------------------------
def colourise(values: np.ndarray, cmap: str, vmin: float, vmax: float, mask: np.ndarray | None = None) -> np.ndarray:
    """``values`` ``[...]`` as RGB pixels ``[..., 3]`` (uint8): 256 levels from ``vmin`` to ``vmax``;
    cells where ``mask`` is True, or that are NaN, in the masked grey."""
    v = np.asarray(values, dtype=np.float64)
    scaled = (v - vmin) * (255.0 / max(vmax - vmin, 1e-30))
    index = np.clip(np.nan_to_num(scaled, nan=0.0) + 0.5, 0, 255).astype(np.uint8)
    rgb = colour_levels(cmap)[index]
    bad = np.isnan(v) if mask is None else (mask | np.isnan(v))
    if bad.any():
        rgb[bad] = np.array(to_rgb(MASKED)) * 255
    return rgb


def png_uri(rgb: np.ndarray) -> str:
    """RGB pixels ``[H, W, 3]`` (uint8) as a ``data:image/png;base64,...`` address."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="png", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def pixels(rgb: np.ndarray, width: int, height: int, alt: str = "") -> str:
    """An ``<img>`` of ``rgb`` ``[h, w, 3]`` shown at ``width`` x ``height`` CSS pixels, each cell a
    sharp rectangle."""
    return (f'<img src="{png_uri(rgb)}" width="{width}" height="{height}" alt="{esc(alt)}" '
            f'style="display:block;max-width:none;image-rendering:crisp-edges;image-rendering:pixelated">')


def colour_bar(cmap: str, low: str, high: str, note: str = "") -> str:
    """A small horizontal colour scale labelled ``low`` .. ``high``."""
    strip = pixels(colour_levels(cmap)[None], 160, 10, f"colour scale {low} to {high}")
    return (f'<div style="display:flex;align-items:center;gap:6px;margin-top:4px;{FONT}">'
            f'<span>{esc(low)}</span>{strip}<span>{esc(high)}</span>'
            f'<span style="color:#555">{esc(note)}</span></div>')


# ---- text ----------------------------------------------------------------------------------
def number(value, fmt: str = ".4f") -> str:
    """A number in a ``gptviz-number`` span, where browser tests read it."""
    return f'<span class="gptviz-number">{value:{fmt}}</span>'


def prob(p: float) -> str:
    """A probability as text: four decimals, or three significant digits below 0.001, "0" when cut."""
    p = float(p)
    return "0" if p == 0 else f"{p:.4f}" if p >= 1e-3 else f"{p:.2e}"


def message(text: str, kind: str = "error") -> str:
    """A one-line notice: ``error`` (red) or ``info`` (grey); empty text gives an empty string."""
    if not text:
        return ""
    colour, sign = ("#b00020", "⚠ ") if kind == "error" else ("#555555", "")
    return f'<div style="color:{colour};{FONT};white-space:pre-wrap">{sign}{esc(text)}</div>'


# ---- a copy for pages without a kernel -----------------------------------------------------
_INLINE_SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)  # gptviz's own SVG: never nested
_PIXELS = re.compile(r'<img src="data:image/png;base64,([^"]+)" width="(\d+)" height="(\d+)"')  # as pixels() writes
MAX_SHARP_PIXELS = 1024 * 1024  # larger pictures keep one pixel per cell


def _svg_image(match) -> str:
    data = base64.b64encode(match.group(0).encode("utf-8")).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{data}" alt="" style="display:block;max-width:none">'


def _sharp_image(match) -> str:
    data, width, height = match.group(1), int(match.group(2)), int(match.group(3))
    image = Image.open(io.BytesIO(base64.b64decode(data)))
    w, h = image.size
    if (width, height) == (w, h) or width % w or height % h or width * height > MAX_SHARP_PIXELS:
        return match.group(0)
    rgb = np.repeat(np.repeat(np.asarray(image.convert("RGB")), height // h, axis=0), width // w, axis=1)
    return f'<img src="{png_uri(rgb)}" width="{width}" height="{height}"'


def for_sanitisers(markup: str) -> str:
    """``markup`` as it survives an HTML sanitiser that keeps images but drops inline SVG and most
    CSS (JupyterLab's, for a notebook it has not run; GitHub's): every inline ``<svg>`` becomes an
    ``<img>`` of the same picture, and every picture of :func:`pixels` is stored at its shown size,
    each cell a block of pixels, so that it stays sharp without ``image-rendering: pixelated``."""
    return _PIXELS.sub(_sharp_image, _INLINE_SVG.sub(_svg_image, markup))


def static_page(body: str) -> str:
    """An explorer's static copy (``body``) in a frame, under a line saying that it is a picture:
    its controls work only in a running notebook."""
    note = ("A picture of this explorer as it was last drawn. Run the notebook (JupyterLab, Notebook 7, "
            "VS Code, Voila) to use its controls.")
    return (f'<div class="gptviz-static" style="border:1px solid #ddd;padding:6px;{FONT}">'
            f'<div style="color:#555;font-style:italic;margin-bottom:4px">{esc(note)}</div>{body}</div>')


def heading(text: str, note: str = "") -> str:
    extra = f' <span style="font-weight:normal;color:#555">{esc(note)}</span>' if note else ""
    return f'<div style="{FONT};font-weight:bold;margin:6px 0 2px">{esc(text)}{extra}</div>'


def chip(label: str, sub: str = "", colour: str = TOKEN_COLOURS[0], css: str = "", cls: str = "",
         title: str = "") -> str:
    """A token in a coloured box, ``sub`` (its id) in small type beneath."""
    below = f'<div style="font-size:9px;color:#444">{esc(sub)}</div>' if sub else ""
    hover = f' title="{esc(title)}"' if title else ""
    klass = f' class="{cls}"' if cls else ""
    return (f'<span{klass}{hover} style="display:inline-block;margin:1px;padding:1px 4px;border-radius:4px;'
            f'background:{colour};text-align:center;{css}"><span style="{MONO};white-space:pre">'
            f'{esc(label)}</span>{below}</span>')


def chips(labels, subs=None, highlight=None) -> str:
    """Tokens as a wrapping row of chips in alternating colours; ``highlight``: indices outlined."""
    subs = subs if subs is not None else [""] * len(labels)
    marked = set(highlight or ())
    out = [chip(t, s, TOKEN_COLOURS[i % len(TOKEN_COLOURS)], f"outline:2px solid {ACCENT}" if i in marked else "")
           for i, (t, s) in enumerate(zip(labels, subs))]
    return f'<div style="line-height:1.1;{FONT}">{"".join(out)}</div>'


def bar(fraction: float, colour: str = BAR, width: int = 120) -> str:
    """A horizontal bar ``fraction`` (0 .. 1) of ``width`` pixels long."""
    w = int(round(min(max(fraction, 0.0), 1.0) * width))
    return (f'<div style="width:{width}px;height:10px;background:#eee">'
            f'<div style="width:{w}px;height:10px;background:{colour}"></div></div>')


def table(header: list[str], rows: list[list[str]], row_styles: list[str] | None = None) -> str:
    """An HTML table; ``header`` is escaped here, the cells of ``rows`` must already be HTML."""
    styles = row_styles or [""] * len(rows)
    cell = "padding:1px 6px;text-align:right;white-space:nowrap"
    head = "".join(f'<th style="{cell}">{esc(h)}</th>' for h in header)
    body = "".join(f'<tr style="{s}">' + "".join(f'<td style="{cell}">{c}</td>' for c in row) + "</tr>"
                   for row, s in zip(rows, styles))
    return f'<table style="border-collapse:collapse;{FONT}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def token_cell(label: str) -> str:
    return f'<span style="{MONO};white-space:pre">{esc(label)}</span>'


def prob_rows(candidates, chosen: int | None = None, width: int = 160) -> str:
    """Candidates ``(id, label, probability)`` as rows: rank, token, id, probability, bar; the
    ``chosen`` id highlighted."""
    rows = [[str(r + 1), token_cell(label), str(i), prob(p), bar(p, ACCENT if i == chosen else BAR, width)]
            for r, (i, label, p) in enumerate(candidates)]
    styles = ["font-weight:bold" if i == chosen else "" for i, _, _ in candidates]
    return table(["#", "token", "id", "probability", ""], rows, styles)


# ---- a labelled heatmap --------------------------------------------------------------------
def _cell_size(n: int, target: int = 512) -> int:
    """CSS pixels per cell so that ``n`` cells take about ``target`` pixels (2 .. 28)."""
    return int(np.clip(target // max(n, 1), 2, 28))


def _label_step(cell: int) -> int:
    """Show every ``step``-th label, so that each gets at least 11 pixels."""
    return max(1, math.ceil(11 / cell))


def _labels(tokens, step: int) -> list[str]:
    """Labels shown at every ``step``-th position; thinned ones carry their position (``12:␣robot``)."""
    return [t if step == 1 else f"{i}:{t}" for i, t in enumerate(tokens)][::step]


class HeatmapLayout:
    """The labels around a ``[n_rows, n_cols]`` heatmap, laid out once per text; :meth:`html`
    then adds only the cells (one PNG pixel each), which is all that changes with a slider."""

    def __init__(self, row_labels, col_labels, row_title: str, col_title: str):
        self.n_rows, self.n_cols = len(row_labels), len(col_labels)
        self.cell = _cell_size(max(self.n_rows, self.n_cols))
        step = _label_step(self.cell)
        span = self.cell * step
        self.width, self.height = self.cell * self.n_cols, self.cell * self.n_rows
        size = min(11, span - 1)
        top = int(np.clip(7 * max(map(len, _labels(col_labels, step))) + 8, 28, 90))  # room for the longest key label
        label = f"overflow:hidden;white-space:pre;{MONO};font-size:{size}px;flex:none"
        cols = "".join(
            f'<div style="{label};width:{min(span, self.width - j * span)}px;height:100%;'
            f'writing-mode:vertical-rl;transform:rotate(180deg);line-height:{span}px">{esc(t)}</div>'
            for j, t in enumerate(_labels(col_labels, step)))
        rows = "".join(
            f'<div style="{label};height:{min(span, self.height - i * span)}px;line-height:{span}px;'
            f'text-align:right;max-width:150px">{esc(t)}</div>'
            for i, t in enumerate(_labels(row_labels, step)))
        self._head = (
            f'<div style="display:inline-grid;grid-template-columns:auto {self.width}px;'
            f'grid-template-rows:{top}px {self.height}px;column-gap:4px;row-gap:2px;{FONT}">'
            f'<div style="font-size:10px;color:#555;align-self:end;text-align:right">{esc(row_title)} ↓<br>'
            f'{esc(col_title)} →</div>'
            f'<div style="display:flex;align-items:stretch;height:{top}px">{cols}</div>'
            f'<div style="display:flex;flex-direction:column;align-items:flex-end">{rows}</div>')

    def html(self, rgb: np.ndarray, highlight_row: int | None = None, alt: str = "", foot: str = "") -> str:
        """The heatmap with cells ``rgb`` ``[n_rows, n_cols, 3]``, row ``highlight_row`` outlined."""
        mark = ""
        if highlight_row is not None:
            mark = (f'<div style="position:absolute;left:0;top:{highlight_row * self.cell}px;width:{self.width}px;'
                    f'height:{self.cell}px;outline:2px solid {ACCENT};pointer-events:none"></div>')
        image = pixels(rgb, self.width, self.height, alt)
        return (f'<div style="display:inline-block">{self._head}<div style="position:relative">{image}{mark}</div>'
                f'</div>{foot}</div>')


# ---- attention as lines --------------------------------------------------------------------
class LinesLayout:
    """Two columns of the same tokens, queries on the left and keys on the right, drawn once per
    text; :meth:`svg` adds one line per link, its opacity the coefficient."""

    LEFT, GAP, LABEL = 150, 140, 150  # pixels: label column, line span, label column

    def __init__(self, tokens):
        n = len(tokens)
        self.row = float(np.clip(512 / max(n, 1), 4, 16))
        step = _label_step(int(self.row))
        size = min(11, self.row * step - 1)
        self.height = int(self.row * n + 8)
        self.width = self.LEFT + self.GAP + self.LABEL
        x1, x2 = self.LEFT - 4, self.LEFT + self.GAP + 4
        texts = []
        for i, t in zip(range(0, n, step), _labels(tokens, step)):
            y = self.y(i)
            texts.append(f'<text x="{x1}" y="{y:.1f}" text-anchor="end">{esc(t)}</text>'
                         f'<text x="{x2}" y="{y:.1f}">{esc(t)}</text>')
        self._head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
                      f'style="display:block"><g style="{MONO};font-size:{size:.0f}px;white-space:pre" '
                      f'dominant-baseline="middle">{"".join(texts)}</g>')

    def y(self, i: float) -> float:
        return 4 + self.row * (i + 0.5)

    def svg(self, links: np.ndarray, highlight: int | None = None) -> str:
        """``links`` rows ``(query, key, weight)`` (see :func:`gptviz.attention.strongest_links`);
        the lines of query ``highlight`` in the accent colour, on top."""
        x1, x2 = self.LEFT, self.LEFT + self.GAP
        plain, marked = [], []
        for q, k, w in links[::-1]:  # weakest first, so the strongest end on top
            line = (f'<line x1="{x1}" y1="{self.y(q):.1f}" x2="{x2}" y2="{self.y(k):.1f}" '
                    f'stroke-opacity="{max(w, 0.05):.3f}"/>')
            (marked if q == highlight else plain).append(line)
        return (f'{self._head}<g stroke="{BAR}" stroke-width="1.5">{"".join(plain)}</g>'
                f'<g stroke="{ACCENT}" stroke-width="2">{"".join(marked)}</g></svg>')


# ---- a distribution over the whole vocabulary ----------------------------------------------
def vocabulary_svg(panels: list[tuple[str, np.ndarray, int | None]], width: int = 560,
                   panel_height: int = 64, floor: float = 1e-8) -> str:
    """Each panel: a title, probabilities ``[V]`` sorted from the most probable token down (all
    panels in the same token order), and the number of tokens kept (the cut-off line; None: no
    line). Both axes are logarithmic: rank 1 .. V across, probability ``floor`` .. 1 up."""
    left, top_pad, bottom = 44, 16, 18
    plot_w = width - left - 24
    V = len(panels[0][1])
    xs = np.arange(plot_w + 1)
    ranks = np.unique(np.minimum(np.floor(V ** (xs / plot_w)).astype(np.int64), V))  # 1 .. V, log-spaced
    px = left + np.log(ranks) / math.log(V) * plot_w
    lo = math.log10(floor)
    height = len(panels) * (panel_height + top_pad) + bottom
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'style="display:block;{FONT}" font-size="10">']
    for n, (title, probs, kept) in enumerate(panels):
        y0 = n * (panel_height + top_pad) + top_pad  # top of the plot area
        y_of = lambda p: y0 + panel_height * (np.log10(np.maximum(p, floor)) / lo)  # noqa: E731
        out.append(f'<text x="{left}" y="{y0 - 4}" font-weight="bold">{esc(title)}</text>'
                   f'<rect x="{left}" y="{y0}" width="{plot_w}" height="{panel_height}" fill="#f7f7f7"/>')
        for p, label in ((1.0, "1"), (1e-4, "1e-4"), (floor, f"{floor:.0e}")):
            out.append(f'<text x="{left - 3}" y="{y_of(p) + 3:.1f}" text-anchor="end" fill="#555">{label}</text>')
        values = probs[ranks - 1]
        live = values > 0
        if live.any():
            last = int(np.flatnonzero(live)[-1])
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(px[: last + 1], y_of(values[: last + 1])))
            base = y0 + panel_height
            out.append(f'<polygon points="{px[0]:.1f},{base} {pts} {px[last]:.1f},{base}" fill="{BAR}" '
                       f'fill-opacity="0.35" stroke="{BAR}" stroke-width="1"/>')
        if kept is not None and kept < V:
            xc = left + math.log(max(kept, 1)) / math.log(V) * plot_w
            out.append(f'<rect x="{xc:.1f}" y="{y0}" width="{left + plot_w - xc:.1f}" height="{panel_height}" '
                       f'fill="{CUT}" fill-opacity="0.35"/>'
                       f'<line x1="{xc:.1f}" x2="{xc:.1f}" y1="{y0}" y2="{y0 + panel_height}" stroke="{ACCENT}" '
                       f'stroke-width="1.5" stroke-dasharray="4 2"/>'
                       f'<text x="{min(xc + 4, left + plot_w - 70):.1f}" y="{y0 + 12}" fill="{ACCENT}">'
                       f'{kept:,} kept</text>')
    axis_y = height - 5
    for r in (1, 10, 100, 1000, 10000, V):
        if r <= V:
            x = left + math.log(r) / math.log(V) * plot_w
            out.append(f'<text x="{x:.1f}" y="{axis_y}" text-anchor="middle" fill="#555">{r:,}</text>')
    out.append("</svg>")
    return "".join(out)
