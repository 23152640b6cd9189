"""How heads work together: composition tested causally, and the circuits read from the weights.

An induction head in layer ``L`` finds "the token after the earlier occurrence of the current token"
only if each position's *key* says which token came before it: something an earlier previous-token
head wrote into the residual stream. That is *K-composition* (Elhage et al., 2021).
:func:`key_path_edits` tests it causally: it recomputes layer ``L``'s keys from the residual stream
*minus* one earlier head's output, and leaves the queries, the values and everything else as they
were. If the induction scores collapse, the keys were reading that head.

The weight-level view needs no text at all:

* :func:`ov_copying_scores`: a head's OV circuit maps the token it attends to onto the logits it
  writes. A *copying* head maps each token's embedding back onto that token's own unembedding:
  ``E_t W_V W_O U`` is largest at ``t``.
* :func:`positional_qk_scores`: a head's QK circuit on the position embeddings alone, whether query
  position ``q`` scores key ``q - 1`` highest (a previous-token head's signature).
* :func:`induction_qk_scores`: the QK circuit of a later head composed with an earlier head's OV
  circuit, on tokens: does a query holding token ``t`` score highest the key whose *previous* token
  was ``t`` (the earlier head having copied ``t`` forward)?

Weight-level scores leave out the biases and treat each LayerNorm as its learned scale alone (its
centring and division by the norm depend on the input); they are read beside the attention-based
scores of :mod:`.detectors`, not instead of them.
"""

from __future__ import annotations

import torch

from ..checks import check_heads
from ..errors import InputError
from ..inputs import read_input
from ..trace import Trace, check_trace
from .detectors import token_pool


