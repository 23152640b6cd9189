"""What would the model say if it stopped after layer ``i``? The logit lens, and the residual stream's parts.

The residual stream is a sum: the embeddings, then each block's attention output and MLP output
added in turn. The model reads it only at the end, through ``ln_f`` and the tied unembedding
(``wte`` transposed). The *logit lens* (nostalgebraist, 2020) applies that same reading to the
stream after every block: the row for the last block is exactly the model's output.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import InputError
from .tokenizer import EOT_ID
from .trace import SITE, run, stream_names

__all__ = ["stream_names", "lens_logits", "LogitLens", "logit_lens", "lens_guesses", "unseen_mask", "top_tokens",
           "contribution_norms", "mean_norms", "masked_note"]


def lens_logits(model, resid: torch.Tensor) -> torch.Tensor:
    """Logits ``[T, V]`` read from a residual stream ``[T, D]`` as the model reads its last one:
    ``ln_f``, then the product with the token embedding (GPT-2's unembedding is tied to it)."""
    if resid.dim() != 2 or resid.shape[-1] != model.config.d_model:
        raise InputError(f"resid must have shape [T, {model.config.d_model}] (one residual stream "
                         f"of this model), got {list(resid.shape)}")
    return run(model, resid, start_layer=model.config.n_layer, names=[SITE.logits])[SITE.logits]  # after the last block


@dataclass
class LogitLens:
    """The top ``k`` predictions read from the residual stream after each layer.

    ``rows``: the stream names (``embed.sum``, ``blocks.{i}.resid_post``), R = n_layer + 1;
    ``tokens``: the input tokens (T); ``ids`` and ``probs``: ``[R, T, k]`` top token ids and their
    probabilities (softmax of the lens logits over the tokens the model learned), best first;
    ``labels``: ``[R][T][k]`` readable token strings for ``ids``; ``unseen``: ``[R, T]`` the probability
    the full softmax gives the masked tokens (:func:`unseen_mask`); ``n_masked``: how many they are
    (0 for a model that learned every token, such as OpenAI's GPT-2).
    """

    rows: list[str]
    tokens: list[str]
    ids: torch.Tensor
    probs: torch.Tensor
    labels: list[list[list[str]]]
    unseen: torch.Tensor | None = None
    n_masked: int = 0

    @property
    def row_labels(self) -> list[str]:
        """Short names for the rows: ``embeddings``, ``after block 0``, ..."""
        return ["embeddings" if r == SITE.embed_sum else f"after block {r.split('.')[1]}" for r in self.rows]

    @property
    def max_unseen(self) -> float:
        """The largest probability the full softmax gives the masked tokens, over every row and position
        (0.0 when none are masked or ``unseen`` was not kept)."""
        if self.unseen is None or not self.n_masked:
            return 0.0
        return float(self.unseen.max())


def masked_note(lens: LogitLens) -> str:
    """The words that say which tokens a lens was read over ("" when it masked none): the lens table's
    legend title and its explorer's note."""
    if not lens.n_masked:
        return ""
    return (f"probabilities over the tokens the model learned: the {lens.n_masked:,} it never saw share one "
            f"embedding row and are left out (up to {lens.max_unseen:.0%} of the full softmax)")


def logit_lens(model, trace, k: int = 1) -> LogitLens:
    """For each layer and position, the top ``k`` next-token guesses the stream already holds.

    Needs ``embed.sum`` and every ``blocks.{i}.resid_post`` in ``trace``. Memory stays at one
    ``[T, V]`` logit matrix at a time. The guesses are read over the tokens the model learned: the
    softmax leaves out those of :func:`unseen_mask`, whose probability under the full softmax is kept
    apart in ``unseen``; ties go to the lower id (:func:`top_tokens`).
    """
    if not 1 <= k <= model.config.vocab_size:
        raise InputError(f"k must be between 1 and {model.config.vocab_size}, got {k}")
    rows = stream_names(model.config)
    ids, probs = [], []
    masked = unseen_mask(model)
    unseen = []
    for name in rows:
        logits = lens_logits(model, trace[name])
        unseen.append(torch.softmax(logits, dim=-1)[:, masked].sum(-1))  # [T]
        top_probs, top_ids = top_tokens(torch.softmax(logits.masked_fill(masked, float("-inf")), dim=-1), k)
        ids.append(top_ids)
        probs.append(top_probs)
    ids_t = torch.stack(ids)  # [R, T, k]
    tok = model.tokenizer
    labels = [[[tok.token_str(i) for i in pos] for pos in row] for row in ids_t.tolist()]
    return LogitLens(rows, list(trace.tokens), ids_t, torch.stack(probs), labels, torch.stack(unseen),
                     int(masked.sum()))


def lens_guesses(model, trace) -> torch.Tensor:
    """``[R, T]`` ids: the lens's top guess after each layer (the ``ids[..., 0]`` of :func:`logit_lens`),
    for counting over many texts. Only the rows of ``wte`` the lens reads (those :func:`unseen_mask`
    leaves in) are multiplied, and ties go to the lower id, as in :func:`logit_lens`. Needs ``embed.sum``
    and every ``blocks.{i}.resid_post`` in ``trace``."""
    readable = (~unseen_mask(model)).nonzero().squeeze(1)  # ascending ids, so argmax's first maximum is the lower id
    W = model.wte.weight.detach()[readable]  # [n_readable, d_model]
    with torch.no_grad():
        return torch.stack([readable[(model.ln_f(trace[name].to(W)) @ W.T).argmax(-1)]
                            for name in stream_names(model.config)]).cpu()


def unseen_mask(model) -> torch.Tensor:
    """``[V]`` bool: the tokens the model never learned, which the lens leaves out.

    The bundled model's trainer gives every token its training text never uses one shared embedding
    row (:mod:`gptviz.train`); tied to the unembedding, that row gives all of them the same logit, so
    together they can hold most of the probability where the stream says little (after block 0), and
    the top "token" would be an arbitrary one of them. True for the tokens whose row another token
    shares (``<|endoftext|>`` is never masked); all False for a model that learned every row."""
    from .interventions.detectors import learned_tokens

    mask = torch.ones(model.config.vocab_size, dtype=torch.bool)
    mask[learned_tokens(model)] = False
    mask[EOT_ID] = False
    return mask


def top_tokens(probs: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` most probable tokens of each row of ``probs`` ``[..., V]``: ``(values, ids)``, each
    ``[..., k]``, best first, equal probabilities in order of id. One rule for the lens table and its
    explorer, whatever ``k`` each asks for (``torch.topk`` can break a tie one way for ``k=1`` and
    another for ``k=5``)."""
    values, ids = probs.sort(dim=-1, descending=True, stable=True)
    return values[..., :k], ids[..., :k]


def contribution_norms(trace) -> dict[str, torch.Tensor]:
    """How much does each part add to the residual stream? The L2 norm, per position, of each term
    of the sum: ``embed.sum``, then ``blocks.{i}.attn.out`` and ``blocks.{i}.mlp.out`` for every
    block. Returns ``{name: [T] norms}`` in the order the terms are added."""
    names = [SITE.embed_sum]
    for i in range(trace.config.n_layer):
        names += [f"blocks.{i}.{SITE.attn_out}", f"blocks.{i}.{SITE.mlp_out}"]
    return {name: trace[name].norm(dim=-1) for name in names}


def mean_norms(norms: dict[str, torch.Tensor]) -> dict[str, float]:
    """The mean over positions of each ``[T]`` entry of :func:`contribution_norms` (``{name: float}``,
    in the same order), computed in float64: the bars of :func:`gptviz.viz.residual_norms`."""
    return {name: float(v.detach().to("cpu", torch.float64).mean()) for name, v in norms.items()}
