"""What the source texts describe, beside what GPT-2 does: both computed.

Short explanations of GPT simplify. The Hacker News comment this project starts from describes
sine-and-cosine position vectors, a ReLU, normalisation *after* each residual add, and "the
inverse of the embedding matrix" at the end. GPT-2 learns its position vectors, uses a GELU,
normalises *before* each sub-layer, and scores with the *transpose* of the embedding matrix. This
module computes each of the described versions so a notebook can put them side by side:

* :func:`sinusoidal_positions`: the original Transformer's position vectors;
* :data:`ACTIVATIONS`: GELU (GPT-2's tanh form), ReLU, and the leaky ReLU the comment defines;
* :func:`run_variant`: GPT-2's forward pass with any of those swapped in, on the model's own weights;
* :func:`inverse_vs_transpose`: why the unembedding is a transpose and not an inverse;
* :func:`dot_product_variance`: why attention scores are scaled by ``1/sqrt(d_head)``;
* :func:`matrix_shapes`: the weight matrices a configuration implies (GPT-3's 50257 x 12288 ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .config import GPTConfig
from .errors import InputError
from .loss import next_token_loss
from .model import gelu


def sinusoidal_positions(n_positions: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The fixed position vectors of "Attention Is All You Need" ``[n_positions, d_model]``.

    Dimension ``2i`` holds ``sin(pos / base^(2i/d_model))`` and ``2i + 1`` the cosine of the same
    angle: each pair turns at its own speed, from once every 2*pi positions to once every
    ``2*pi*base``. GPT-2 does not use them: its ``wpe`` is learned like any other weight.
    """
    if n_positions < 1 or d_model < 2 or d_model % 2:
        raise InputError(f"need n_positions >= 1 and an even d_model >= 2, got {n_positions} and {d_model}")
    pos = torch.arange(n_positions, dtype=torch.float64)[:, None]  # [n, 1]
    freq = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # [d/2]
    angles = pos * freq  # [n, d/2]
    out = torch.empty(n_positions, d_model, dtype=torch.float64)
    out[:, 0::2] = torch.sin(angles)
    out[:, 1::2] = torch.cos(angles)
    return out.float()


def cosine_similarity_matrix(vectors: torch.Tensor) -> torch.Tensor:
    """``[n, n]`` cosine similarities between the rows of ``vectors`` ``[n, d]``."""
    unit = F.normalize(vectors.double(), dim=-1)
    return (unit @ unit.T).float()


def leaky_relu(x: torch.Tensor, k: float = 0.01) -> torch.Tensor:
    """The comment's "ReLU": ``x`` for positive ``x``, ``k * x`` (k near 0) for negative ``x``."""
    return torch.where(x > 0, x, k * x)


#: Activation functions by name. ``"gelu"`` is GPT-2's (the tanh approximation).
ACTIVATIONS = {
    "gelu": gelu,
    "relu": torch.relu,
    "leaky_relu": leaky_relu,
}


def activation_curves(lo: float = -4.0, hi: float = 4.0, n: int = 161) -> dict[str, np.ndarray]:
    """GELU (GPT-2's) and ReLU as curves: ``{"x": [n], "gelu": [n], "relu": [n]}`` over ``n`` evenly
    spaced points from ``lo`` to ``hi`` (float64)."""
    xs = np.linspace(lo, hi, n)
    return {"x": xs, "gelu": gelu(torch.from_numpy(xs)).numpy(), "relu": np.maximum(xs, 0)}


@dataclass
class GeluVsRelu:
    """One token's neurons in one MLP under GELU and under ReLU (:func:`gelu_vs_relu`)."""

    relu: torch.Tensor  # [d_mlp]: ReLU of the pre-activations, what a ReLU MLP would pass on
    strongest: np.ndarray  # [k]: the neurons with the largest |GELU output|, largest first
    positive: dict[str, int]  # positive neurons before the activation, after GELU and after ReLU
    n_negative: int  # neurons negative before the activation (ReLU zeroes them, GELU lets a little through)
    negative_sum: float  # what GELU lets through from them: the sum of their (negative) outputs
    change: float  # |out_relu - out| / |out|: how far the layer's output moves in the all-ReLU model
    cosine: float  # cosine of out_relu with out


