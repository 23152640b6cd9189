"""A SamplingExplorer as the browser shows it, checked against what gptviz computes in this process.

Used in JupyterLab (test_sampling.py) and in Voila (test_voila.py): the same classes and numbers on
both pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from gptviz.sampling import Distribution, distribution
from gptviz.trace import trace

from .harness import Slider, number, wait_until


@dataclass(frozen=True)
class Shown:
    """What the explorer displays: its three settings (slider readouts) and two results."""

    temperature: float
    top_k: int
    top_p: float
    top_prob: float  # ``.gptviz-top-prob .gptviz-number``: the top token's final probability
    n_kept: int  # ``.gptviz-n-kept .gptviz-number``: tokens with non-zero final probability
    top_text: str  # the whole ``.gptviz-top-prob`` line, with the top token's label


class SamplingView:
    """The explorer under ``root`` (a page or a locator) and the next-token logits of its text, which
    the model in this process computes from the text box's content."""

    def __init__(self, root, model):
        self.root = root
        self.temperature, self.top_k, self.top_p = (
            Slider(root, f"gptviz-{name}") for name in ("temperature", "topk", "topp"))
        text = root.locator(".gptviz-text textarea").first.input_value()
        self.logits = trace(model, text, names=["logits"])["logits"][-1]  # [V]
        self.tokenizer = model.tokenizer

    def shown(self) -> Shown:
        box = self.root.locator(".gptviz-top-prob").first
        return Shown(self.temperature.value, int(self.top_k.value), self.top_p.value,
                     number(self.root, "gptviz-top-prob"), int(number(self.root, "gptviz-n-kept")),
                     box.inner_text())

    def expected(self, shown: Shown) -> Distribution:
        """gptviz's distribution for the settings on screen (top-k 0 and top-p 1 mean off)."""
        return distribution(self.logits, shown.temperature, shown.top_k or None,
                            shown.top_p if shown.top_p < 1.0 else None, tokenizer=self.tokenizer)

    def mismatch(self, shown: Shown) -> str:
        """"" when the displayed results are gptviz's for the displayed settings, else what differs."""
        d = self.expected(shown)
        best = d.top(1)[0]
        wrong = []
        if abs(shown.top_prob - best.prob) > 5e-4 * best.prob + 1e-12:  # shown to 4 significant digits
            wrong.append(f"top probability {shown.top_prob} != {best.prob:.6g}")
        if shown.n_kept != d.n_kept:
            wrong.append(f"kept {shown.n_kept} != {d.n_kept}")
        if best.token not in shown.top_text:
            wrong.append(f"top token {best.token!r} not in {shown.top_text!r}")
        return "; ".join(wrong)

    def settled(self, **settings) -> Shown:
        """Wait until the sliders read ``settings`` (e.g. ``temperature=0.5``; all when empty: any) and
        the results shown are gptviz's for them; return what is shown."""

        def check():
            shown = self.shown()
            if any(abs(getattr(shown, k) - v) > 1e-9 for k, v in settings.items()):
                return None
            return None if self.mismatch(shown) else shown

        try:
            return wait_until(check, f"the explorer to show gptviz's distribution for {settings or 'its settings'}")
        except AssertionError as err:
            shown = self.shown()
            raise AssertionError(f"{err}\nshown: {shown}\nmismatch: {self.mismatch(shown)}") from None
