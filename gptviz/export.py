"""Saving views for slides and handouts: PNG, SVG, PDF, or a standalone HTML page.

``export(figure, "head.png")`` takes what any gptviz view returns (a matplotlib or a plotly figure)
and picks the format from the file's suffix. HTML pages work offline and make no network request
when opened: a matplotlib figure is embedded as inline SVG, a plotly figure with plotly.js inline.
Static images of plotly figures are rendered by kaleido in Chromium (``apt-get install chromium``)
with MathJax off, so that no page is fetched from a CDN.

``export_heads(trace, folder)`` writes one heatmap per attention head, fast: the axes, labels and
colour bar are drawn once, and each head repaints only its cells and its title.

No export loses a file: each is written to a temporary file beside its target, which then replaces
the target in one step (``os.replace``). A write that fails (a full disk, no permission) removes the
temporary file, leaves any earlier file of that name as it was, and raises
:class:`~gptviz.errors.ExportError`.

``export_heads(trace, "heads.html")`` writes instead one interactive page of every head
(:mod:`gptviz.viz.heads_page`).
"""

from __future__ import annotations

import contextlib
import errno
import html
import io
import math
import numbers
import os
import secrets
import stat
from pathlib import Path

from .checks import check_layer
from .errors import ExportError, GptvizError, InputError

# NumPy, matplotlib, plotly and the views are imported by the functions that use them, so that
# ``import gptviz`` (which imports this module for gptviz.export) loads none of them.

FORMATS = (".png", ".svg", ".pdf", ".html")
PNG_COMPRESSION = 3  # zlib level: files ~8% larger than with matplotlib's 6, encoded ~40% faster
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>body {{ margin: 1em; font-family: sans-serif; }} svg {{ max-width: 100%; height: auto; }}</style>
</head>
<body>
{body}
</body>
</html>
"""


def check_path(path) -> Path:
    """``path`` as a Path, or an InputError for a name the file system cannot hold (a NUL byte)."""
    if "\x00" in os.fspath(path):
        raise InputError(f"The file name {os.fspath(path)!r} holds a NUL byte (\\x00), which no file name can: "
                         "remove it")
    return Path(path)


def check_format(path) -> str:
    """The format named by a file's suffix (``png``, ``svg``, ``pdf``, ``html``), or an InputError."""
    path = check_path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"Cannot export to {path.name!r}: unknown format {suffix or '(no suffix)'!r}. "
                         f"Use a file name ending in {', '.join(FORMATS[:-1])} or {FORMATS[-1]}")
    return suffix[1:]


def export(figure, path, dpi: float | None = None, width: int | None = None, height: int | None = None,
           scale: float | None = None) -> Path:
    """Save a view to ``path``; the suffix picks the format: ``.png``, ``.svg``, ``.pdf``, ``.html``.

    ``figure``: a matplotlib ``Figure`` or a plotly ``Figure`` (what every gptviz view returns).
    ``width`` / ``height``: size in pixels (give one to keep the aspect ratio); ``dpi``: resolution
    of matplotlib output (default the figure's, 100), or for plotly a scale of ``dpi / 100``;
    ``scale``: plotly's resolution factor. Folders on the way are created. Returns the path.
    """
    path = Path(path)
    fmt = check_format(path)
    dpi, width, height, scale = _check_size(dpi, width, height, scale)
    import matplotlib.figure

    if isinstance(figure, matplotlib.figure.Figure):
        with replacing(path) as part:
            _export_matplotlib(figure, part, fmt, dpi, width, height)
    elif _is_plotly(figure):
        with replacing(path) as part:
            _export_plotly(figure, part, fmt, dpi, width, height, scale)
    else:
        raise InputError(f"export() takes a matplotlib or plotly figure (what gptviz views return), "
                         f"got {type(figure).__name__}")
    return path


def _check_size(dpi, width, height, scale):
    """The size settings, each None or a positive finite number (width and height whole pixels)."""
    for name, value, whole in (("dpi", dpi, False), ("width", width, True), ("height", height, True),
                               ("scale", scale, False)):
        if value is None:
            continue
        kind = "a whole number of pixels >= 1" if whole else "a number > 0"
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or (whole and value != int(value)):
            raise InputError(f"{name} must be {kind}, got {value!r}")
        if not (0 < value < math.inf) or (whole and value < 1):
            raise InputError(f"{name} must be {kind}, got {value!r}" + (": try dpi=100 (or 200 for print)"
                                                                         if name == "dpi" else ""))
    return dpi, width, height, scale


