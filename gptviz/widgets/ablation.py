"""Switch heads and MLPs off and watch the prediction change: one toggle per head and per MLP.

The explorer reads its text once (the clean run). A toggle changes the ablation of one layer only, so
the blocks before it compute what they computed before: :class:`gptviz.interventions.rerun.IncrementalAblation`
runs one forward pass that *starts at that layer*, from the kept stream, with the ablation's edits.
Every number shown is that class's, and those are :func:`gptviz.interventions.ablate`'s on the same
heads (tests check both); the explorer draws them.
"""

from __future__ import annotations

import ipywidgets as widgets

from ..interventions import logit_attribution
from ..interventions.rerun import CLEAN_NAMES, IncrementalAblation
from ..sampling import top_ids, top_union
from ..viz.circuits import attribution_bars, distribution_change
from . import _render
from .base import Explorer, ExportBar, guarded, html_box, row, text_box

DEFAULT_TEXT = "One day Lily and Tom went to the park. Lily gave the ball to"
HOWS = [("zeros", "zero"), ("its mean over the text", "mean")]
N_TOP = 8  # tokens shown from each run's top of the next-token distribution


def _toggle(description: str, tooltip: str, cls: str) -> widgets.ToggleButton:
    toggle = widgets.ToggleButton(value=False, description=description, tooltip=tooltip,
                                  layout=widgets.Layout(width="auto", min_width="34px", height="26px",
                                                        padding="0 2px", margin="1px"))
    toggle.add_class(cls)
    return toggle


def _change(d: float) -> str:
    """A change of probability as text: signed, four decimals, or three significant digits below 0.001."""
    return "0" if d == 0 else f"{d:+.4f}" if abs(d) >= 1e-3 else f"{d:+.2e}"


