"""From scores to text: the sampling settings on one distribution, and generation one step at a time."""

from __future__ import annotations

import ipywidgets as widgets

from ..generation import Stepper
from ..kvcache import kv_cache_bytes
from ..sampling import count_draws, distribution, logit_order
from ..tokenizer import EOT, EOT_ID
from ..viz.sampling import distribution_bars
from . import _render
from .base import Explorer, ExportBar, guarded, html_box, row, text_box

STAGE_TITLES = {"softmax": "1. softmax of the logits (T = 1)", "temperature": "2. after temperature",
                "top_k": "3. after top-k", "top_p": "4. after top-p: the distribution a draw uses"}
N_CANDIDATES = 12


class SamplingControls:
    """Temperature, top-k, top-p and seed sliders (classes ``gptviz-temperature``, ``gptviz-topk``,
    ``gptviz-topp``, ``gptviz-seed``). ``top_k`` 0 and ``top_p`` 1 mean off."""

    def __init__(self, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0, seed: int = 0):
        self.temperature = widgets.FloatSlider(value=temperature, min=0.0, max=2.0, step=0.05, readout_format=".2f",
                                               description="temperature", continuous_update=True)
        self.top_k = widgets.IntSlider(value=top_k, min=0, max=100, description="top-k", continuous_update=True)
        self.top_p = widgets.FloatSlider(value=top_p, min=0.01, max=1.0, step=0.01, readout_format=".2f",
                                         description="top-p", continuous_update=True)
        self.seed = widgets.IntSlider(value=seed, min=0, max=999, description="seed", continuous_update=True)
        for name in ("temperature", "top_k", "top_p", "seed"):
            slider = getattr(self, name)
            slider.add_class("gptviz-" + name.replace("_", ""))
            slider.style.description_width = "6.5em"  # "temperature" in full, the four sliders aligned
        note = html_box("gptviz-settings-note", _render.message(
            "temperature 0 = greedy (always the top token); top-k 0 and top-p 1 = off", "info"))
        self.box = widgets.VBox([row(self.temperature, self.top_k), row(self.top_p, self.seed), note])

    @property
    def sliders(self) -> list:
        return [self.temperature, self.top_k, self.top_p]

    def settings(self) -> tuple[float, int | None, float | None]:
        """``(temperature, top_k or None, top_p or None)`` as :func:`gptviz.sampling.distribution` takes them."""
        k, p = self.top_k.value, self.top_p.value
        return float(self.temperature.value), (int(k) if k > 0 else None), (float(p) if p < 1.0 else None)