def gelu_vs_relu(pre: torch.Tensor, post: torch.Tensor, out: torch.Tensor, out_relu: torch.Tensor,
                 k: int = 10) -> GeluVsRelu:
    """GELU beside ReLU for one token of one layer: ``pre`` and ``post`` ``[d_mlp]`` are the trace's
    ``mlp.pre`` and ``mlp.post`` (GELU's output), ``out`` ``[D]`` its ``mlp.out``, and ``out_relu`` ``[D]``
    the same layer's output in the model whose every MLP uses ReLU (``variant_edits(model,
    activation="relu")``). ``k``: how many strongest neurons."""
    relu = pre.clamp(min=0)
    negative = pre < 0
    g = post.numpy()
    return GeluVsRelu(
        relu=relu,
        strongest=np.argsort(-np.abs(g), kind="stable")[:k],
        positive={name: int((v.numpy() > 0).sum()) for name, v in (("pre", pre), ("gelu", post), ("relu", relu))},
        n_negative=int(negative.sum()),
        negative_sum=float(post[negative].sum()),
        change=float((out_relu - out).norm() / out.norm().clamp(min=1e-12)),
        cosine=float(F.cosine_similarity(out_relu, out, dim=0)),
    )


@dataclass
class Variant:
    """The output of :func:`run_variant`: ``logits`` ``[T, V]`` and ``stream`` ``[n_layer + 1, T, D]``,
    the residual stream before block 0 and after each block."""

    logits: torch.Tensor
    stream: torch.Tensor


def run_variant(model, ids, activation: str = "gelu", norm: str = "pre", positions: str = "learned") -> Variant:
    """GPT-2's forward pass on ``ids`` ``[T]`` with the model's weights, changed as asked.

    ``activation``: a name in :data:`ACTIVATIONS`. ``norm``: ``"pre"`` (GPT-2:
    ``x = x + f(LN(x))``) or ``"post"`` (the original Transformer: ``x = LN(x + f(x))``, with the same
    LayerNorm weights; GPT-2's final ``ln_f`` stays in both). ``positions``: ``"learned"`` (GPT-2's
    ``wpe``) or ``"sinusoidal"``. The defaults reproduce ``model(ids)`` exactly; any change runs weights
    trained for GPT-2's design in another design, which shows how much each choice matters to them.

    Each change is an edit of the model's own forward pass (:func:`variant_edits`), not a copy of it.
    """
    ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1).tolist()
    edits = variant_edits(model, activation, norm, positions)
    tr = model.trace(ids, names=["embed.sum", "blocks.*.resid_post", "logits"], edits=edits, allow_special=True)
    stream = [tr["embed.sum"]] + [tr[f"blocks.{i}.resid_post"] for i in range(model.config.n_layer)]
    return Variant(tr["logits"], torch.stack(stream))


def variant_edits(model, activation: str = "gelu", norm: str = "pre", positions: str = "learned") -> dict:
    """The edits of :func:`run_variant`, for ``model.trace(..., edits=...)`` (one trace at a time: the
    edits remember what they saw earlier in the same forward pass).

    * another activation: each ``mlp.post`` becomes ``act(mlp.pre)`` (the edit keeps the ``pre`` it saw);
    * post-LN: ``ln_1`` and ``ln_2`` pass their *input* through unchanged, and the block's LayerNorms
      are applied after each residual add instead, to ``resid_mid`` and ``resid_post``;
    * sinusoidal positions: ``embed.pos`` becomes :func:`sinusoidal_positions`.
    """
    if activation not in ACTIVATIONS:
        raise InputError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    if norm not in ("pre", "post"):
        raise InputError(f"norm must be 'pre' (GPT-2) or 'post' (the original Transformer), got {norm!r}")
    if positions not in ("learned", "sinusoidal"):
        raise InputError(f"positions must be 'learned' (GPT-2) or 'sinusoidal', got {positions!r}")
    edits = {}
    if activation != "gelu":
        act, seen = ACTIVATIONS[activation], {}

        def keep_pre(pre):
            seen["pre"] = pre
            return pre

        edits["blocks.*.mlp.pre"] = keep_pre
        edits["blocks.*.mlp.post"] = lambda post: act(seen["pre"])
    if norm == "post":
        stream = {}

        def remember(x):  # the residual stream entering each sub-layer
            stream["x"] = x
            return x

        edits["embed.sum"] = remember
        for i, block in enumerate(model.h):
            edits[f"blocks.{i}.ln_1"] = lambda h: stream["x"]  # attention reads the raw stream
            edits[f"blocks.{i}.resid_mid"] = lambda x, ln=block.ln_1: remember(ln(x))
            edits[f"blocks.{i}.ln_2"] = lambda h: stream["x"]
            edits[f"blocks.{i}.resid_post"] = lambda x, ln=block.ln_2: remember(ln(x))
    if positions == "sinusoidal":
        edits["embed.pos"] = lambda pos: sinusoidal_positions(*pos.shape)  # pos: [T, D]
    return edits