class AblationExplorer(Explorer):
    """What does each head and MLP do for this text? Switch them off and compare.

    Controls: ``text`` (read when you leave the box), ``heads[layer][head]`` and ``mlps[layer]``
    (toggle buttons, pressed = switched off), ``how`` (replace the output by zeros, or by its mean over
    the text's positions), ``all_on``. Outputs: ``loss`` (the mean next-token loss on the text before
    and after), ``next_token`` (the top next tokens after the text, before and after), ``timing``
    (what the last forward pass ran and how long it took), and ``export_bar`` (the before/after
    distribution, or the logit attribution of the run shown).

    A toggle (or ``how``, when something is switched off) runs exactly one forward pass, from the
    layer it changes onwards; switching the last component back on runs none (the clean run is
    kept). A new text runs the clean pass, and one ablated pass if anything is switched off.
    ``clean`` and ``after`` are the two runs' :class:`~gptviz.trace.Trace`\\ s (the same object when
    nothing is off); ``after_probs`` the next-token distribution after; ``loss_before`` and
    ``loss_after`` the losses (None for a one-token text).
    """

    def __init__(self, model=None, text: str = DEFAULT_TEXT, how: str = "zero", folder: str = "exports"):
        super().__init__(model)
        cfg = self.model.config
        self.ablation: IncrementalAblation | None = None  # the clean run, the ablated run and their numbers
        self.text = text_box(text)
        self.how = widgets.Dropdown(options=HOWS, value=how, description="replace by")
        self.how.add_class("gptviz-ablation-how")
        self.all_on = widgets.Button(description="switch all on")
        self.all_on.add_class("gptviz-ablation-all-on")
        self.all_on.on_click(lambda _: self.switch_all_on())
        self.heads = [[_toggle(str(h), f"layer {layer}, head {h}", "gptviz-ablate-head") for h in range(cfg.n_head)]
                      for layer in range(cfg.n_layer)]
        self.mlps = [_toggle("MLP", f"layer {layer}, MLP", "gptviz-ablate-mlp") for layer in range(cfg.n_layer)]
        self.toggles = widgets.GridBox(self._grid_cells(), layout=widgets.Layout(
            grid_template_columns=f"auto repeat({cfg.n_head}, auto) auto", grid_gap="0px 2px", width="fit-content"))
        self.toggles.add_class("gptviz-ablation-toggles")
        self.loss = html_box("gptviz-ablation-loss")
        self.next_token = html_box("gptviz-ablation-next")
        self.timing = html_box("gptviz-ablation-time")
        self.export_bar = ExportBar(self, ["next token before/after", "logit attribution"], folder)
        self.children = [self.text, self.special, row(self.how, self.all_on), self.message, self.toggles,
                         self.timing, self.loss, self.next_token, self.export_bar]
        for toggle in self.all_toggles:
            toggle.observe(self._on_toggle, names="value")
        self.how.observe(self._on_toggle, names="value")
        self.text.observe(lambda change: self.set_text(change["new"]), names="value")
        self.set_text(text)

    def _grid_cells(self) -> list:
        cfg = self.model.config
        label = lambda text: widgets.HTML(f'<span style="{_render.FONT};color:#555">{_render.esc(text)}</span>')  # noqa: E731
        cells = [label("layer \\ head")] + [label(str(h)) for h in range(cfg.n_head)] + [label("")]
        for layer in range(cfg.n_layer):
            cells += [label(f"layer {layer}"), *self.heads[layer], self.mlps[layer]]
        return cells

    # ---- what is switched off ----------------------------------------------------------------------
    @property
    def all_toggles(self) -> list[widgets.ToggleButton]:
        """Every head's toggle, layer by layer, then every MLP's."""
        return [t for layer in self.heads for t in layer] + self.mlps

    def switched_off(self) -> tuple[list[tuple[int, int]], list[int]]:
        """The heads ``(layer, head)`` and MLP layers whose toggles are pressed."""
        heads = [(layer, h) for layer, row_ in enumerate(self.heads) for h, t in enumerate(row_) if t.value]
        return heads, [layer for layer, t in enumerate(self.mlps) if t.value]

    @guarded
    def switch_all_on(self) -> None:
        """Release every toggle: the clean run again (no forward pass)."""
        with self.held():
            for toggle in self.all_toggles:
                toggle.value = False
            self.apply()

    def _on_toggle(self, change=None) -> None:
        if self._held:
            return  # several toggles move together: applied once, by whoever holds the redraw
        with self.held():
            self._apply_safely()

    @guarded
    def _apply_safely(self) -> None:
        self.apply()

    # ---- model runs: computed by IncrementalAblation, shown here ------------------------------------
    def read(self, text: str) -> None:
        self.ablation = IncrementalAblation(self.model, self.run_trace(text, CLEAN_NAMES), self.how.value)
        self.apply()  # one ablated pass, if anything is switched off

    def apply(self) -> None:
        """Bring the "after" run up to date with the toggles: one forward pass from the first layer
        whose ablation changed, none when nothing changed or nothing is switched off."""
        if self.ablation is None:
            return
        heads, mlps = self.switched_off()
        if self.ablation.set(heads, mlps, self.how.value) is not None:
            self.n_forward += 1

    # The numbers shown, as IncrementalAblation computed them.
    clean = property(lambda self: self.ablation.clean if self.ablation else None)
    after = property(lambda self: self.ablation.after if self.ablation else None)
    probs_before = property(lambda self: self.ablation.probs_before)
    after_probs = property(lambda self: self.ablation.after_probs)
    loss_before = property(lambda self: self.ablation.loss_before)
    loss_after = property(lambda self: self.ablation.loss_after)
    last_run = property(lambda self: self.ablation.last_run)

    # ---- drawing -----------------------------------------------------------------------------------
    def draw(self) -> None:
        if self.clean is None:
            return
        for t in self.all_toggles:
            t.button_style = "danger" if t.value else ""
        heads, mlps = self.switched_off()
        self.timing.value = self._timing_html(heads, mlps)
        self.loss.value = self._loss_html()
        self.next_token.value = self._next_html()

    @staticmethod
    def _names(heads, mlps) -> str:
        """``L1H4, L2 MLP``: the components switched off, as the attribution labels them."""
        return ", ".join([f"L{layer}H{h}" for layer, h in heads] + [f"L{layer} MLP" for layer in mlps])

    def _timing_html(self, heads, mlps) -> str:
        L = self.model.config.n_layer
        off = self._names(heads, mlps)
        if self.last_run is None:
            what = "nothing switched off: the clean run (no forward pass)" if not off else ""
            return _render.message(what, "info")
        start, elapsed = self.last_run
        blocks = f"block {start}" if start == L - 1 else f"blocks {start}–{L - 1}"
        return _render.message(
            f"switched off ({self.how.value}): {off}. Last forward pass: {blocks} and the unembedding, "
            f"{elapsed * 1e3:.1f} ms (the blocks before {start} are unchanged, so their output was reused)", "info")

    def _loss_html(self) -> str:
        if self.loss_before is None:
            return _render.message("one token: no next-token loss on the text", "info")
        change = self.loss_after - self.loss_before
        return (f'<div style="{_render.FONT}">loss on the text (mean over its {self.clean.n_tokens - 1} next tokens): '
                f'before <b>{_render.number(self.loss_before)}</b>, after <b>{_render.number(self.loss_after)}</b> '
                f'nats per token ({change:+.4f})</div>')

    def _next_html(self) -> str:
        p, q = self.probs_before.numpy(), self.after_probs.numpy()
        tok = self.model.tokenizer
        rows = []
        for i in top_union(p, q, N_TOP):
            rows.append([_render.token_cell(tok.token_str(int(i))), _render.prob(p[i]), _render.bar(float(p[i])),
                         _render.prob(q[i]), _render.bar(float(q[i]), _render.ACCENT), _change(q[i] - p[i])])
        context = " ".join(self.clean.tokens[-8:])
        return (_render.heading(f"The next token after …{context}",
                                f"the {N_TOP} most probable before or after, by probability before") +
                _render.table(["token", "before", "", "after", "", "change"], rows))

    # ---- export ------------------------------------------------------------------------------------
    def file_stem(self, view: str) -> str:
        return "ablation-" + ("next-token" if view.startswith("next") else "attribution")

    def figure(self, view: str, fmt: str):
        if view.startswith("next"):
            return distribution_change(self.probs_before, self.after_probs, self.model.tokenizer, N_TOP,
                                       title="Next-token probabilities, all on (before) and ablated (after)")
        target = int(top_ids(self.probs_before.numpy(), 1)[0])  # the clean run's top next token (ties: lower id)
        heads, mlps = self.switched_off()
        off = self._names(heads, mlps)
        state = "all on" if not off else f"{self.how.value}-ablated: {off}" if len(off) < 60 else \
            f"{len(heads)} heads and {len(mlps)} MLPs {self.how.value}-ablated"
        attribution = logit_attribution(self.model, self.after, target)
        return attribution_bars(attribution, title=f"Direct contributions to the logit of {attribution.token} "
                                                   f"({state})")
