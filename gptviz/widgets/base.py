"""What every explorer shares: the model, a counted forward pass, a message line, safe callbacks,
the usual controls, an export bar, and a static picture for pages where no kernel runs.

An explorer is a ``widgets.VBox`` that builds its controls, runs the model once for its text and
keeps that trace. A control that changes only what is shown (a head, a layer, a sampling setting)
redraws from the kept trace; only a new text runs the model again. ``n_forward`` counts the forward
passes the explorer asked for, as a readout; the tests count the model's own passes from outside
(a hook on the model), so a slider that ran one by another route would still be caught.

Displayed, an explorer offers two forms (:meth:`Explorer._repr_mimebundle_`): the live widget
(``application/vnd.jupyter.widget-view+json``, which JupyterLab, Notebook 7, VS Code and Voila
prefer when they run the cell) and ``text/html``, a static copy of what it shows at that moment
(:func:`static_view`). The copy is what GitHub, nbviewer and ``jupyter nbconvert --to html`` show
of a saved notebook that holds no widget state (``tools/build_notebooks.py`` stores none), and what
JupyterLab shows of a notebook it has opened but not run.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import ipywidgets as widgets

from ..errors import GptvizError
from ..inputs import ALLOW_SPECIAL_LABEL, EXPLORER, Input, read_input
from ..tokenizer import EOT
from ..trace import Trace
from . import _render


def html_box(cls: str, value: str = "") -> widgets.HTML:
    """An HTML output with the CSS class ``cls``."""
    box = widgets.HTML(value=value)
    box.add_class(cls)
    return box


def text_box(value: str, cls: str = "gptviz-text", description: str = "text", live: bool = False) -> widgets.Textarea:
    """A text area. ``live=False``: its value (and the model run it causes) changes only when the
    reader leaves the box, not at every key."""
    box = widgets.Textarea(value=value, description=description, continuous_update=live, rows=2,
                           placeholder="Type a text" + ("" if live else ", then click outside the box"),
                           layout=widgets.Layout(width="95%"))
    box.add_class(cls)
    return box


def special_box() -> widgets.Checkbox:
    """The checkbox that reads a literal ``<|endoftext|>`` in the text as the end-of-text token
    (class ``gptviz-allow-special``); hidden until a text holds that string."""
    box = widgets.Checkbox(value=False, description=ALLOW_SPECIAL_LABEL, indent=False,
                           layout=widgets.Layout(display="none", width="auto"))
    box.add_class("gptviz-allow-special")
    return box


def int_slider(description: str, maximum: int, cls: str, value: int = 0, minimum: int = 0) -> widgets.IntSlider:
    slider = widgets.IntSlider(value=min(max(value, minimum), maximum), min=minimum, max=maximum,
                               description=description, continuous_update=True)
    slider.add_class(cls)
    return slider


def position_picker(description: str, cls: str) -> widgets.Dropdown:
    """A dropdown of the text's positions, each shown as ``position: token``."""
    picker = widgets.Dropdown(description=description, options=[])
    picker.add_class(cls)
    return picker


def set_positions(picker: widgets.Dropdown, tokens: list[str], first: int) -> None:
    """Fill ``picker`` with a new text's ``tokens``. The position selected before stays selected
    (the last token stays the last); on the first text, ``first`` (negative counts from the end)."""
    value = first
    if picker.options:
        last = picker.value == len(picker.options) - 1
        value = -1 if last else min(picker.value, len(tokens) - 1)
    picker.options = [(f"{i}: {t}", i) for i, t in enumerate(tokens)]
    n = len(tokens)
    picker.value = min(max(value, -n), n - 1) % n


def row(*children) -> widgets.HBox:
    """Widgets side by side, wrapping onto the next line when the page is narrow."""
    return widgets.HBox(list(children), layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))


