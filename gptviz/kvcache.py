"""The KV cache: the keys and values of the tokens already read, kept so they are never recomputed.

Generation appends one token at a time. Each layer computes q, k, v for the new token only and
attends over the stored keys and values: GPT-2 does not re-interpret earlier tokens, so their keys and
values cannot change. The cache costs ``2 x n_layer x T x d_model`` numbers (:func:`kv_cache_bytes`).
"""

from __future__ import annotations

import torch


class KVCache:
    """Keys and values of the tokens already read, one pair per layer.

    ``keys[i]`` and ``values[i]`` have shape ``(B, n_head, T, d_head)``.
    """

    def __init__(self, n_layer: int):
        self.keys: list[torch.Tensor | None] = [None] * n_layer
        self.values: list[torch.Tensor | None] = [None] * n_layer

    def __len__(self) -> int:
        """Number of positions stored (in every layer, between forward passes)."""
        return self.length(0)

    def length(self, layer: int) -> int:
        """Number of positions stored in one layer."""
        k = self.keys[layer]
        return 0 if k is None else k.shape[2]

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store the new positions' keys and values; return all keys and values of this layer."""
        if self.keys[layer] is not None:
            k = torch.cat([self.keys[layer], k], dim=2)  # (B, nh, T_past + T, hs)
            v = torch.cat([self.values[layer], v], dim=2)
        self.keys[layer], self.values[layer] = k, v
        return k, v

    def replace(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> None:
        """Overwrite one layer's keys and values (an edit changed them: later steps must see the edit)."""
        self.keys[layer], self.values[layer] = k, v

    def truncate(self, length: int) -> None:
        """Forget every position from ``length`` on (to step generation backwards)."""
        for i, (k, v) in enumerate(zip(self.keys, self.values)):
            if k is not None:
                self.keys[i], self.values[i] = k[:, :, :length], v[:, :, :length]

    @property
    def nbytes(self) -> int:
        """Memory held by the stored keys and values."""
        return sum(t.numel() * t.element_size() for t in self.keys + self.values if t is not None)


def kv_cache_bytes(config, n_tokens: int, bytes_per_number: int = 4) -> int:
    """Bytes a KV cache of ``n_tokens`` positions takes: keys and values, every layer, every head.

    >>> from gptviz.config import PRESETS
    >>> kv_cache_bytes(PRESETS["gpt2"], 1024) // 2**20  # MiB in float32
    72
    """
    return 2 * config.n_layer * n_tokens * config.d_model * bytes_per_number
