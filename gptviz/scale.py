"""GPT-3's published sizes beside gptviz's presets, and what a size costs to train.

:data:`GPT3_TABLE` is Table 2.1 of "Language Models are Few-Shot Learners" (Brown et al., 2020), as
printed: eight models, each with its parameter count (rounded, as stated), layers, width, heads,
head width, batch size (in tokens) and learning rate, with the more precise count of its Table D.1
(to three significant figures). Two printed rows cannot be built as they stand: their heads times
head width is not their width (:attr:`PaperRow.tiles`). The presets in :data:`gptviz.config.PRESETS`
take the width that Table D.1's count confirms (:func:`paper_vs_preset` lists every difference).

:func:`training_flops` is the usual estimate of training compute, ``6 N D`` for ``N`` parameters
and ``D`` training tokens; the paper's Table D.1 gives 3.14e23 FLOPs for GPT-3 175B on 300 billion
tokens (:data:`GPT3_TRAINING_TOKENS`, :data:`GPT3_TRAINING_FLOPS`); :func:`trained_tokens` reads
the ``D`` of a model gptviz trained from its training record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .config import PRESETS, GPTConfig
from .errors import InputError


@dataclass(frozen=True)
class PaperRow:
    """One row of the GPT-3 paper's Table 2.1, as printed, and the gptviz preset it became."""

    name: str  # the paper's name for the model
    preset: str  # its key in gptviz.config.PRESETS
    n_params: float  # the stated total, rounded as printed (125M, 1.3B, ...)
    n_layers: int
    d_model: int
    n_heads: int
    d_head: int
    batch_tokens: float  # tokens per optimiser step (0.5M ... 3.2M)
    learning_rate: float
    compute_params: float  # the total the paper's compute table (D.1) counts with: 3 significant figures

    @property
    def tiles(self) -> bool:
        """Do the heads tile the width (``n_heads x d_head == d_model``), as GPT-2's attention needs?"""
        return self.n_heads * self.d_head == self.d_model


#: Table 2.1 of Brown et al. (2020), every column as printed (context 2,048 tokens for all eight), and
#: the parameter count of the same paper's Table D.1 (total training compute), in millions there.
GPT3_TABLE: tuple[PaperRow, ...] = (
    PaperRow("GPT-3 Small", "gpt3-small", 125e6, 12, 768, 12, 64, 0.5e6, 6.0e-4, 125e6),
    PaperRow("GPT-3 Medium", "gpt3-medium", 350e6, 24, 1024, 16, 64, 0.5e6, 3.0e-4, 356e6),
    PaperRow("GPT-3 Large", "gpt3-large", 760e6, 24, 1536, 16, 96, 0.5e6, 2.5e-4, 760e6),
    PaperRow("GPT-3 XL", "gpt3-xl", 1.3e9, 24, 2048, 24, 128, 1e6, 2.0e-4, 1_320e6),
    PaperRow("GPT-3 2.7B", "gpt3-2.7b", 2.7e9, 32, 2560, 32, 80, 1e6, 1.6e-4, 2_650e6),
    PaperRow("GPT-3 6.7B", "gpt3-6.7b", 6.7e9, 32, 4096, 32, 128, 2e6, 1.2e-4, 6_660e6),
    PaperRow("GPT-3 13B", "gpt3-13b", 13.0e9, 40, 5140, 40, 128, 2e6, 1.0e-4, 12_850e6),
    PaperRow("GPT-3 175B", "gpt3-175b", 175.0e9, 96, 12288, 96, 128, 3.2e6, 0.6e-4, 174_600e6),
)

#: Tokens GPT-3 (every size) was trained on, and the paper's compute for 175B (Table D.1), in FLOPs.
GPT3_TRAINING_TOKENS = 300e9
GPT3_TRAINING_FLOPS = 3.14e23

#: GPT-3 175B's accuracy (%) on LAMBADA (the last word of a passage), Table 3.2 of the same paper:
#: the task shown with no example (zero-shot), one solved example (one-shot), or several (few-shot),
#: all in the prompt; no weight is updated in any of the three.
GPT3_LAMBADA_ACCURACY = {"zero-shot": 76.2, "one-shot": 72.5, "few-shot": 86.4}


def paper_row(preset: str) -> PaperRow:
    """The Table 2.1 row a GPT-3 preset was made from (``"gpt3-xl"`` ...)."""
    for row in GPT3_TABLE:
        if row.preset == preset:
            return row
    raise InputError(f"no GPT-3 paper row for preset {preset!r}; the GPT-3 presets are: "
                     f"{', '.join(r.preset for r in GPT3_TABLE)}")


