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


# ---- the numbers the views and explorers drew themselves before (issue 26 item 3) -----------------
def test_top_activations_are_each_rows_largest_neurons_ties_by_index(odd_model):
    import numpy as np

    from gptviz.mlp import top_activations

    post = torch.tensor([[0.5, 2.0, 2.0, -1.0], [-3.0, -1.0, -2.0, 0.0]])
    ids, values = top_activations(post, 2)
    assert ids.tolist() == [[1, 2], [3, 1]] and values.tolist() == [[2.0, 2.0], [0.0, -1.0]]
    assert top_activations(post, 10)[0].shape == (2, 4)  # k clamped to d_mlp
    trace = odd_model.trace("Neurons fire for some tokens", names=["blocks.1.mlp.post"])
    acts = trace["blocks.1.mlp.post"]  # [T, 384]
    ids, values = top_activations(acts[[0, 3]], 5)
    ref = acts[[0, 3]].topk(5, dim=-1)
    assert np.array_equal(values, ref.values.double().numpy()) and values.dtype == np.float64
    assert np.array_equal(np.take_along_axis(acts[[0, 3]].numpy(), ids, axis=1), ref.values.numpy())
    with pytest.raises(InputError, match=r"shape \[positions, d_mlp\].*got \[4\]"):
        top_activations(post[0], 2)


def test_activation_histogram_counts_every_neuron_clipped_into_the_end_bins():
    from gptviz.mlp import activation_histogram

    pre = torch.tensor([-5.0, -4.0, -3.9, 0.0, 0.1, 3.99, 4.0, 9.0])
    counts, edges = activation_histogram(pre, -4.0, 4.0, 4)
    assert edges.tolist() == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert counts.tolist() == [3, 0, 2, 3] and counts.sum() == pre.numel()  # -5 in the first bin, 9 in the last
    with pytest.raises(InputError, match=r"one token's pre-activations, shape \[d_mlp\]"):
        activation_histogram(pre[None], -4.0, 4.0, 4)
    with pytest.raises(InputError, match="lo < hi and bins >= 1"):
        activation_histogram(pre, 4.0, -4.0, 4)


def test_qk_steps_numbers_sqrt_d_strongest_key_and_z_length(odd_model):
    import math

    from gptviz.attention import qk_steps

    trace = odd_model.trace("The robot picked up the red ball", names=["blocks.2.attn.*"])
    steps = qk_steps(trace, 2, 4, 5)
    z = trace["blocks.2.attn.z"][4, 5].double()  # [d_head], what the model recorded
    assert steps["sqrt_d"] == math.sqrt(odd_model.config.d_head) == math.sqrt(z.numel())
    assert steps["z_norm"] == pytest.approx(math.sqrt(float((z * z).sum())), rel=1e-6)
    assert int(steps["strongest"]) == int(trace["blocks.2.attn.pattern"][4, 5, :6].argmax())


def test_query_links_keep_the_thinned_links_and_all_of_the_querys():
    import numpy as np

    from gptviz.attention import query_links

    p = np.array([[1.0, 0, 0, 0], [0.6, 0.4, 0, 0], [0.05, 0.5, 0.45, 0], [0.03, 0.01, 0.06, 0.9]])
    rows = query_links(p, 3).tolist()
    # queries 0-2: their 2 strongest links of at least 0.1 (0.05 is too weak); query 3: every link >= 0.02
    others = sorted(tuple(r) for r in rows if r[0] != 3)
    assert others == [(0, 0, 1.0), (1, 0, 0.6), (1, 1, 0.4), (2, 1, 0.5), (2, 2, 0.45)]
    assert rows[-3:] == [[3, 0, 0.03], [3, 2, 0.06], [3, 3, 0.9]]  # 0.01 is below 0.02; key order
    assert [r[:2] for r in query_links(p, 3, query_min_weight=0.5)[-1:].tolist()] == [[3, 3]]