def agreement(reference: torch.Tensor, other: torch.Tensor, targets=None) -> dict[str, float]:
    """How close are two logit tensors ``[T, V]``? ``top1``: the share of positions whose top token is
    the same. With ``targets`` (the next token after each of the first ``len(targets)`` positions),
    ``loss_reference`` and ``loss_other``: the mean cross-entropy of each (nats per token)."""
    out = {"top1": (reference.argmax(-1) == other.argmax(-1)).double().mean().item()}
    if targets is not None:
        t = torch.as_tensor(targets, dtype=torch.long)
        out["loss_reference"] = next_token_loss(reference[: len(t)], t).item()
        out["loss_other"] = next_token_loss(other[: len(t)], t).item()
    return out


def inverse_vs_transpose(model) -> dict[str, float]:
    """Is the unembedding the inverse of the embedding matrix ``W`` ``[V, D]``? Computed in float64.

    Returns ``rows`` (V) and ``cols`` (D); ``rank`` of ``W`` (at most D, so ``W`` has no inverse:
    it is not square, and 50,257 scores cannot be recovered from D numbers); ``pinv_left_error``:
    ``max |pinv(W) W - I_D|`` (a left inverse exists: tiny); ``pinv_projection_trace``: the trace of
    ``W pinv(W)``, a projection of rank D, where ``I_V`` would have trace V; ``transpose_error``:
    ``max |W^T W - I_D|`` (the transpose is no inverse either). GPT-2 uses the transpose: a score is
    the dot product of the final vector with a token's embedding.
    """
    W = model.wte.weight.detach().double().cpu()  # [V, D]
    gram = W.T @ W  # [D, D]
    eigenvalues = torch.linalg.eigvalsh(gram)  # the squared singular values of W
    tol = eigenvalues.max() * max(W.shape) * torch.finfo(torch.float64).eps
    pinv = torch.linalg.solve(gram, W.T)  # [D, V]: the pseudo-inverse (W^T W)^-1 W^T, as W has full rank
    eye = torch.eye(W.shape[1], dtype=torch.float64)
    return {
        "rows": W.shape[0],
        "cols": W.shape[1],
        "rank": int((eigenvalues > tol).sum().item()),
        "pinv_left_error": (pinv @ W - eye).abs().max().item(),
        "pinv_projection_trace": (pinv * W.T).sum().item(),  # trace(W @ pinv), without the [V, V] matrix
        "transpose_error": (gram - eye).abs().max().item(),
    }


def dot_product_variance(d: int, n: int = 20000, seed: int = 0) -> dict[str, float]:
    """Variance of ``q . k`` for random vectors with unit-variance entries in ``d`` dimensions, before
    and after dividing by ``sqrt(d)``: about ``d``, then about 1. Without the scale, wide heads would
    give softmax inputs so spread out that it puts almost all weight on one key."""
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(n, d, generator=gen, dtype=torch.float64)
    k = torch.randn(n, d, generator=gen, dtype=torch.float64)
    dots = (q * k).sum(-1)  # [n]
    return {"unscaled": dots.var().item(), "scaled": (dots / math.sqrt(d)).var().item()}


def matrix_shapes(config: GPTConfig) -> dict[str, tuple[int, int]]:
    """The weight matrices of one model of shape ``config``, as (rows, columns), input on the left.

    One head's query, key and value matrices are ``d_model x d_head``: GPT-2 stores all heads side by
    side in one ``d_model x 3 d_model`` matrix (``attn.c_attn``), which is the same numbers.
    """
    D, d, F_, V = config.d_model, config.d_head, config.d_mlp, config.vocab_size
    return {
        "token embedding": (V, D),
        "position embedding": (config.n_ctx, D),
        "query, one head": (D, d),
        "key, one head": (D, d),
        "value, one head": (D, d),
        "attention output": (D, D),
        "MLP in": (D, F_),
        "MLP out": (F_, D),
    }
