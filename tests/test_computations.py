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


def test_one_gelu_everywhere(odd_model):
    """The model's MLP, the comparisons' "gelu" and the explorer's curve are one function."""
    from gptviz.compare import ACTIVATIONS, activation_curves
    from gptviz.model import gelu

    assert ACTIVATIONS["gelu"] is gelu
    trace = odd_model.trace("GELU is smooth", names=["blocks.0.mlp.*"])
    assert torch.equal(gelu(trace["blocks.0.mlp.pre"]), trace["blocks.0.mlp.post"])
    curves = activation_curves(-4, 4, 9)
    assert curves["x"].tolist() == [-4, -3, -2, -1, 0, 1, 2, 3, 4]
    assert curves["relu"].tolist() == [0, 0, 0, 0, 0, 1, 2, 3, 4]
    assert curves["gelu"][4] == 0 and curves["gelu"][8] == pytest.approx(4.0, abs=1e-3)
    assert curves["gelu"][3] == pytest.approx(-0.1588, abs=1e-4)  # GELU(-1): a small negative, not 0


def test_gelu_vs_relu_counts_and_compares(odd_model):
    from gptviz.compare import gelu_vs_relu, variant_edits

    text = "The capital of France is Paris"
    trace = odd_model.trace(text, names=["blocks.*.mlp.*"])
    relu_run = odd_model.trace(text, names=["blocks.*.mlp.out"], edits=variant_edits(odd_model, activation="relu"))
    pre, post = trace["blocks.1.mlp.pre"][-1], trace["blocks.1.mlp.post"][-1]
    out, out_relu = trace["blocks.1.mlp.out"][-1], relu_run["blocks.1.mlp.out"][-1]
    r = gelu_vs_relu(pre, post, out, out_relu, k=5)
    assert torch.equal(r.relu, torch.relu(pre))
    assert r.n_negative == int((pre < 0).sum()) and r.n_negative + r.positive["pre"] <= pre.numel()
    assert r.positive["relu"] == r.positive["pre"]  # ReLU keeps exactly the positive neurons
    assert r.negative_sum < 0 and r.negative_sum == pytest.approx(float(post[pre < 0].sum()), abs=1e-6)
    assert list(r.strongest) == post.abs().argsort(descending=True, stable=True)[:5].tolist()
    assert r.change == pytest.approx(float((out_relu - out).norm() / out.norm()), rel=1e-6)
    assert r.cosine == pytest.approx(float(out_relu @ out / (out_relu.norm() * out.norm())), abs=1e-6)
    assert 0 < r.change and r.cosine < 1  # layer 1 sees layer 0's ReLU output: it differs
    same = gelu_vs_relu(pre, post, out, out.clone())
    assert same.change == 0 and same.cosine == pytest.approx(1.0, abs=1e-6)


def test_principal_plane_finds_the_spread_directions():
    import numpy as np

    from gptviz.embeddings import principal_plane

    # Four points spread 4 along x, 1 along y and nothing along z: the first component is x, then y.
    pts = np.array([[4.0, 0, 5], [-4.0, 0, 5], [0, 1.0, 5], [0, -1.0, 5]])
    coords, share = principal_plane(torch.tensor(pts))
    assert np.allclose(np.abs(coords[:, 0]), [4, 4, 0, 0]) and np.allclose(np.abs(coords[:, 1]), [0, 0, 1, 1])
    assert share == pytest.approx([32 / 34, 2 / 34])
    line, line_share = principal_plane([[0.0, 0.0], [1.0, 1.0]])  # rank 1: the second component is empty
    assert line_share == pytest.approx([1.0, 0.0]) and np.allclose(line[:, 1], 0)
    with pytest.raises(InputError, match=r"shape \[N, D\] with N >= 2 points, got \[1, 3\]"):
        principal_plane(np.zeros((1, 3)))


def test_top_union_takes_either_runs_top_tokens_in_the_first_runs_order():
    import numpy as np

    from gptviz.sampling import top_ids, top_union

    before = np.array([0.5, 0.2, 0.2, 0.1, 0.0])
    after = np.array([0.0, 0.1, 0.1, 0.1, 0.7])
    assert top_ids(before, 2).tolist() == [0, 1]  # the tie 0.2 / 0.2 goes to the lower id
    assert top_union(before, after, 2).tolist() == [0, 1, 4]  # after's top 2 is 4 and 1