def paper_vs_preset(row: PaperRow, config: GPTConfig | None = None) -> dict[str, tuple[int, int]]:
    """Every shape column where ``config`` (default: the row's preset) differs from the printed row:
    ``{"n_heads": (printed, preset), ...}``; empty when they agree."""
    c = PRESETS[row.preset] if config is None else config
    ours = {"n_layers": c.n_layer, "d_model": c.d_model, "n_heads": c.n_head, "d_head": c.d_head}
    return {key: (getattr(row, key), value) for key, value in ours.items() if getattr(row, key) != value}


def with_shape(config: GPTConfig, d_model: int, n_head: int | None = None) -> GPTConfig:
    """``config`` at another width (and head count, default one head, which leaves the count alone):
    a what-if, for counting the parameters a printed width would give."""
    return GPTConfig(vocab_size=config.vocab_size, n_ctx=config.n_ctx, d_model=d_model, n_layer=config.n_layer,
                     n_head=n_head or 1, name=f"{config.name} at d_model {d_model}")


#: The parts a parameter count is split into (keys of :meth:`GPTConfig.param_counts`), as
#: :func:`gptviz.viz.param_breakdown` draws them.
PARAM_FAMILIES = {
    "embeddings (token + position)": ("token_embedding", "position_embedding"),
    "attention": ("attention",),
    "MLP": ("mlp",),
    "layer norm": ("layer_norm",),
}


def param_shares(config: GPTConfig) -> dict[str, float]:
    """How are the parameters shared out? ``{family: share of the total}`` for each of
    :data:`PARAM_FAMILIES` (summing to 1), from :meth:`GPTConfig.param_counts`."""
    if not isinstance(config, GPTConfig):
        raise InputError(f"config must be a GPTConfig (e.g. PRESETS['gpt2']), got {type(config).__name__}")
    counts = config.param_counts()
    return {family: sum(counts[k] for k in keys) / counts["total"] for family, keys in PARAM_FAMILIES.items()}


def training_flops(n_params: float, n_tokens: float) -> float:
    """Training compute in floating-point operations, ``6 N D``, for ``N`` parameters and ``D`` tokens.

    Each weight takes part in one multiply and one add per token in the forward pass (2 FLOPs), and
    the backward pass costs twice the forward (4 more): the gradient with respect to the inputs and
    the one with respect to the weights. Left out: attention's ``T x T`` products, which use no
    weights (:func:`attention_flops_share`, a few percent at GPT-3's sizes), and the few parameters
    that multiply nothing (position embeddings, biases, LayerNorms).
    """
    if n_params <= 0 or n_tokens <= 0:
        raise InputError(f"need n_params > 0 and n_tokens > 0, got {n_params} and {n_tokens}")
    return 6.0 * n_params * n_tokens


def attention_flops_share(config: GPTConfig, n_tokens: int | None = None) -> float:
    """What ``6 N D`` leaves out, as a share of the blocks' weights' FLOPs: ``T / (6 d_model)``.

    Per token and layer, the scores ``q.k`` and the weighted sum of values are ``2 x 2 T d_model``
    FLOPs at context ``T = n_tokens`` (default the full context), beside ``2 x 12 d_model²`` for the
    block's weights; the backward pass triples both alike. That counts every key, as gptviz's model
    computes them (it masks the scores after computing them all); an implementation that skips the
    masked half does half of it.
    """
    T = config.n_ctx if n_tokens is None else n_tokens
    if not 1 <= T <= config.n_ctx:
        raise InputError(f"n_tokens must be from 1 to the context, {config.n_ctx}, got {T}")
    return (2 * 2 * T * config.d_model) / (2 * 12 * config.d_model ** 2)


def pf_days(flops: float) -> float:
    """FLOPs as petaflop/s-days, the paper's unit: one day at 10^15 operations per second."""
    return flops / (1e15 * 24 * 3600)


def trained_tokens(model) -> int | None:
    """Tokens ``model`` was trained on, summed over the stages of the ``training.json`` record that
    gptviz saves beside its own models (the bundled one); None for a model without one (GPT-2)."""
    record = Path(getattr(model, "source", "") or "") / "training.json"
    if not record.is_file():
        return None
    stages = json.loads(record.read_text()).get("stages", [])
    return sum(int(stage["tokens_seen"]) for stage in stages) or None
