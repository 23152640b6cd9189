"""Token embeddings as directions: which tokens does the model store close to a given vector?

Each token's embedding is a row of ``wte`` ``[V, D]``. Two tokens whose rows point the same way have
a cosine similarity near 1, whatever their lengths: ``cos(a, b) = a . b / (|a| |b|)``.
"""

from __future__ import annotations

import numpy as np
import torch

from .errors import InputError
from .trace import Recorder


def nearest_tokens(model, vectors, k: int = 8, exclude=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` tokens whose embeddings (rows of ``wte``) have the largest cosine similarity with
    each of ``vectors`` ``[n, D]`` (or one vector ``[D]``).

    ``exclude``: one token id per vector to leave out (usually the token the vector belongs to), or
    None. Returns ``(ids, cosines)``, both ``[n, k]``, most similar first, on the CPU.
    """
    wte = model.wte.weight
    queries = torch.as_tensor(vectors).to(wte.device, torch.float32)
    if queries.dim() == 1:
        queries = queries[None]
    if queries.dim() != 2 or queries.shape[1] != wte.shape[1]:
        raise InputError(f"vectors must have shape [n, {wte.shape[1]}] (d_model of this model), "
                         f"got {list(queries.shape)}")
    if not 1 <= k < wte.shape[0]:
        raise InputError(f"k must be between 1 and {wte.shape[0] - 1}, got {k}")
    with torch.inference_mode():
        table = wte.float()
        cos = (table @ queries.T) / (table.norm(dim=1)[:, None] * queries.norm(dim=1)[None] + 1e-12)  # [V, n]
        if exclude is not None:
            exclude = torch.as_tensor(exclude, dtype=torch.long).reshape(-1)
            if exclude.numel() != queries.shape[0]:
                raise InputError(f"exclude takes one token id per vector: {queries.shape[0]} vectors, "
                                 f"{exclude.numel()} ids")
            cos[exclude.to(cos.device), torch.arange(queries.shape[0], device=cos.device)] = -float("inf")
        top = cos.topk(k, dim=0)  # [k, n]
    return top.indices.T.cpu(), top.values.T.cpu()


def input_embeddings(model, ids, positions) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Which vector enters block 0 for the tokens of ``ids`` at ``positions``? The model's own
    :meth:`~gptviz.model.GPT.embed` (no block runs), as a trace records it: ``(token, position, sum)``,
    each ``[n, D]`` float32 on the CPU, for ``n = len(positions)``: the rows of ``wte`` and ``wpe``
    (``embed.token``, ``embed.pos``) and their sum (``embed.sum``, the residual stream's start)."""
    positions = [int(p) for p in positions]
    if not positions or min(positions) < 0 or max(positions) >= len(ids):
        raise InputError(f"positions must be one or more positions of the {len(ids)} tokens (0 to {len(ids) - 1}), "
                         f"got {positions}")
    names = ("embed.token", "embed.pos", "embed.sum")
    rec = Recorder(model.config, names)
    with torch.inference_mode():
        model.embed(torch.tensor(ids[: max(positions) + 1], device=model.device), rec)
    picked = torch.tensor(positions)
    return tuple(rec.tensors[name][picked] for name in names)


def vector_lengths(vectors) -> np.ndarray:
    """How long is each vector? The L2 norm ``|v| = sqrt(sum_i v_i^2)`` of each row of ``vectors``
    ``[n, D]`` (e.g. the three of :func:`input_embeddings`): ``[n]``, in the vectors' own float dtype
    (the "length" column of the token explorer)."""
    v = vectors.detach().cpu().numpy() if isinstance(vectors, torch.Tensor) else np.asarray(vectors)
    if v.ndim != 2:
        raise InputError(f"vectors must have shape [n, D] (one vector per row), got {list(v.shape)}")
    return np.array([np.linalg.norm(row) for row in v], dtype=v.dtype)  # row by row: the sum in np.dot's order


def principal_plane(vectors) -> tuple[np.ndarray, np.ndarray]:
    """Points ``[N, D]`` (N >= 2) projected onto their first two principal components, by a centred
    SVD: ``(coords, share)``, ``coords`` ``[N, 2]`` and ``share`` ``[2]`` the fraction of the variance
    each component keeps (a component past the points' rank is 0 in both). Float64."""
    x = vectors.detach().to("cpu", torch.float64).numpy() if isinstance(vectors, torch.Tensor) else vectors
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise InputError(f"vectors must have shape [N, D] with N >= 2 points, got {list(x.shape)}")
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    coords = np.zeros((x.shape[0], 2))
    n_pc = min(2, vt.shape[0])
    coords[:, :n_pc] = centred @ vt[:n_pc].T  # [N, 2]
    share = np.zeros(2)
    share[:n_pc] = (s[:n_pc] ** 2) / max((s ** 2).sum(), 1e-30)
    return coords, share
