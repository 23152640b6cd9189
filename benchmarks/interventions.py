"""What interventions cost, on GPT-2 small's dimensions with random weights, ratios measured in one run.

    python benchmarks/interventions.py [--repeats 5] [--toggles 3]

(a) ``model.trace(ids, edits=...)`` with one edit (head 3 of layer 5 zeroed) against a plain trace, at
    T = 128; both record everything. Target: at most 1.05x.
(b) A residual-stream ``patch_sweep`` over every layer and position at T = 20 against one patched
    forward pass per (layer, position) through ``patch``; the scores must agree (1e-4). Target: at
    least 3x faster.
(c) One ``AblationExplorer`` toggle at T = 64, from setting the toggle's value to the observer's
    return (the forward pass from the toggled layer, the unembedding, the loss, the redraw), on GPT-2
    small's dimensions and on the bundled model. A toggle at layer ``l`` runs blocks ``l .. L-1``, so the
    time depends on the layer: the table gives each layer's median; the forward passes are counted by a
    hook on the last block. Targets: under 100 ms (GPT-2 small) and 30 ms (bundled).

Runs are interleaved and the figures are medians; the machine's load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

import torch
from transformers import GPT2Config, GPT2LMHeadModel

import gptviz
from gptviz.interventions import patch, patch_sweep
from gptviz.interventions.patching import logit_diff_direction
from gptviz.widgets import AblationExplorer
from timing import timed

STORY = ("Once upon a time, a small robot lived in a quiet town by the sea. Every morning it walked to the "
         "harbour, counted the boats, and told the fishermen which way the wind would blow. ")
CLEAN = "One day Lily and Tom went to the park with a red ball. Then Lily gave the ball to"
CORRUPT = "One day Tom and Lily went to the park with a red ball. Then Tom gave the ball to"


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def ids_of(model, text: str, n: int) -> list[int]:
    """The last ``n`` tokens of ``text`` repeated as often as needed."""
    tok = model.tokenizer
    ids = tok.encode(text * (n // len(tok.encode(text)) + 1))
    return ids[-n:]


def edit_cost(model, repeats: int, T: int = 128) -> tuple[float, float]:
    """Median seconds of a plain full trace and of one with one edit, interleaved."""
    ids = ids_of(model, STORY, T)

    def zero_head(z):
        z = z.clone()
        z[3] = 0
        return z

    edit = {f"blocks.{model.config.n_layer // 2 - 1}.attn.z": zero_head}
    runs = {"plain": lambda: model.trace(ids), "edited": lambda: model.trace(ids, edits=edit)}
    times = {k: [] for k in runs}
    for fn in runs.values():
        fn()  # warm-up
    for _ in range(repeats):
        for key, fn in runs.items():
            times[key].append(timed(fn))
    return statistics.median(times["plain"]), statistics.median(times["edited"])


def naive_sweep(model, clean, corrupt) -> torch.Tensor:
    """One patched forward pass per (layer, position), through patch(); the same scores as patch_sweep."""
    L = model.config.n_layer
    direction = logit_diff_direction(model, " Lily", " Tom")
    with torch.inference_mode():
        diff = lambda tr: float(model.final_norm(tr[f"blocks.{L - 1}.resid_post"][-1:]) @ direction)  # noqa: E731
        low, high = diff(model.trace(corrupt)), diff(model.trace(clean))
        out = torch.zeros(L, len(clean))  # [n_layer, T]
        for layer in range(L):
            for p in range(len(clean)):
                tr = patch(model, clean, corrupt, f"blocks.{layer}.resid_post", positions=[p])
                out[layer, p] = (diff(tr) - low) / (high - low)
    return out


def sweep_cost(model, repeats: int, T: int = 20) -> tuple[float, float]:
    tok = model.tokenizer
    clean, corrupt = tok.encode(CLEAN), tok.encode(CORRUPT)
    assert len(clean) == len(corrupt) == T, (len(clean), len(corrupt))
    fast = patch_sweep(model, clean, corrupt, " Lily", " Tom")
    slow = naive_sweep(model, clean, corrupt)
    assert torch.allclose(fast, slow, atol=1e-4), float((fast - slow).abs().max())
    times = {"sweep": [], "naive": []}
    for _ in range(repeats):
        times["sweep"].append(timed(lambda: patch_sweep(model, clean, corrupt, " Lily", " Tom")))
        times["naive"].append(timed(lambda: naive_sweep(model, clean, corrupt)))
    return statistics.median(times["sweep"]), statistics.median(times["naive"])


def toggle_cost(model, repeats: int, T: int = 64) -> dict[int, float]:
    """Median seconds of one toggle per layer: a head switched off while head 0 of the last layer is
    already off (so switching it back on runs a pass too); every change is timed."""
    ids = ids_of(model, STORY, T)
    text = model.tokenizer.decode(ids)
    assert len(model.tokenizer.encode(text)) == T
    ex = AblationExplorer(model, text)
    L, H = model.config.n_layer, model.config.n_head
    passes = []
    hook = model.h[-1].register_forward_pre_hook(lambda module, args: passes.append(1))
    ex.heads[L - 1][0].value = True
    times: dict[int, list[float]] = {layer: [] for layer in range(L)}
    for r in range(repeats):
        for layer in range(L):
            toggle = ex.heads[layer][1 + (r + layer) % (H - 1)]
            for value in (True, False):
                before = len(passes)
                times[layer].append(timed(lambda: setattr(toggle, "value", value)))
                assert len(passes) == before + 1, "a toggle must run exactly one forward pass"
    hook.remove()
    return {layer: statistics.median(t) for layer, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sweep-repeats", type=int, default=2, help="the naive sweep takes ~240 forward passes")
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        GPT2LMHeadModel(GPT2Config()).save_pretrained(folder)
        model = gptviz.load(folder, device="cpu")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, GPT-2 small dimensions, random "
          f"weights, float32 CPU; {load()}\n")

    plain, edited = edit_cost(model, args.repeats)
    print(f"(a) full trace at T=128: plain {plain * 1e3:.1f} ms, one edit {edited * 1e3:.1f} ms: "
          f"{edited / plain:.3f}x (target <= 1.05x); {load()}", flush=True)

    sweep, naive = sweep_cost(model, args.sweep_repeats)
    print(f"(b) residual-stream sweep, 12 layers x 20 positions: patch_sweep {sweep * 1e3:.0f} ms, one patch() "
          f"per cell {naive:.1f} s: {naive / sweep:.1f}x faster (target >= 3x), same scores (1e-4); {load()}",
          flush=True)

    for name, m in (("GPT-2 small dims", model), ("bundled", gptviz.load(device="cpu"))):
        per_layer = toggle_cost(m, args.repeats)
        target = 100 if m is model else 30
        cells = " | ".join(f"{per_layer[layer] * 1e3:.0f}" for layer in per_layer)
        print(f"\n(c) AblationExplorer toggle at T=64, {name} (target < {target} ms), median ms by the layer "
              f"toggled; {load()}\n")
        print("| " + " | ".join(f"layer {layer}" for layer in per_layer) + " | median over layers |")
        print("|" + "---:|" * (len(per_layer) + 1))
        print(f"| {cells} | {statistics.median(per_layer.values()) * 1e3:.0f} |", flush=True)


if __name__ == "__main__":
    main()
