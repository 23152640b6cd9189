"""What interventions cost, on GPT-2 small's dimensions with random weights, ratios measured in one run.

    python benchmarks/interventions.py [--repeats 5] [--sweep-repeats 1] [--parts a b c] [--threads N]

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
from gptviz.trace import Recorder
from gptviz.widgets import AblationExplorer
from timing import clocked, timed

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


def edit_cost(model, repeats: int, T: int = 128) -> dict[str, tuple[float, float]]:
    """Median wall-clock and CPU seconds of a plain full trace and of one with one edit, interleaved."""
    ids = ids_of(model, STORY, T)

    def zero_head(z):
        z = z.clone()
        z[3] = 0
        return z

    edit = {f"blocks.{model.config.n_layer // 2 - 1}.attn.z": zero_head}
    runs = {"plain": lambda: model.trace(ids), "edited": lambda: model.trace(ids, edits=edit)}
    times = {k: ([], []) for k in runs}
    for fn in runs.values():
        fn()  # warm-up
    for r in range(repeats):
        for key in ("plain", "edited") if r % 2 == 0 else ("edited", "plain"):  # alternate: no order bias
            _, wall, cpu = clocked(runs[key])
            times[key][0].append(wall)
            times[key][1].append(cpu)
    out = {k: (statistics.median(w), statistics.median(c)) for k, (w, c) in times.items()}
    # The edit on its own, as the recording site applies it (steady even on a loaded machine).
    (name, fn), = edit.items()
    z = model.trace(ids, names=[name])[name][None]  # (1, H, T, d)
    site = Recorder(model.config, [], edit)
    with torch.inference_mode():
        _, wall, cpu = clocked(lambda: [site(name, z) for _ in range(100)])
    out["edit alone"] = (wall / 100, cpu / 100)
    return out


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
    """Median seconds of patch_sweep and of the naive sweep, interleaved; every naive run's scores
    are checked against the sweep's."""
    tok = model.tokenizer
    clean, corrupt = tok.encode(CLEAN), tok.encode(CORRUPT)
    assert len(clean) == len(corrupt) == T, (len(clean), len(corrupt))
    fast = patch_sweep(model, clean, corrupt, " Lily", " Tom")  # warm-up
    times = {"sweep": [], "naive": []}
    for _ in range(repeats):
        times["sweep"].append(timed(lambda: patch_sweep(model, clean, corrupt, " Lily", " Tom")))
        slow, seconds, _ = clocked(lambda: naive_sweep(model, clean, corrupt))
        times["naive"].append(seconds)
        assert torch.allclose(fast, slow, atol=1e-4), float((fast - slow).abs().max())
    return statistics.median(times["sweep"]), statistics.median(times["naive"])