def test_mean_norms_are_the_mean_length_of_each_added_vector(odd_model):
    import numpy as np

    from gptviz.lens import contribution_norms, mean_norms

    trace = odd_model.trace("Each layer adds to the stream", names=["embed.sum", "blocks.*.attn.out", "blocks.*.mlp.out"])
    means = mean_norms(contribution_norms(trace))
    assert list(means) == ["embed.sum"] + [f"blocks.{i}.{p}.out" for i in range(3) for p in ("attn", "mlp")]
    for name, mean in means.items():
        x = trace[name].double().numpy()  # [T, D]
        assert mean == pytest.approx(float(np.sqrt((x ** 2).sum(axis=1)).mean()), rel=1e-6), name
    assert mean_norms({"a": torch.tensor([3.0, 4.0, 5.0])}) == {"a": 4.0}


def test_masked_note_quotes_the_largest_unseen_probability():
    from gptviz.lens import LogitLens, masked_note

    def lens(unseen, n_masked):
        return LogitLens(["embed.sum"], ["a"], torch.zeros(1, 1, 1, dtype=torch.long), torch.ones(1, 1, 1),
                         [[["a"]]], unseen, n_masked)

    masked = lens(torch.tensor([[0.2, 0.62], [0.1, 0.0]]), 1234)
    assert masked.max_unseen == pytest.approx(0.62)
    assert "the 1,234 it never saw" in masked_note(masked) and "up to 62% of the full softmax" in masked_note(masked)
    assert masked_note(lens(None, 0)) == "" and lens(None, 0).max_unseen == 0.0


def test_largest_contributions_order_rest_and_total():
    from gptviz.interventions.attribution import Attribution, largest_contributions

    values = torch.tensor([1.0, -3.0, 3.0, 0.5])
    order, rest, total = largest_contributions(values, 2)
    assert order.tolist() == [1, 2]  # |-3| == |3|: the lower index first
    assert rest == 1.5 and total == 1.5
    order, rest, total = largest_contributions(values, 4)
    assert order.tolist() == [1, 2, 0, 3] and rest is None and total == 1.5
    a = Attribution(["a", "b", "c", "d"], values, 2.0, 0.5, "x", 0)
    assert a.top(2) == [("b", -3.0), ("c", 3.0)]
    with pytest.raises(InputError, match="k must be an int from 1 to the 4 components, got 5"):
        largest_contributions(values, 5)


def test_best_cell_finds_the_largest_smallest_or_largest_in_size():
    from gptviz.interventions.detectors import best_cell

    s = torch.tensor([[0.1, 0.7, -0.9], [0.7, 0.2, 0.0]])
    assert best_cell(s, "max") == (0, 1)  # 0.7 twice: the first in row-major order
    assert best_cell(s, "min") == (0, 2) and best_cell(s, "abs") == (0, 2)
    assert best_cell(-s, "abs") == (0, 2) and best_cell(s, None) is None
    with pytest.raises(InputError, match="best= must be 'max', 'min', 'abs' or None, got 'top'"):
        best_cell(s, "top")


def test_copy_means_average_each_copy_of_r():
    from gptviz.interventions.detectors import copy_means

    assert copy_means(torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]), 2) == (1.5, 4.0)
    with pytest.raises(InputError, match="more than period=5 values"):
        copy_means(torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]), 5)


def test_logit_order_cumulative_and_draw_counts():
    import numpy as np

    from gptviz.sampling import count_draws, distribution

    d = distribution(torch.tensor([1.0, 3.0, 3.0, 0.0]), temperature=2.0)
    assert d.by_logit.tolist() == [1, 2, 0, 3]  # equal logits: the lower id first
    e = np.exp(np.array([1.0, 3.0, 3.0, 0.0]) / 2.0)
    assert np.allclose(d.cumulative(3), np.cumsum((e / e.sum())[[1, 2, 0]]), atol=1e-7)
    counts, ids, distinct = count_draws(torch.tensor([2, 2, 1, 5, 1, 2]), 6)
    assert counts.tolist() == [0, 2, 3, 0, 0, 1] and ids.tolist() == [2, 1, 5] and distinct == 3
    assert count_draws(torch.tensor([2, 2, 1, 5, 1, 2]), 6, n=2)[1].tolist() == [2, 1]
    assert [d.n_left(s) for s in ("softmax", "temperature")] == [4, 4]
    with pytest.raises(InputError, match="stage must be one of 'softmax'"):
        d.n_left("top-k")
    assert count_draws(np.array([4, 0]), 6, n=1)[1].tolist() == [0]  # a tie of counts: the lower id
    cut = distribution(torch.tensor([1.0, 3.0, 3.0, 0.0]), top_k=1)
    assert cut.n_left("top_k") == 2 and cut.n_left("top_p") == 2  # top-k keeps ties with the k-th
    with pytest.raises(InputError, match="token ids"):
        count_draws(torch.tensor([6]), 6)


