"""Vectors as rows of coloured cells, and many vectors as points on a plane.

The Illustrated GPT-2 draws an embedding as a strip of boxes. Here each box is one of the d_model
numbers, coloured blue (negative) to red (positive) on a scale centred on zero.
"""

from __future__ import annotations

import numpy as np
import torch

from ..embeddings import principal_plane
from ..errors import InputError
from .style import (DIVERGING, check_position, finish, new_figure, styled, symmetric_limit,
                    to_numpy)


def _check_vector(vector, name: str = "vector") -> np.ndarray:
    v = to_numpy(vector, name)
    if v.ndim != 1:
        raise InputError(f"{name} must be one vector of shape [D], got shape {list(v.shape)} "
                         "(pick one position, e.g. trace['embed.sum'][3])")
    return v


def _strips(ax_list, vectors: list[np.ndarray], labels: list[str], limit: float):
    """Draw each vector as a one-row image on its own axes, all on one colour scale."""
    image = None
    for ax, v, label in zip(ax_list, vectors, labels):
        image = ax.imshow(v[None, :], cmap=DIVERGING, vmin=-limit, vmax=limit, aspect="auto",
                          interpolation="nearest")
        ax.set_yticks([0], [label])
        ax.set_xlabel("dimension")
    return image


@styled
def vector_strip(vector, label: str = "vector", title: str | None = None):
    """One vector (an embedding, a residual stream) ``[D]`` as a row of D coloured cells."""
    v = _check_vector(vector)
    fig = new_figure(9, 1.9)
    ax = fig.add_subplot()
    image = _strips([ax], [v], [label], symmetric_limit(v))
    ax.set_title(title or f"{label}: {v.size} numbers (blue negative, red positive)")
    fig.colorbar(image, ax=ax, label="value", aspect=8)
    return finish(fig)


@styled
def embedding_sum(trace, position: int):
    """Token embedding + position embedding = the vector that enters block 0, for one position.

    Three strips on one colour scale: ``embed.token``, ``embed.pos`` and ``embed.sum`` at
    ``position`` of the trace.
    """
    position = check_position(position, trace.n_tokens)
    parts = [to_numpy(trace[n][position]) for n in ("embed.token", "embed.pos", "embed.sum")]
    token = trace.tokens[position]
    labels = [f"token {token} (id {trace.ids[position]})", f"+ position {trace.start + position}",
              "= input to block 0"]
    fig = new_figure(8, 3.6)  # a notebook's width
    axes = fig.subplots(3, 1, sharex=True)
    image = _strips(axes, parts, labels, max(symmetric_limit(p) for p in parts))
    for ax in axes[:-1]:
        ax.set_xlabel("")
    axes[0].set_title(f"Token {token} at position {trace.start + position}: two learned embeddings added "
                      f"({parts[0].size} dimensions)")
    fig.colorbar(image, ax=axes, label="value", shrink=0.9)
    return finish(fig)


@styled
def vectors_2d(vectors, labels, title: str = "Vectors projected on their two main directions"):
    """Points ``[N, D]`` projected onto their first two principal components (centred SVD), each
    labelled: do related words sit together? The axes say how much variance each keeps."""
    x = to_numpy(vectors, "vectors")
    if x.ndim != 2 or x.shape[0] < 2:
        raise InputError(f"vectors must have shape [N, D] with N >= 2 points, got {list(x.shape)}")
    labels = [str(t) for t in labels]
    if len(labels) != x.shape[0]:
        raise InputError(f"{x.shape[0]} vectors but {len(labels)} labels: give one label per vector")
    pcs, share = principal_plane(x)  # [N, 2], [2]
    fig = new_figure(6.5, 5.5)
    ax = fig.add_subplot()
    ax.scatter(pcs[:, 0], pcs[:, 1], color="#0072b2")
    for (px, py), label in zip(pcs, labels):
        ax.annotate(label, (px, py), textcoords="offset points", xytext=(4, 4), fontsize=9)
    ax.set_xlabel(f"principal component 1 ({share[0]:.0%} of the variance)")
    ax.set_ylabel(f"principal component 2 ({share[1]:.0%} of the variance)")
    ax.set_title(title)
    ax.axhline(0, color="#bbbbbb", lw=0.6, zorder=0)
    ax.axvline(0, color="#bbbbbb", lw=0.6, zorder=0)
    return finish(fig)


def embedding_map(model, words):
    """Token embeddings (rows of ``wte``) of chosen tokens on a plane. ``words``: at least two strings
    that are one token each (mind the leading space: ``" king"`` is the token inside a sentence) or
    ids."""
    tok = model.tokenizer
    example = "e.g. [' king', ' queen', ' man', ' woman']"
    if isinstance(words, (str, bytes)) or not hasattr(words, "__iter__"):
        raise InputError(f"words must be a list of words or token ids, {example}; got {type(words).__name__}")
    ids = []
    for w in words:
        if isinstance(w, str):
            found = tok.encode(w)
            if len(found) != 1:
                raise InputError(f"{w!r} is {len(found)} tokens ({', '.join(tok.tokens(found))}); "
                                 "give words that are one token each, e.g. ' king' with its space")
            ids.append(found[0])
        else:
            ids.append(tok.check_ids([w], one=True)[0])  # a whole number in the vocabulary, never rounded
    if len(ids) < 2:
        raise InputError(f"embedding_map places tokens relative to each other: give at least two, {example}")
    vectors = model.wte.weight.detach()[torch.tensor(ids, device=model.device)]
    return vectors_2d(vectors, tok.tokens(ids),
                      title=f"Token embeddings of {len(ids)} tokens (wte rows, first two principal components)")
