"""Direct logit attribution: which parts of the model push one logit up, and which push it down?

The residual stream at the last layer is a sum: the embeddings, then every head's output (projected by
``c_proj``) and every MLP's output, added in turn. The logit of a token is
``ln_f(stream) . wte[token]``. LayerNorm is not linear, but once its scale is *frozen* at the value it
had in the recorded run (its division by the standard deviation of the whole stream), it is:

    logit = sum over components c of  ((c - mean(c)) * gamma / sigma) . wte[token]  +  beta . wte[token]

where ``gamma`` and ``beta`` are ``ln_f``'s weight and bias and ``sigma`` the frozen scale. Each term
of the sum is a component's *direct* contribution: what it adds to the logit through the residual
stream alone, not through the later layers that read it. The contributions sum to the logit up to
``ln_f``'s bias term ``beta . wte[token]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..checks import check_position, is_index
from ..errors import InputError
from ..trace import SITE, check_trace


@dataclass
class Attribution:
    """Direct contributions to one logit.

    ``labels`` and ``values`` ``[N]``: one per component: ``embed.token``, ``embed.pos``, then for every
    layer ``L{l}H{h}`` for each head and ``L{l} MLP``, and last ``attn biases`` (every layer's
    ``c_proj`` bias, which belongs to no one head). ``logit``: the recorded logit; ``bias``: ``ln_f``'s
    bias term, so ``values.sum() + bias == logit``. ``token`` and ``position``: what was attributed.
    """

    labels: list[str]
    values: torch.Tensor
    logit: float
    bias: float
    token: str
    position: int

    def top(self, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` components with the largest contributions by size, largest first (equal sizes in
        component order: :func:`largest_contributions`)."""
        order = largest_contributions(self.values, len(self.labels))[0][:k]
        return [(self.labels[i], float(self.values[i])) for i in order]


def largest_contributions(values, k: int) -> tuple[np.ndarray, float | None, float]:
    """The bars of :func:`gptviz.viz.attribution_bars`: for ``values`` ``[N]`` (an Attribution's),
    ``(order, rest, total)``: ``order`` ``[k]`` the indices of the ``k`` largest by size, largest
    first, equal sizes in index order; ``rest`` the sum of the other ``N - k`` (None when ``k == N``);
    ``total`` the sum of all ``N``; sums in float64, so ``sum(values[order]) + rest == total``."""
    v = values.detach().to("cpu", torch.float64).numpy() if isinstance(values, torch.Tensor) else \
        np.asarray(values, dtype=np.float64)
    n = v.size
    if v.ndim != 1:
        raise InputError(f"values must be one contribution per component, shape [N], got {list(v.shape)}")
    if not is_index(k) or not 1 <= k <= n:
        raise InputError(f"k must be an int from 1 to the {n} components, got {k!r}")
    order = np.argsort(-np.abs(v), kind="stable")[:k]
    total = float(v.sum())
    return order, (total - float(v[order].sum()) if k < n else None), total


