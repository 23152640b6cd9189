"""One line at the top of every chapter: repeatable figures, a fixed seed, and the model in use.

    from gptviz.notebook import setup
    model = setup()          # the bundled offline model
    model = setup("gpt2")    # the real GPT-2 (downloaded once; the same as gptviz.load("gpt2"))

Figures become PNG images (matplotlib's default SVG output embeds random ids, so a re-run would
differ), plotly figures are sent as JSON (the ``plotly_mimetype`` renderer: no 5 MB of JavaScript
in the notebook), and Python's, NumPy's and torch's random generators start from ``seed``.
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass

import numpy as np
import torch

from .errors import InputError

PLOTLY_RENDERER = "plotly_mimetype"


def describe(model) -> str:
    """One line naming a model and its shape, with no machine path in it."""
    c = model.config
    return (f"Model: {c.name or 'unnamed'}: {c.n_layer} layers, {c.n_head} heads, d_model {c.d_model}, "
            f"context {c.n_ctx} tokens, vocabulary {c.vocab_size:,}, {c.n_params / 1e6:.1f}M parameters")


def configure_display() -> None:
    """PNG figures in IPython (when running in one) and plotly's JSON renderer.

    Plotly takes its renderer from ``$PLOTLY_RENDERER`` when it first shows a figure; importing its
    renderers here instead would cost every chapter seconds of start-up (most of it jsonschema's
    grammars), though no chapter needs them before it draws with plotly."""
    if "plotly.io._renderers" in sys.modules:  # already loaded: the variable is no longer read
        import plotly.io as pio

        pio.renderers.default = PLOTLY_RENDERER
    else:
        os.environ["PLOTLY_RENDERER"] = PLOTLY_RENDERER
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
        shell.run_line_magic("config", "InlineBackend.figure_formats = ['png']")


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, NumPy's and torch's global random generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


#: Below this many parameters a model runs as fast on one CPU thread as on several, and a single
#: thread does not stall when other programs keep a core busy (two threads then wait for each other:
#: measured 3-4x slower generation with the bundled model on a busy 2-core machine).
SMALL_MODEL = 50_000_000


def threads_from_environment() -> int | None:
    """``$GPTVIZ_THREADS`` as a whole number >= 1, or None when it is not set."""
    value = os.environ.get("GPTVIZ_THREADS", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise InputError(f"GPTVIZ_THREADS must be a whole number of CPU threads >= 1, got {value!r}: "
                         "unset it to let gptviz choose, or set e.g. GPTVIZ_THREADS=2")
    return int(value)


def setup(model: str | None = None, seed: int = 0, load: bool = True, threads: int | None = None):
    """Prepare a notebook: PNG figures, plotly as JSON, seeded randomness; load and describe a model.

    ``model``: as :func:`gptviz.load` takes it (None: ``$GPTVIZ_MODEL`` or the bundled model).
    ``threads``: torch's CPU threads; default ``$GPTVIZ_THREADS`` when set (a class server, or a test
    that runs the notebooks on another thread count), else one for a model under
    :data:`SMALL_MODEL` parameters and torch's own choice for larger ones. Returns the model on the
    CPU in eval mode, or None with ``load=False``.
    """
    configure_display()
    seed_everything(seed)
    if not load:
        return None
    from .hub import load as load_model

    if threads is None:
        threads = threads_from_environment()
    loaded = load_model(model, device="cpu")
    if threads is None and loaded.config.n_params < SMALL_MODEL:
        threads = 1
    if threads is not None:
        torch.set_num_threads(threads)
    print(describe(loaded))
    return loaded


class ClaimError(AssertionError):
    """A chapter's prose says something its model does not show: the build stops on it."""


#: Set to 1 by ``tools/build_notebooks.py``: a claim that fails stops the build.
STRICT_CLAIMS = "GPTVIZ_STRICT_CLAIMS"