@contextlib.contextmanager
def replacing(path: Path):
    """A temporary file beside ``path`` to write into; once written it replaces ``path`` in one step.

    On any failure the temporary file is removed and ``path`` is left as it was; an ``OSError``
    (disk full, no permission, a folder in the way) becomes an :class:`ExportError` that names the
    file. Folders on the way are created.
    """
    path = check_path(path)
    if path.is_file() and not path.stat().st_mode & stat.S_IWUSR:
        raise ExportError(f"{path} is read-only, so it was left as it is: make it writable (chmod u+w) to "
                          "replace it, or save under another name")
    part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part.open("xb").close()  # created with the usual permissions (umask), unlike mkstemp's 0600
    except OSError as err:
        raise _export_error(path, err) from None
    try:
        yield part
        os.replace(part, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            part.unlink()
        cause = _os_error(err)
        if cause is not None:
            raise _export_error(path, cause) from None
        raise


def _os_error(err: BaseException) -> OSError | None:
    """The OSError behind ``err``: itself, or one it was raised while handling (matplotlib's PDF writer
    fails in its clean-up after the disk is full)."""
    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, OSError) and not isinstance(err, GptvizError):
            return err
        if isinstance(err, GptvizError):
            return None
        err, seen = err.__context__, seen + 1
    return None


def _export_error(path: Path, err: OSError) -> ExportError:
    reason = err.strerror or str(err)
    kept = " The file already there is unchanged." if path.is_file() else ""
    full = err.errno in (errno.ENOSPC, errno.EDQUOT)
    fix = "Free some disk space, or save to another disk" if full else "Save to a folder you can write to"
    return ExportError(f"Could not write {path} ({reason}).{kept} {fix}")


def _is_plotly(figure) -> bool:
    import plotly.graph_objects as go

    return isinstance(figure, go.Figure)


# ---- matplotlib ----------------------------------------------------------------------------
def _inches(pixels: int, dpi: float) -> float:
    """The smallest size in inches that renders as exactly ``pixels`` at ``dpi``."""
    inches = pixels / dpi
    while int(inches * dpi) < pixels:
        inches = math.nextafter(inches, math.inf)
    return inches


def _export_matplotlib(fig, path: Path, fmt: str, dpi, width, height) -> None:
    from .viz.style import relayout

    dpi = float(dpi or fig.dpi)
    old_size = fig.get_size_inches().copy()
    resized = width is not None or height is not None
    if resized:
        w_in, h_in = old_size
        width = int(width) if width is not None else round(int(height) * w_in / h_in)
        height = int(height) if height is not None else round(width * h_in / w_in)
        if width < 1 or height < 1:
            raise InputError(f"width and height must be at least 1 pixel, got {width} x {height}")
        fig.set_size_inches(_inches(width, dpi), _inches(height, dpi))
        relayout(fig)
    try:
        if fmt == "html":
            path.write_text(matplotlib_html(fig, dpi), encoding="utf-8")
        else:
            extra = {"pil_kwargs": {"compress_level": PNG_COMPRESSION}} if fmt == "png" else {}
            fig.savefig(path, format=fmt, dpi=dpi, metadata=_metadata(fmt), **extra)
    finally:
        if resized:
            fig.set_size_inches(old_size)
            relayout(fig)


def _metadata(fmt: str) -> dict:
    """No creation date, so the same view exports to the same bytes."""
    return {"png": {}, "svg": {"Date": None, "Creator": "gptviz"},
            "pdf": {"CreationDate": None, "Creator": "gptviz"}}[fmt]


def figure_title(fig) -> str:
    """The figure's title (its suptitle, else its first axes' title), for an HTML page."""
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text():
        return sup.get_text()
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    return titles[0] if titles else "gptviz figure"