def logit_attribution(model, trace, token, position: int = -1) -> Attribution:
    """Each component's direct contribution to the logit of ``token`` (a token string or id) at
    ``position`` of ``trace``. ``ln_f``'s scale is frozen at its recorded value (see the module
    docstring). The trace must hold ``embed.token``, ``embed.pos``, every ``blocks.{i}.attn.z`` and
    ``blocks.{i}.mlp.out``, the last ``resid_post`` and ``logits`` (a full trace does)."""
    cfg = model.config
    L, H, d = cfg.n_layer, cfg.n_head, cfg.d_head
    position = check_position(position, check_trace(trace, cfg).n_tokens)
    tid = model.tokenizer.token_id(token, "token", cfg.vocab_size)
    needed = ["embed.token", "embed.pos", f"blocks.{L - 1}.resid_post", "logits"]
    needed += [f"blocks.{i}.{n}" for i in range(L) for n in ("attn.z", "mlp.out")]
    missing = [n for n in needed if n not in trace]
    if missing:
        raise InputError(f"this trace lacks {', '.join(missing[:4])}{'...' if len(missing) > 4 else ''}: take it "
                         "with no names= filter, or with names= including 'embed.*', 'blocks.*.attn.z', "
                         "'blocks.*.mlp.out', 'blocks.*.resid_post' and 'logits'")
    p = position
    with torch.no_grad():
        parts, labels = [trace["embed.token"][p], trace["embed.pos"][p]], ["embed.token", "embed.pos"]
        bias_sum = torch.zeros(cfg.d_model)
        for i, block in enumerate(model.h):
            W = block.attn.c_proj.weight.detach().float().cpu()  # [D, H*d]
            z = trace[f"blocks.{i}.attn.z"][:, p]  # [H, d]
            for h in range(H):
                parts.append(z[h] @ W[:, h * d:(h + 1) * d].T)  # [D]
                labels.append(f"L{i}H{h}")
            parts.append(trace[f"blocks.{i}.mlp.out"][p])
            labels.append(f"L{i} MLP")
            bias_sum += block.attn.c_proj.bias.detach().float().cpu()
        parts.append(bias_sum)
        labels.append("attn biases")
        C = torch.stack(parts).double()  # [N, D]
        stream = trace[f"blocks.{L - 1}.resid_post"][p].double()  # [D]: the sum of all of C
        ln = model.ln_f
        sigma = torch.sqrt(stream.var(unbiased=False) + ln.eps)  # the frozen scale
        w = model.wte.weight[tid].detach().double().cpu()
        gamma, beta = ln.weight.detach().double().cpu(), ln.bias.detach().double().cpu()
        values = ((C - C.mean(-1, keepdim=True)) * gamma / sigma) @ w  # [N]
        bias = float(beta @ w)
    logit = float(trace["logits"][p, tid])
    _check_sums(trace, float(values.sum()) + bias, logit, float(values.abs().sum()) + abs(bias), model.wte.weight.dtype)
    return Attribution(labels, values.float(), logit, bias, model.tokenizer.token_str(tid), p)


#: Sites whose edit changes the stream without changing a component's recorded output: the parts no
#: longer sum to it. (An edit upstream of a head's z or an MLP's output, or of the embeddings, is
#: attributable: the parts record what it did.)
_STREAM_SITES = (SITE.embed_sum, SITE.attn_out, SITE.resid_mid, SITE.resid_post, SITE.ln_f, SITE.logits)

#: The parts must sum to the logit within this share of the sum of their sizes (float32 rounding is
#: about 1e-6 of it; an edit of the stream, of ``ln_f`` or of ``logits`` moves it by far more). A model
#: whose weights are in a coarser dtype rounds its own logit more: its machine epsilon is the share then
#: (bfloat16: 0.0078, float16: 0.00098).
SUM_TOLERANCE = 1e-4


def _check_sums(trace, total: float, logit: float, size: float, dtype: torch.dtype = torch.float32) -> None:
    """An InputError when the parts do not add up to the recorded logit: the trace was edited at a site
    that is no head's or MLP's output (the residual stream itself, ``ln_f`` or the logits). ``dtype``:
    the model's weights', which sets how closely its own logit can agree."""
    if abs(total - logit) <= max(SUM_TOLERANCE, torch.finfo(dtype).eps) * (size + 1.0):
        return
    edited = [n for n in trace.edited if (n.split(".", 2)[2] if n.startswith("blocks.") else n) in _STREAM_SITES]
    why = (f"this trace was edited at {', '.join(edited)}, which is no head's or MLP's output: an edit of the residual "
           "stream, ln_f or the logits adds something that belongs to no component" if edited else
           "the trace does not hold one forward pass of this model (edited by hand, or recorded by another model)")
    raise InputError(f"the direct contributions sum to {total:.4f} but the recorded logit is {logit:.4f}: {why}. "
                     "Attribute a trace whose residual stream is only the sum of its parts: edit heads "
                     "(blocks.{i}.attn.z) or MLPs (blocks.{i}.mlp.out) instead, or trace the text without edits")