def claim(holds: bool, prose: str) -> None:
    """Check one sentence of a chapter's prose against what the model computed.

    ``holds``: the measured fact, e.g. ``weight_on_name >= 0.5``; ``prose``: the sentence it backs.
    The chapters' sentences are written for the bundled model. Building them
    (``tools/build_notebooks.py`` sets ``$GPTVIZ_STRICT_CLAIMS=1``) fails with a :class:`ClaimError`
    when a claim stops holding, for instance after the model is retrained, so no figure contradicts
    its text. Anywhere else (a student who loaded GPT-2 with ``setup("gpt2")``) a claim that fails
    prints a note saying so, and the notebook goes on.
    """
    if bool(holds):
        return
    if os.environ.get(STRICT_CLAIMS, "") == "1":
        raise ClaimError(f"the chapter says {prose!r}, but the model no longer shows it: "
                         "rewrite the sentence or pick an example where it holds")
    print(f"Note: the text says {prose!r}; that was measured on the bundled model, and the model "
          "loaded here shows something else. Compare the two: that is an experiment too.")


#: The size up to which a model gets the chapters' full counts: the bundled model (7.3M parameters)
#: and anything as cheap to run. A model ``r`` times larger gets counts about ``r`` times smaller.
FULL_BUDGET_PARAMS = 10_000_000


@dataclass(frozen=True)
class Budget:
    """How much a chapter's slow cells compute: generation lengths, sample and sweep counts.

    The chapters were written for the bundled model, where a cell that writes its whole context six
    times or scores 200 stories takes seconds. On GPT-2 small (17 times the parameters, 4 times
    the context) the same counts take many minutes on a laptop, so :func:`budget` scales them down.
    """

    neuron_stories: int  #: ch04: held-out stories the full-stop neuron is read over
    lens_stories: int    #: ch05: validation stories the logit lens's top guesses are counted over
    top_p_stories: int   #: ch06: stories whose every position counts the tokens top-p 0.9 keeps
    long_tokens: int     #: ch07, "Greedy repeats itself": tokens each of six settings writes (bundled: its whole context)
    stop_tokens: int     #: ch07, "When does it stop?": the most tokens the two samples may write
    seeds: int           #: ch07: seeds the medians of the side-by-side losses are taken over; ch08: samples per model
    held_out_stories: int  #: ch08: validation stories the losses, openings and shuffles are measured on
    sink_stories: int    #: ch10: validation stories read with and without ``<|endoftext|>``
    repeats: int         #: ch09, ch10: repeated random sequences the induction scores and ablations average over
    #: ch10: validation stories for name recall, with and without heads (the first 40 of them also
    #: find the copy heads, the first 100 count where the induction rule would find a name)
    recall_stories: int
    gave_stories: int    #: ch10: stories searched for "gave A and B"
    #: ch10: tokens the OV and QK circuits are read over (a [tokens, tokens] matrix per head); None: every
    #: learned token (the bundled model's 3,773; GPT-2's 50,256 would be 10 GB a head)
    circuit_tokens: int | None


def budget(model) -> Budget:
    """The counts for ``model``: exactly the chapters' own for a model of up to
    :data:`FULL_BUDGET_PARAMS` parameters (the bundled one); for a larger model each count divided
    by how many times larger it is, but never below a floor that still shows the effect, and the
    writing to a full context never longer than the model's context."""
    c = model.config
    ratio = max(1.0, c.n_params / FULL_BUDGET_PARAMS)

    def scaled(full: int, floor: int) -> int:
        return max(min(floor, full), round(full / ratio))

    return Budget(neuron_stories=scaled(50, 10), lens_stories=scaled(100, 5), top_p_stories=scaled(100, 10),
                  long_tokens=min(c.n_ctx, scaled(256, 64)), stop_tokens=scaled(400, 50),
                  seeds=scaled(20, 3), held_out_stories=scaled(100, 20), sink_stories=scaled(30, 5), repeats=scaled(16, 2),
                  recall_stories=scaled(200, 20), gave_stories=scaled(3000, 300),
                  circuit_tokens=None if ratio == 1 else 1000)