def _layer_weights(model, layer: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Layer ``layer``'s per-head ``W_Q``, ``W_K``, ``W_V`` ``[H, D, d_head]`` and ``W_O`` ``[H, d_head, D]``
    (float32, CPU; ``x @ W_Q[h]`` is head ``h``'s query before its bias)."""
    c = model.config
    attn = model.h[layer].attn
    W = attn.c_attn.weight.detach().float().cpu()  # [3D, D]: nn.Linear stores out x in
    Wq, Wk, Wv = (w.T.reshape(c.d_model, c.n_head, c.d_head).transpose(0, 1) for w in W.split(c.d_model, 0))
    Wo = attn.c_proj.weight.detach().float().cpu().T.reshape(c.n_head, c.d_head, c.d_model)
    return Wq, Wk, Wv, Wo


def _ln_scale(ln) -> torch.Tensor:
    return ln.weight.detach().float().cpu()


def head_output(model, trace, layer: int, head: int) -> torch.Tensor:
    """``[T, D]``: what head ``(layer, head)`` adds to the residual stream in ``trace``, its ``z``
    times its rows of ``c_proj`` (the output projection's bias belongs to no head and is left out)."""
    (layer, head), = check_heads(model.config, [(layer, head)])
    check_trace(trace, model.config)
    _, _, _, Wo = _layer_weights(model, layer)
    return trace[f"blocks.{layer}.attn.z"][head] @ Wo[head]


def key_path_names(layer: int, source) -> list[str]:
    """What :func:`key_path_edits` reads from a clean run: the stream entering ``layer`` and the
    output ``z`` of the source head's layer (record them in a trace you make anyway, and pass it as
    ``clean=``, to save the clean run)."""
    return ["embed.sum" if layer == 0 else f"blocks.{layer - 1}.resid_post", f"blocks.{source[0]}.attn.z"]


def key_path_edits(model, text, source, layer: int, clean=None) -> dict:
    """Edits for ``model.trace(text, edits=...)`` that remove head ``source = (l, h)``'s output from the
    *keys* of layer ``layer`` only (``l < layer``).

    Layer ``layer``'s keys are recomputed from its input residual stream minus ``source``'s direct
    contribution (:func:`head_output`): ``ln_1`` and the key projection (with its bias) on the edited
    stream. Queries and values still read the stream as it was, and the other layers are untouched;
    paths from ``source`` through the layers between reach the keys as before. One clean run of
    ``text`` records the stream and the head's output (they lie upstream of the edit, so the edited
    run computes them identically); ``clean``: an unedited trace of ``text`` that holds them
    (:func:`key_path_names`) instead, so that a sweep over sources runs it once."""
    c = model.config
    (src_layer, src_head), = check_heads(c, [source])
    if isinstance(layer, bool) or not isinstance(layer, int) or not src_layer < layer < c.n_layer:
        raise InputError(f"layer= must be a later layer than the source head's ({src_layer}) and below "
                         f"{c.n_layer}, got {layer!r}: a head can only compose with heads of earlier layers")
    wanted = key_path_names(layer, (src_layer, src_head))
    before = wanted[0]
    if clean is None:
        clean = model.trace(text, names=wanted, allow_special=True)
    else:
        _check_clean(model, text, clean, wanted)
    resid = clean[before] - head_output(model, clean, src_layer, src_head)  # [T, D]
    block = model.h[layer]
    with torch.inference_mode():
        h = block.ln_1(resid.to(model.device, block.ln_1.weight.dtype))
        k = block.attn.c_attn(h).split(c.d_model, dim=-1)[1]  # [T, D]
    keys = k.reshape(-1, c.n_head, c.d_head).transpose(0, 1).float().cpu()  # [H, T, d_head]
    return {f"blocks.{layer}.attn.k": lambda old: keys.to(old.device, old.dtype).clone()}


def _check_clean(model, text, clean, wanted: list[str]) -> None:
    """``clean`` must be an unedited trace of ``text`` on ``model`` holding ``wanted``."""
    if not isinstance(clean, Trace):
        raise InputError(f"clean= takes a Trace (model.trace(text, names=key_path_names(layer, source))), "
                         f"got {type(clean).__name__}")
    if clean.config != model.config:
        raise InputError("clean= was traced on another model: trace the text with this model")
    if clean.edited:
        raise InputError(f"clean= was traced with edits ({', '.join(clean.edited)}): the keys must be "
                         "recomputed from the unedited run; trace the text without edits=")
    if clean.ids != read_input(model, text, allow_special=True, what="text").ids:
        raise InputError("clean= is a trace of another text: trace the same text (or ids) you pass as text")
    missing = [n for n in wanted if n not in clean.names()]
    if missing:
        raise InputError(f"clean= does not hold {', '.join(missing)}: record them "
                         f"(names=key_path_names(layer, source), or names=None for everything)")


def without_key_path(model, text, source, layer: int, names=None, clean=None):
    """The :class:`~gptviz.trace.Trace` of ``text`` with ``source``'s output removed from layer
    ``layer``'s keys (:func:`key_path_edits`, which also says what ``clean`` saves); ``names``: what to
    record (default: everything)."""
    return model.trace(text, names=names, allow_special=True,
                       edits=key_path_edits(model, text, source, layer, clean=clean))


def _unembedding(model) -> torch.Tensor:
    """``[D, V]``: ``ln_f``'s scale times the tied unembedding ``wte`` transposed."""
    return _ln_scale(model.ln_f)[:, None] * model.wte.weight.detach().float().cpu().T


def _top1_on_diagonal(M: torch.Tensor) -> float:
    """The share of rows of a square matrix whose largest entry is the diagonal one."""
    return (M.argmax(-1) == torch.arange(M.shape[0])).float().mean().item()


@torch.no_grad()
def ov_copying_scores(model, tokens=None) -> torch.Tensor:
    """``[n_layer, n_head]``: for each head, the share of ``tokens`` (default: the learned ones) that
    its OV circuit copies, i.e. for which ``(ln_1(E_t) W_V W_O) U`` gives token ``t`` itself the highest
    logit among ``tokens`` (``E``: token embeddings, ``U``: :func:`_unembedding`, LayerNorms as their
    scale). Chance is ``1 / len(tokens)``; a perfect copying head scores 1."""
    pool = token_pool(model, tokens, least=2)
    E = model.wte.weight.detach().float().cpu()[pool]  # [N, D]
    U = _unembedding(model)[:, pool]  # [D, N]
    out = torch.zeros(model.config.n_layer, model.config.n_head)
    for layer in range(model.config.n_layer):
        _, _, Wv, Wo = _layer_weights(model, layer)
        x = E * _ln_scale(model.h[layer].ln_1)
        for head in range(model.config.n_head):
            out[layer, head] = _top1_on_diagonal(x @ Wv[head] @ Wo[head] @ U)  # [N, N]
    return out


@torch.no_grad()
def positional_qk_scores(model, n_positions: int | None = None) -> torch.Tensor:
    """``[n_layer, n_head]``: for each head, the share of query positions ``q = 1 .. n - 1`` whose QK
    circuit on the position embeddings alone, ``ln_1(P_q) W_Q (ln_1(P_k) W_K)^T`` over keys ``k <= q``,
    is highest at ``k = q - 1``: a previous-token head's signature, read from its weights. ``n``:
    ``n_positions`` (default: the context length)."""
    n = model.config.n_ctx if n_positions is None else n_positions
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= model.config.n_ctx:
        raise InputError(f"n_positions must be an int from 2 to {model.config.n_ctx}, got {n!r}")
    P = model.wpe.weight.detach().float().cpu()[:n]  # [n, D]
    future = torch.ones(n, n, dtype=torch.bool).triu(1)
    out = torch.zeros(model.config.n_layer, model.config.n_head)
    for layer in range(model.config.n_layer):
        Wq, Wk, _, _ = _layer_weights(model, layer)
        x = P * _ln_scale(model.h[layer].ln_1)
        for head in range(model.config.n_head):
            S = ((x @ Wq[head]) @ (x @ Wk[head]).T).masked_fill(future, float("-inf"))[1:]  # [n - 1, n]
            out[layer, head] = (S.argmax(-1) == torch.arange(n - 1)).float().mean().item()
    return out


@torch.no_grad()
def induction_qk_scores(model, source, layer: int, tokens=None) -> torch.Tensor:
    """``[n_head]``: for each head of ``layer``, the share of ``tokens`` (default: the learned ones) ``t``
    for which the query of token ``t`` scores highest the key that ``source``'s OV circuit writes at the
    position *after* a ``t``: ``ln_1(E_t) W_Q (ln_1(E_s W_V W_O) W_K)^T`` highest at ``s = t`` (the
    K-composition circuit of an induction head fed by the previous-token head ``source``, from the
    weights; LayerNorms as their scale)."""
    c = model.config
    (src_layer, src_head), = check_heads(c, [source])
    if isinstance(layer, bool) or not isinstance(layer, int) or not src_layer < layer < c.n_layer:
        raise InputError(f"layer= must be a later layer than the source head's ({src_layer}) and below "
                         f"{c.n_layer}, got {layer!r}")
    pool = token_pool(model, tokens, least=2)
    E = model.wte.weight.detach().float().cpu()[pool]  # [N, D]
    _, _, Wv, Wo = _layer_weights(model, src_layer)
    moved = (E * _ln_scale(model.h[src_layer].ln_1)) @ Wv[src_head] @ Wo[src_head]  # [N, D]: t written forward
    Wq, Wk, _, _ = _layer_weights(model, layer)
    g = _ln_scale(model.h[layer].ln_1)
    return torch.tensor([_top1_on_diagonal(((E * g) @ Wq[h]) @ ((moved * g) @ Wk[h]).T) for h in range(c.n_head)])