def toggle_cost(model, repeats: int, T: int = 64) -> tuple[dict[str, dict[int, float]], float]:
    """Median seconds of one toggle per layer: whole (to the new picture), its forward pass alone (as
    the explorer shows it), and the CPU time of the whole toggle (on a loaded machine, with one thread,
    what it would take on an idle core). A head is switched on and off again while head 0 of the last
    layer stays off, so that both changes run a pass. Also a plain ``model(ids)``, for comparison."""
    ids = ids_of(model, STORY, T)
    text = model.tokenizer.decode(ids)
    assert len(model.tokenizer.encode(text)) == T
    ex = AblationExplorer(model, text)
    L, H = model.config.n_layer, model.config.n_head
    passes = []
    hook = model.h[-1].register_forward_pre_hook(lambda module, args: passes.append(1))
    ex.heads[L - 1][0].value = True
    for value in (True, False):  # warm-up
        ex.heads[0][1].value = value
    whole: dict[int, list[float]] = {layer: [] for layer in range(L)}
    cpu: dict[int, list[float]] = {layer: [] for layer in range(L)}
    forward: dict[int, list[float]] = {layer: [] for layer in range(L)}
    for r in range(repeats):
        for layer in range(L):
            toggle = ex.heads[layer][1 + (r + layer) % (H - 1)]
            for value in (True, False):
                before = len(passes)
                _, wall, seconds = clocked(lambda: setattr(toggle, "value", value))
                whole[layer].append(wall)
                cpu[layer].append(seconds)
                assert len(passes) == before + 1, "a toggle must run exactly one forward pass"
                assert ex.last_run[0] == layer
                forward[layer].append(ex.last_run[1])
    hook.remove()
    with torch.inference_mode():  # the floor of a toggle at layer 0: the plain forward pass, logits only
        plain = [timed(lambda: model(torch.tensor([ids]))) for _ in range(repeats)]
    median = lambda d: {layer: statistics.median(t) for layer, t in d.items()}  # noqa: E731
    return {"toggle to new picture": median(whole), "its forward pass": median(forward),
            "toggle, CPU time": median(cpu)}, statistics.median(plain)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sweep-repeats", type=int, default=1, help="the naive sweep is 480 forward passes")
    parser.add_argument("--parts", nargs="+", choices=["a", "b", "c"], default=["a", "b", "c"])
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (default: torch's choice); 1 is steadier on a shared machine")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    reference = GPT2LMHeadModel(GPT2Config()).eval()
    with tempfile.TemporaryDirectory() as folder:
        reference.save_pretrained(folder)
        model = gptviz.load(folder, device="cpu")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, GPT-2 small dimensions, random "
          f"weights, float32 CPU; {load()}\n")

    if "a" in args.parts:
        t = edit_cost(model, args.repeats)
        (plain, plain_cpu), (edited, edited_cpu) = t["plain"], t["edited"]
        print(f"(a) full trace at T=128: plain {plain * 1e3:.1f} ms, one edit {edited * 1e3:.1f} ms: "
              f"{edited / plain:.3f}x (target <= 1.05x); CPU time {plain_cpu * 1e3:.1f} / {edited_cpu * 1e3:.1f} ms: "
              f"{edited_cpu / plain_cpu:.3f}x; the edit alone (clone, zero a head, checks) "
              f"{t['edit alone'][1] * 1e3:.2f} ms CPU, {t['edit alone'][1] / plain_cpu:.2%} of a trace; {load()}",
              flush=True)
    if "b" in args.parts:
        sweep, naive = sweep_cost(model, args.sweep_repeats)
        print(f"(b) residual-stream sweep, 12 layers x 20 positions: patch_sweep {sweep * 1e3:.0f} ms, one patch() "
              f"per cell {naive:.1f} s: {naive / sweep:.1f}x faster (target >= 3x), same scores (1e-4); {load()}",
              flush=True)
    if "c" not in args.parts:
        return
    for name, m in (("GPT-2 small dims", model), ("bundled", gptviz.load(device="cpu"))):
        rows, plain = toggle_cost(m, args.repeats)
        whole = rows["toggle to new picture"]
        target = 100 if m is model else 30
        floor = f"a plain model(ids) forward pass takes {plain * 1e3:.0f} ms"
        if m is model:  # what a layer-0 toggle cannot beat: the reference's own forward pass on the same text
            ids = torch.tensor([ids_of(model, STORY, 64)])
            with torch.inference_mode():
                hf = statistics.median(timed(lambda: reference(ids)) for _ in range(args.repeats))
            floor += (f", transformers' {hf * 1e3:.0f} ms (a layer-0 toggle is "
                      f"{whole[0] / hf:.2f}x transformers' forward pass)")
        print(f"\n(c) AblationExplorer toggle at T=64, {name} (target < {target} ms), median ms by the layer "
              f"toggled; {floor}; {load()}\n")
        print("| ms | " + " | ".join(f"layer {layer}" for layer in whole) + " | median over layers |")
        print("|---|" + "---:|" * (len(whole) + 1))
        for label, times in rows.items():
            cells = " | ".join(f"{t * 1e3:.0f}" for t in times.values())
            print(f"| {label} | {cells} | {statistics.median(times.values()) * 1e3:.0f} |", flush=True)


if __name__ == "__main__":
    main()
