"""Numbers the explorers and views show, computed by library functions: each checked here against
the model's own forward pass (the explorers and views only draw them)."""

from __future__ import annotations

import pytest
import torch

from gptviz.embeddings import input_embeddings
from gptviz.errors import InputError


def test_input_embeddings_are_the_traces_embed_sites_without_a_block(odd_model, count_forward):
    text = "The king and the queen walked"
    trace = odd_model.trace(text, names=["embed.*"])
    runs = count_forward(odd_model)
    token, pos, total = input_embeddings(odd_model, trace.ids, [4, 1])
    assert runs.blocks == 0  # the embedding only
    for got, name in ((token, "embed.token"), (pos, "embed.pos"), (total, "embed.sum")):
        assert torch.equal(got, trace[name][[4, 1]]), name
    assert torch.equal(token[1], odd_model.wte.weight[trace.ids[1]].detach())
    with pytest.raises(InputError, match="positions must be one or more positions of the 6 tokens"):
        input_embeddings(odd_model, trace.ids, [6])