def guarded(method):
    """Run a callback; show a :class:`~gptviz.errors.GptvizError` (bad input) in the explorer's
    message line instead of a traceback, and leave the explorer as it was."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except GptvizError as err:
            self.say(str(err))
            return None

    return wrapper


def static_view(widget) -> str:
    """A static HTML copy of what ``widget`` (an explorer, or any box of them) shows now: every
    ``HTML`` pane as it is (its pictures made to survive sanitisers:
    :func:`~gptviz.widgets._render.for_sanitisers`), each control as its label and value, a toggle as
    a box (dark when pressed), boxes as rows, columns and grids. Buttons and the export bar are left
    out (nothing can be clicked without a kernel). The copy holds no script and no widget id, and
    every text from the reader or the model goes through :func:`~gptviz.widgets._render.esc`; it is
    built from strings already drawn (no model run)."""
    if isinstance(widget, ExportBar) or widget.layout.display == "none":
        return ""
    if isinstance(widget, widgets.HTML):
        return f"<div>{_render.for_sanitisers(widget.value)}</div>" if widget.value else ""
    if isinstance(widget, widgets.Box):
        return _static_box(widget)
    return _static_control(widget)


def _static_box(box: widgets.Box) -> str:
    if isinstance(box, widgets.GridBox):  # every child keeps its cell, empty or not
        layout = box.layout
        style = (f"display:grid;width:fit-content;grid-template-columns:{layout.grid_template_columns or 'auto'};"
                 f"gap:{layout.grid_gap or '0'}")
        return f'<div style="{_render.esc(style)}">' + "".join(
            f"<div>{static_view(child)}</div>" for child in box.children) + "</div>"
    inner = "".join(static_view(child) for child in box.children)
    if not inner:
        return ""
    flow = "display:flex;flex-flow:row wrap;align-items:flex-start;gap:4px 18px" if isinstance(box, widgets.HBox) else ""
    return f'<div style="{flow}">{inner}</div>'


def _static_control(control) -> str:
    esc = _render.esc
    if isinstance(control, (widgets.Text, widgets.Textarea)):
        return (f'<div style="{_render.MONO};white-space:pre-wrap;border:1px solid #ccc;padding:3px 5px;'
                f'margin:2px 0;width:95%">{esc(control.value)}</div>')
    if isinstance(control, widgets.ToggleButton):
        look = "background:#555;color:#fff" if control.value else "background:#f2f2f2"
        return (f'<span style="{_render.FONT};display:inline-block;border:1px solid #999;border-radius:3px;'
                f'padding:1px 4px;{look}">{esc(control.description)}</span>')
    if isinstance(control, (widgets.IntSlider, widgets.FloatSlider)):
        value = format(control.value, control.readout_format)
    elif isinstance(control, widgets.SelectMultiple):
        value = ", ".join(control.label)
    elif isinstance(control, widgets.Dropdown):
        value = control.label or ""
    elif isinstance(control, widgets.Checkbox):
        value = "yes" if control.value else "no"
    else:
        return ""  # buttons: nothing to click on a page without a kernel
    return (f'<span style="{_render.FONT};margin:2px 0;display:inline-block">{esc(control.description)}'
            f' <b style="{_render.MONO}">{esc(value)}</b></span>')


class Explorer(widgets.VBox):
    """Base class: ``model`` (default :func:`gptviz.load`, unless ``load_model=False``),
    ``n_forward`` (forward passes run),
    ``message`` (an HTML line, class ``gptviz-message``), ``special`` (the checkbox that reads a
    literal ``<|endoftext|>`` as the end-of-text token, shown when the text holds one), and
    :meth:`refresh` to redraw."""

    #: ``(most tokens, why)`` for an explorer whose work grows faster than the model's (None: the context).
    token_limit: tuple[int, str] | None = None

    def __init__(self, model=None, load_model: bool = True):
        super().__init__()
        if model is None and load_model:
            from ..hub import load

            model = load()
        self.model = model
        self.n_forward = 0
        self.shown_text: str | None = None  # the last text applied
        self._typed: str | None = None  # the last text given, applied or not
        self.message = html_box("gptviz-message")
        self.special = special_box()
        self.special.observe(lambda change: self._typed is not None and self.set_text(self._typed), names="value")
        self._held = 0
        self.add_class("gptviz-explorer")

    # ---- model runs --------------------------------------------------------------------------
    def checked(self, text: str, **options) -> Input:
        """``text`` through the gate (:func:`gptviz.inputs.read_input`) with the explorer's words in
        its messages and the ``special`` checkbox's choice; its notes go to the message line."""
        read = read_input(self.model, text, allow_special=self.special.value, via=EXPLORER, limit=self.token_limit,
                          **options)
        if read.notes:
            self.say(" ".join(read.notes), "info")
        return read

    def run_trace(self, text: str, names, edits=None) -> Trace:
        """Check ``text`` (empty, ``<|endoftext|>``, too long, over the memory budget: InputError),
        then run the model once and record ``names`` (with ``edits``, as :func:`gptviz.trace.trace`
        takes them)."""
        from ..trace import check_budget

        ids = self.checked(text).ids
        check_budget(self.model.config, len(ids), names, via=EXPLORER)
        self.n_forward += 1
        return self.model.trace(ids, names=names, edits=edits)

    def set_text(self, text: str) -> bool:
        """Read a new text (:meth:`read`: one model run), then redraw. A text the model cannot take
        leaves a message and the previous state; returns whether the text was applied."""
        self._typed = text
        self.special.layout.display = "" if EOT in text or self.special.value else "none"
        self.say("")
        try:
            with self.held():
                self.read(text)
        except GptvizError as err:
            self.refused(err)
            return False
        self.shown_text = text
        return True

    def read(self, text: str) -> None:
        """Subclasses: run the model on ``text`` first (it raises on bad input before any state
        changes), then keep the result and fit the controls to it."""
        raise NotImplementedError

    # ---- messages ----------------------------------------------------------------------------
    def say(self, text: str, kind: str = "error") -> None:
        """Show ``text`` in the message line (empty: clear it)."""
        self.message.value = _render.message(text, kind)

    def refused(self, err: GptvizError) -> None:
        """Report a text that was not applied; the explorer keeps showing the previous one."""
        kept = " The explorer still shows the previous text." if self.shown_text is not None else ""
        self.say(f"Text not applied: {str(err).rstrip('.')}.{kept}")

    # ---- redrawing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def held(self):
        """Change several controls without a redraw for each; redraw once at the end."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
        self.refresh()

    def refresh(self, change=None) -> None:
        """Redraw from the kept state (no model run), unless controls are being changed together."""
        if not self._held:
            self._safe_draw()

    @guarded
    def _safe_draw(self) -> None:
        self.draw()

    def draw(self) -> None:
        """Subclasses: render the outputs from the kept trace."""
        raise NotImplementedError

    def watch(self, *controls, handler=None) -> None:
        """Redraw (or call ``handler``) when any of ``controls`` changes value."""
        for control in controls:
            control.observe(handler or self.refresh, names="value")

    # ---- display -----------------------------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """ipywidgets' bundle (the widget view and a short text), plus ``text/html``: a static copy
        of the explorer as drawn now, for renderers without a kernel. Front-ends that know widgets
        rank the widget view first and show it; the others show the copy."""
        bundle = super()._repr_mimebundle_(include=include, exclude=exclude, **kwargs)
        if (include is None or "text/html" in include) and not (exclude and "text/html" in exclude):
            bundle["text/html"] = _render.static_page(static_view(self))
        return bundle


class ExportBar(widgets.HBox):
    """Save a view to a file: a view menu, a format menu (PNG, SVG, HTML), a folder, a button
    (class ``gptviz-export``) and a label saying where the file went (class ``gptviz-export-path``).

    The ``explorer`` provides ``figure(view, fmt)`` (the matplotlib or plotly figure to save) and
    ``file_stem(view)`` (the file name without its suffix). Files are written by
    :func:`gptviz.export.export`.
    """

    def __init__(self, explorer: Explorer, views: list[str], folder: str = "exports"):
        self.explorer = explorer
        self.view = widgets.Dropdown(options=views, value=views[0], description="export",
                                     layout=widgets.Layout(width="220px"))
        self.format = widgets.Dropdown(options=["PNG", "SVG", "HTML"], value="PNG", layout=widgets.Layout(width="80px"))
        self.format.add_class("gptviz-export-format")
        self.folder = widgets.Text(value=str(folder), layout=widgets.Layout(width="160px"), tooltip="folder")
        self.button = widgets.Button(description="save", layout=widgets.Layout(width="90px"))
        self.button.add_class("gptviz-export")
        self.where = html_box("gptviz-export-path")
        self.last_path: Path | None = None
        self.button.on_click(lambda _: self.save())
        super().__init__([self.view, self.format, self.folder, self.button, self.where])

    def save(self) -> Path | None:
        """Write the chosen view; report the absolute path (or what went wrong) in the label."""
        from ..export import export

        ex, view, fmt = self.explorer, self.view.value, self.format.value.lower()
        if ex.shown_text is None:
            self.where.value = _render.message("Nothing to save yet: give the explorer a text first")
            return None
        path = Path(self.folder.value or ".").expanduser() / f"{ex.file_stem(view)}.{fmt}"
        try:
            self.last_path = export(ex.figure(view, fmt), path).resolve()
        except (GptvizError, OSError) as err:
            self.where.value = _render.message(f"Not saved: {err}")
            return None
        self.where.value = _render.message(f"Saved {self.last_path}", "info")
        return self.last_path