def matplotlib_html(fig, dpi: float = 100) -> str:
    """A standalone HTML page holding ``fig`` as inline SVG: no script, nothing fetched."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "gptviz"}):  # stable element ids
        fig.savefig(buf, format="svg", dpi=dpi, metadata=_metadata("svg"))
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML declaration and DOCTYPE: inline SVG needs neither
    return _PAGE.format(title=html.escape(figure_title(fig)), body=svg)


# ---- plotly --------------------------------------------------------------------------------
def _export_plotly(fig, path: Path, fmt: str, dpi, width, height, scale) -> None:
    if fmt == "html":
        fig.write_html(path, include_plotlyjs=True, full_html=True, include_mathjax=False,
                       div_id="gptviz-figure", config={"displaylogo": False})
        return
    if scale is None:
        scale = dpi / 100 if dpi else 1
    path.write_bytes(plotly_image(fig, fmt, width, height, scale))


def plotly_image(fig, fmt: str, width=None, height=None, scale: float = 1) -> bytes:
    """PNG, SVG or PDF bytes of a plotly figure, rendered by kaleido in Chromium.

    One kaleido server (one browser) serves the whole process: the first image takes a few
    seconds, later ones well under one. MathJax is off, so the page fetches nothing.
    """
    import kaleido

    if not chromium_found():  # kaleido's server thread would wait forever instead of raising
        raise GptvizError(
            f"Saving a plotly figure as .{fmt} needs Chromium, which was not found: install it "
            "(apt-get install chromium) or set BROWSER_PATH, or export to .html instead")
    layout = fig.layout
    opts = {"format": fmt, "width": int(width or layout.width or 700),
            "height": int(height or layout.height or 500), "scale": float(scale)}
    kaleido.start_sync_server(mathjax=False, silence_warnings=True)
    return kaleido.calc_fig_sync(fig.to_dict(), opts=opts)


def chromium_found() -> bool:
    """Whether kaleido will find a Chromium to run: ``BROWSER_PATH``, one on ``PATH`` or in a usual
    place, or one that kaleido downloaded (the search kaleido itself makes)."""
    from choreographer.browsers.chromium import Chromium

    path = Chromium.find_browser(skip_local=False)
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


# ---- every head ----------------------------------------------------------------------------
class _HeadPainter:
    """One head heatmap figure, drawn once without its cells, frame and title; ``png()`` then
    paints a head's cells, the frame and its title onto that background and writes the pixels,
    the same pixels as a full draw of that head's figure."""

    def __init__(self, trace, layer: int, dpi: float):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        from .viz.attention import head_heatmap
        from .viz.style import causal_mask

        self.fig = head_heatmap(trace, layer, 0)
        self.fig.set_dpi(dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.axes[0]
        self.image = self.ax.images[0]
        self.mask = causal_mask(*self.image.get_array().shape)
        self.canvas.draw()  # a full draw places the title
        title_at = self.ax.title.get_position()
        repainted = [self.image, self.ax.title, *self.ax.spines.values()]
        for artist in repainted:
            artist.set_visible(False)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        for artist in repainted:
            artist.set_visible(True)
        self.ax.title.set_position(title_at)

    def set_head(self, pattern, title: str) -> None:
        import numpy as np

        self.image.set_data(np.ma.masked_array(pattern.numpy(), self.mask))
        self.ax.title.set_text(title)  # keeps the font the view chose

    def png(self, path: Path) -> None:
        import numpy as np
        from PIL import Image

        self.canvas.restore_region(self.background)
        self.ax.draw_artist(self.image)
        for spine in self.ax.spines.values():
            self.ax.draw_artist(spine)
        self.ax.draw_artist(self.ax.title)
        with replacing(path) as part:
            Image.fromarray(np.asarray(self.canvas.buffer_rgba())).save(part, format="png",
                                                                         compress_level=PNG_COMPRESSION)


def is_heads_page(path) -> bool:
    """Does ``path`` name the one-page form of :func:`export_heads` (a ``.html`` name that is not an
    existing folder), rather than a folder of one file per head? Any other suffix on a path that is
    not a folder already is an InputError: ``heads.png`` would otherwise become a folder of that name."""
    path = check_path(path)
    if path.is_dir():
        return False
    if path.suffix.lower() == ".html":
        return True
    if path.suffix:
        raise InputError(f"Every head goes into a folder (a name without a suffix, such as "
                         f"{path.with_suffix('').name}/) or one interactive page (a name ending in .html, such "
                         f"as {path.with_suffix('.html').name}); {path.name} is neither")
    return False


def export_heads(trace, folder, layer: int | None = None, fmt: str = "png", dpi: float = 100) -> list[Path]:
    """One attention heatmap file per head, ``folder/layer{L}_head{H}.{fmt}``; or, when ``folder`` is
    a ``.html`` file name, one interactive page of every head (:func:`gptviz.viz.heads_page.heads_page`).

    ``layer``: one layer's heads, or every layer's (None). ``fmt``: for a folder, ``png`` (the fast
    path: under 0.1 s a head), ``svg``, ``pdf`` or ``html``. Returns the paths written, layer by
    layer (the page alone for a ``.html`` name).
    """
    fmt = check_format(Path(f"x.{str(fmt).lstrip('.')}"))
    config = trace.config
    layers = [check_layer(config, layer)] if layer is not None else list(range(config.n_layer))
    if is_heads_page(folder):
        return [_write_heads_page(trace, Path(folder), layers)]
    folder = check_path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file; export_heads() needs a folder to write into")
    folder.mkdir(parents=True, exist_ok=True)
    from .viz.attention import head_title

    wl, wh = len(str(config.n_layer - 1)), len(str(config.n_head - 1))
    painter = _HeadPainter(trace, layers[0], dpi)
    paths = []
    for li in layers:
        patterns = trace[f"blocks.{li}.attn.pattern"]  # [H, T_query, T_key]
        for h in range(config.n_head):
            path = folder / f"layer{li:0{wl}d}_head{h:0{wh}d}.{fmt}"
            painter.set_head(patterns[h], head_title(li, h))
            if fmt == "png":
                painter.png(path)
            else:
                export(painter.fig, path, dpi=dpi)
            paths.append(path)
    return paths


def _write_heads_page(trace, path: Path, layers: list[int]) -> Path:
    from .viz.heads_page import heads_page
    from .viz.style import key_labels

    patterns = [trace[f"blocks.{i}.attn.pattern"] for i in layers]  # each [H, T_query, T_key]
    model = trace.config.name or "GPT-2"
    which = f"layer {layers[0]}" if len(layers) == 1 else "every layer"
    page = heads_page(patterns, key_labels(trace), title=f"Attention of {which}, every head: {model}",
                      text=trace.text, layers=layers)
    with replacing(path) as part:  # a failed write leaves an earlier page as it was
        part.write_text(page, encoding="utf-8")
    return path