class SamplingExplorer(Explorer):
    """What do temperature, top-k and top-p do to the next-token distribution?

    The model reads ``text`` once; every slider then recomputes only the distribution of the last
    position (no forward pass). Shown: the top token's probability (``top_prob``), the number of
    tokens kept (``n_kept``), the probability mass cut off (``mass_cut``), the entropy, the
    candidates after each stage, and the whole vocabulary's distribution after each stage with the
    cut-off. "sample" draws one token with the seed slider's seed, then moves the seed on; "sample
    100" draws 100 and shows how often each token came up. ``dist`` is the current
    :class:`~gptviz.sampling.Distribution`.
    """

    def __init__(self, model=None, text: str = "Once upon a time", temperature: float = 1.0, top_k: int = 0,
                 top_p: float = 1.0, seed: int = 0, folder: str = "exports"):
        super().__init__(model)
        self.logits = None
        self.dist = None
        self.text = text_box(text)
        self.controls = SamplingControls(temperature, top_k, top_p, seed)
        self.sample_button = _button("sample", "gptviz-sample", self.sample)
        self.sample_100_button = _button("sample 100", "gptviz-sample-100", lambda: self.sample_many(100))
        self.top_prob = html_box("gptviz-top-prob")
        self.n_kept = html_box("gptviz-n-kept")
        self.mass_cut = html_box("gptviz-mass-cut")
        self.entropy = html_box("gptviz-entropy")
        self.drawn = html_box("gptviz-sample-result")
        self.histogram = html_box("gptviz-histogram")
        self.candidates = html_box("gptviz-candidates")
        self.vocabulary = html_box("gptviz-vocabulary")
        self.export_bar = ExportBar(self, ["candidates"], folder)
        for stat in (self.top_prob, self.n_kept, self.mass_cut, self.entropy):
            stat.layout.margin = "0 18px 0 0"
        stats = row(self.top_prob, self.n_kept, self.mass_cut, self.entropy)
        self.children = [self.text, self.special, self.controls.box, self.message, stats,
                         row(self.sample_button, self.sample_100_button, self.drawn),
                         self.histogram, row(self.candidates, self.vocabulary), self.export_bar]
        self.watch(*self.controls.sliders)
        self.text.observe(lambda change: self.set_text(change["new"]), names="value")
        self.set_text(text)

    def read(self, text: str) -> None:
        trace = self.run_trace(text, ["logits"])
        self.logits = trace["logits"][-1]  # [V]: the scores for the next token
        self.order = logit_order(self.logits)  # every stage keeps this order, at every setting
        self.prompt_tokens = trace.tokens

    def draw(self) -> None:
        if self.logits is None:
            return
        temperature, top_k, top_p = self.controls.settings()
        d = distribution(self.logits, temperature, top_k, top_p, tokenizer=self.model.tokenizer)
        self.dist = d
        best = d.top(1)[0]
        V = d.logits.numel()
        self.top_prob.value = f"top token {_render.token_cell(best.token)}: p = {_render.number(best.prob, '.4g')}"
        self.n_kept.value = f"kept {_render.number(d.n_kept, ',d')} of {V:,} tokens"
        self.mass_cut.value = f"mass cut {_render.number(d.mass_cut)}"
        self.entropy.value = f"entropy {_render.number(d.entropy, '.3f')} nats"
        self.drawn.value = self.histogram.value = ""
        self.candidates.value = self._candidates_table(d)
        panels = []
        for stage, title in STAGE_TITLES.items():
            probs = d.stages[stage].numpy()
            cut = stage in ("top_k", "top_p") and not d.greedy
            panels.append((title, probs[self.order], d.n_left(stage) if cut else None))
        self.vocabulary.value = (_render.heading("The whole vocabulary after each stage",
                                                 "tokens by rank, both axes logarithmic") +
                                 _render.vocabulary_svg(panels))

    def _candidates_table(self, d) -> str:
        ids = self.order[:N_CANDIDATES]
        stages = [d.stages[s].numpy() for s in STAGE_TITLES]
        final = d.probs.numpy()
        tok = self.model.tokenizer
        rows, styles = [], []
        for r, i in enumerate(ids):
            cells = [_render.prob(s[i]) if s[i] > 0 else '<span style="color:#999">cut</span>' for s in stages[:3]]
            kept = final[i] > 0
            rows.append([str(r + 1), _render.token_cell(tok.token_str(int(i))), f"{d.logits[i]:.2f}", *cells,
                         _render.prob(final[i]) if kept else '<span style="color:#999">cut</span>',
                         _render.bar(float(final[i]), _render.BAR if kept else _render.CUT)])
            styles.append("" if kept else "color:#999")
        context = " ".join(self.prompt_tokens[-8:])
        return (_render.heading(f"The next token after …{context}", f"{N_CANDIDATES} highest logits") +
                _render.table(["#", "token", "logit", "softmax", "temperature", "top-k", "final", ""], rows, styles))

    def figure(self, view: str, fmt: str):
        return distribution_bars(self.dist)

    def file_stem(self, view: str) -> str:
        return "sampling-candidates"

    @guarded
    def sample(self) -> int | None:
        """Draw one token with the current seed; show it; move the seed on by one."""
        if self.dist is None:
            return None
        seed = self.controls.seed.value
        token = self.dist.draw(seed)
        label = self.model.tokenizer.token_str(token)
        self.drawn.value = (f"seed {seed} drew {_render.token_cell(label)} (id {token}, "
                            f"p = {_render.number(float(self.dist.probs[token]), '.4g')})")
        self.controls.seed.value = (seed + 1) % (self.controls.seed.max + 1)
        return token

    @guarded
    def sample_many(self, n: int):
        """Draw ``n`` tokens with the current seed and show how often each came up, beside its
        probability; moves the seed on by one."""
        if self.dist is None:
            return None
        seed = self.controls.seed.value
        draws = self.dist.draws(n, seed).numpy()
        counts, drawn, distinct = count_draws(draws, self.dist.logits.numel(), 15)  # gptviz.sampling
        tok = self.model.tokenizer
        probs = self.dist.probs.numpy()
        rows = [[_render.token_cell(tok.token_str(int(i))), str(counts[i]), f"{n * probs[i]:.1f}",
                 _render.bar(counts[i] / n)] for i in drawn]
        self.histogram.value = (
            _render.heading(f"{n} draws with seed {seed}: {distinct} different tokens",
                            "count vs. expected count (n × probability)") +
            _render.table(["token", "count", "expected", ""], rows))
        self.controls.seed.value = (seed + 1) % (self.controls.seed.max + 1)
        return counts