def test_param_shares_split_the_count_into_its_families():
    from gptviz.config import PRESETS
    from gptviz.scale import param_shares

    c = PRESETS["gpt2"]
    shares = param_shares(c)
    counts = c.param_counts()
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["MLP"] == counts["mlp"] / counts["total"]
    d, L = c.d_model, c.n_layer  # by hand: 2 matrices of 768 x 3072 with biases per layer, of 124,439,808
    assert shares["MLP"] == L * (2 * d * 4 * d + 4 * d + d) / 124_439_808
    with pytest.raises(InputError, match="config must be a GPTConfig"):
        param_shares("gpt2")


def test_vector_lengths_are_the_l2_norms_of_the_rows(odd_model):
    import numpy as np

    from gptviz.embeddings import vector_lengths

    assert vector_lengths(torch.tensor([[3.0, 4.0], [0.0, 0.0]])).tolist() == [5.0, 0.0]
    token, _, total = input_embeddings(odd_model, odd_model.tokenizer.encode("a b c"), [0, 2])
    assert np.allclose(vector_lengths(total), (total.double() ** 2).sum(1).sqrt().numpy(), rtol=1e-6)
    with pytest.raises(InputError, match=r"shape \[n, D\]"):
        vector_lengths(token[0])


#: Computations that belong in the library: a view or an explorer that needs one calls a library function.
#: (Colour and axis limits, such as ``symmetric_limit``, are the drawing's own choice and stay in viz.)
COMPUTING = (r"\.norm\(|linalg|argsort|lexsort|\btopk\b|\.sort\(|\bsoftmax\(|\bhistogram\(|bincount|einsum|cumsum|"
             r"argmax|\.mean\(|\.sum\(|\S\s@\s\S")


def computations_in_views(root=None) -> list[str]:
    """``path:line: code`` for each use of :data:`COMPUTING` in the code (strings and comments left out)
    of gptviz/viz/ and gptviz/widgets/."""
    import io
    import re
    import tokenize
    from pathlib import Path

    root = Path(root or Path(__file__).resolve().parents[1])
    found = []
    for path in sorted([*(root / "gptviz" / "viz").glob("*.py"), *(root / "gptviz" / "widgets").glob("*.py")]):
        lines: dict[int, list[str]] = {}
        for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
            if tok.type == tokenize.STRING:  # an f-string's {fields} are code; the rest of any string is text
                prefix = tok.string[: len(tok.string) - len(tok.string.lstrip("rRbBuUfF"))]
                code = " ".join(re.findall(r"\{([^{}]*)\}", tok.string)) if "f" in prefix.lower() else ""
            elif tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE):
                continue
            else:
                code = tok.string
            lines.setdefault(tok.start[0], []).append(code)
        for n, parts in lines.items():
            code = " ".join(parts).replace(" . ", ".").replace(" (", "(")
            if re.search(COMPUTING, code):
                found.append(f"{path.relative_to(root).as_posix()}:{n}: {code}")
    return found


def test_views_and_explorers_only_draw():
    """gptviz/viz/ and gptviz/widgets/ sort, select, reduce and multiply nothing themselves: each number
    they show comes from a library function tested above (issue 26 item 3)."""
    assert computations_in_views() == []
