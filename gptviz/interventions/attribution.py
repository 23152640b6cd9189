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

import torch

from ..errors import InputError


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
        """The ``k`` components with the largest contributions by size, largest first."""
        order = self.values.abs().argsort(descending=True)[:k]
        return [(self.labels[i], float(self.values[i])) for i in order]


def logit_attribution(model, trace, token, position: int = -1) -> Attribution:
    """Each component's direct contribution to the logit of ``token`` (a token string or id) at
    ``position`` of ``trace``. ``ln_f``'s scale is frozen at its recorded value (see the module
    docstring). The trace must hold ``embed.token``, ``embed.pos``, every ``blocks.{i}.attn.z`` and
    ``blocks.{i}.mlp.out``, the last ``resid_post`` and ``logits`` (a full trace does)."""
    cfg = model.config
    L, H, d = cfg.n_layer, cfg.n_head, cfg.d_head
    if isinstance(position, bool) or not isinstance(position, int) or not -trace.n_tokens <= position < trace.n_tokens:
        raise InputError(f"position= must be an int from 0 to {trace.n_tokens - 1} (or negative from the end), "
                         f"got {position!r}")
    position %= trace.n_tokens
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
    return Attribution(labels, values.float(), float(trace["logits"][p, tid]), bias,
                       model.tokenizer.token_str(tid), p)