def _button(description: str, cls: str, action) -> widgets.Button:
    button = widgets.Button(description=description)
    button.add_class(cls)
    button.on_click(lambda _: action())
    return button


class GenerationStepper(Explorer):
    """Generation one token at a time: step, back, reset, or run several steps.

    Each step shows the distribution the token was drawn from and the token chosen; the text grows;
    the KV cache gains one row (the new token's keys and values in every layer) while the rows
    before it are reused, never recomputed. The prompt is read once (one forward pass); each step
    is one more forward pass of one token; back and reset run none. The sampling sliders apply from
    the next step. ``stepper`` is the :class:`~gptviz.generation.Stepper` underneath.
    """

    def __init__(self, model=None, prompt: str = "Once upon a time", temperature: float = 1.0, top_k: int = 0,
                 top_p: float = 1.0, seed: int = 0, run_steps: int = 20):
        super().__init__(model)
        self.stepper: Stepper | None = None
        self.run_steps = int(run_steps)
        self.prompt = text_box(prompt, "gptviz-prompt", "prompt")
        self.controls = SamplingControls(temperature, top_k, top_p, seed)
        self.step_button = _button("step", "gptviz-step", self.step)
        self.back_button = _button("back", "gptviz-back", self.back)
        self.reset_button = _button("reset", "gptviz-reset", self.reset)
        self.run_button = _button(f"run {self.run_steps}", "gptviz-run", self.run)
        self.generated = html_box("gptviz-generated")
        self.status = html_box("gptviz-status")
        self.step_view = html_box("gptviz-step-distribution")
        self.history = html_box("gptviz-steps")
        self.kv_cache = html_box("gptviz-kv-cache")
        self.children = [self.prompt, self.special, self.controls.box,
                         row(self.step_button, self.back_button, self.reset_button, self.run_button),
                         self.message, self.generated, self.status, row(self.step_view, self.history), self.kv_cache]
        self.watch(*self.controls.sliders, self.controls.seed, handler=self.apply_settings)
        self.prompt.observe(lambda change: self.set_text(change["new"]), names="value")
        self.set_text(prompt)

    def read(self, text: str) -> None:
        """Read the prompt; one too long for the context keeps its last tokens, leaving room for
        ``run_steps`` new ones (at least one), and says so."""
        temperature, top_k, top_p = self.controls.settings()
        room = max(1, min(self.run_steps, self.model.config.n_ctx // 4))
        read = self.checked(text, room=room, truncate=True, what="prompt")
        stepper = Stepper(self.model, read.ids, temperature, top_k, top_p, seed=self.controls.seed.value)
        self.n_forward += 1  # the Stepper reads the prompt once
        self.stepper = stepper
        if EOT_ID in read.ids:
            self.say(" ".join([*read.notes, f"{EOT} in the prompt is read as the end-of-text token: a boundary "
                                            "between documents."]), "info")

    def apply_settings(self, change=None) -> None:
        """Hand the sliders' settings to the stepper: they apply from the next step (no model run)."""
        if self.stepper is not None:
            s = self.stepper
            s.temperature, s.top_k, s.top_p = self.controls.settings()
            s.greedy = s.temperature == 0.0
            s.seed = self.controls.seed.value
        self.refresh()

    @guarded
    def step(self) -> None:
        """Pick, append and read one token (one forward pass of one token)."""
        if self.stepper is None:
            return
        self.stepper.step()
        self.n_forward += 1
        self.refresh()

    @guarded
    def back(self) -> None:
        """Undo the last step: its token and its cache rows go (no model run)."""
        if self.stepper is None:
            return
        self.stepper.back()
        self.refresh()

    @guarded
    def reset(self) -> None:
        """Back to the prompt (it is not read again)."""
        if self.stepper is None:
            return
        self.stepper.reset()
        self.refresh()

    @guarded
    def run(self) -> None:
        """Up to ``run_steps`` steps, or until generation stops."""
        if self.stepper is None:
            return
        with self.held():
            for _ in range(self.run_steps):
                if self.stepper.stopped:
                    break
                self.stepper.step()
                self.n_forward += 1

    def draw(self) -> None:
        s = self.stepper
        if s is None:
            return
        self.step_button.disabled = s.stopped
        self.back_button.disabled = not s.steps
        tok = self.model.tokenizer
        new = s.ids[s.prompt_len:]
        # Decoded as one text: a character split over tokens (’, ü, 😀, CJK) shows whole, in the token
        # that completes it, never as two U+FFFD halves.
        texts = tok.token_texts(s.ids)
        pieces = [_render.esc("".join(texts[: s.prompt_len]))]
        for n, (i, piece) in enumerate(zip(new, texts[s.prompt_len:])):
            last = n == len(new) - 1
            colour = _render.TOKEN_COLOURS[n % 2]
            pieces.append(f'<span style="background:{colour};{"outline:2px solid " + _render.ACCENT if last else ""}" '
                          f'title="{_render.esc(tok.token_str(i))}">{_render.esc(piece)}</span>')
        self.generated.value = (f'<div style="{_render.FONT};font-size:14px;white-space:pre-wrap;'
                                f'border:1px solid #ddd;padding:6px">{"".join(pieces)}</div>')
        state = f"stopped: {s.stop_reason}" if s.stopped else "running"
        self.status.value = _render.message(
            f"{s.prompt_len} prompt tokens + {len(new)} new; next position {len(s.ids)}; {state}", "info")
        self.step_view.value = self._step_html()
        self.history.value = self._history_html()
        self.kv_cache.value = self._cache_html()

    def _step_html(self) -> str:
        s = self.stepper
        if not s.steps:
            return _render.heading("Press step to pick the first token")
        last = s.steps[-1]
        d = last.distribution
        how = "greedy: the top token" if d.greedy else f"seed ({s.seed}, position {last.position})"
        head = _render.heading(f"Step at position {last.position}: chose {last.token}",
                               f"p = {_render.prob(d.probs[last.token_id])}, {d.n_kept:,} tokens kept, {how}")
        return head + _render.prob_rows([(c.id, c.token, c.prob) for c in d.top(10)], chosen=last.token_id)

    def _history_html(self) -> str:
        steps = self.stepper.steps[-12:]
        if not steps:
            return ""
        rows = [[str(st.position), _render.token_cell(st.token), _render.prob(st.distribution.probs[st.token_id]),
                 f"{st.distribution.n_kept:,}", f"{st.distribution.entropy:.2f}"] for st in steps]
        return _render.heading("Steps so far", "(the last 12)") + _render.table(
            ["position", "token", "p", "kept", "entropy"], rows)

    def _cache_html(self) -> str:
        s = self.stepper
        rows = s.cache_rows()
        config = self.model.config
        total, new = rows["total"], rows["new"]
        labels = self.model.tokenizer.tokens(s.ids[:total])
        cells = []
        for j, label in enumerate(labels):
            fresh = j >= total - new
            colour = _render.ACCENT if fresh else ("#a6d4f2" if j < s.prompt_len else "#dddddd")
            cells.append(_render.chip(label, str(j), colour, "color:white" if fresh else "",
                                      f"gptviz-kv-row gptviz-kv-{'new' if fresh else 'reused'}",
                                      f"position {j}: {'new' if fresh else 'reused'}"))
        numbers, mib = kv_cache_bytes(config, total, bytes_per_number=1), kv_cache_bytes(config, total) / 2**20
        note = (f"{total} rows (of {rows['n_ctx']}) × {config.n_layer} layers × keys and values of {config.d_model} "
                f"numbers = {numbers:,} numbers ({mib:.2f} MiB in float32). The last forward pass "
                f"computed {new} new row{'s' if new != 1 else ''} (orange) and reused {rows['reused']}.")
        return _render.heading("KV cache", note) + f'<div style="line-height:1.1">{"".join(cells)}</div>'
