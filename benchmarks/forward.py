"""The instrumented forward pass against transformers, on the same random weights, in one run.

    python benchmarks/forward.py [--lengths 16 128 512 1024] [--repeats 5] [--threads N] [--memory kept|returned]
                                 [--shape gpt2|gpt2-medium|gpt2-large|gpt2-xl] [--device cpu|cuda|cuda:N]

    python benchmarks/forward.py --device cuda --shape gpt2-xl --lengths 1024   # the GPU path

For each length T: transformers' GPT2LMHeadModel with eager attention (the one that forms the
attention matrix, as gptviz does) and with sdpa (its default, fused attention that never forms it),
gptviz untraced ``model(ids)``, gptviz full trace, and gptviz trace with a names filter (attention
patterns + logits). Runs are interleaved, timings are medians, and each gptviz time is given as a
ratio to both of transformers' (eager / sdpa). transformers runs under ``torch.no_grad``; the traces
run as a student calls them, with no context manager (``run`` records under ``no_grad`` itself).
Prints a markdown table for the README.

``--shape`` picks the dimensions (random weights; default GPT-2 small's), ``--device`` where both models'
weights live (a GPU: each time is taken after ``torch.cuda.synchronize()``, and the table adds the peak GPU
memory of a full trace, whose tensors come back to the CPU as float32, as every trace does).

``--memory``: ``kept`` (the default, what ``trace()`` does) keeps freed memory in the process for
the next run (:mod:`gptviz.memory`), for all four contenders alike; ``returned`` leaves glibc's
default, which hands large freed blocks back to the kernel, so each run faults its memory in again.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel

import gptviz
from gptviz.config import PRESETS
from gptviz.hub import available_devices
from gptviz.memory import keep_freed_memory
from gptviz.trace import trace_nbytes

FILTER = ["blocks.*.attn.pattern", "logits"]
SHAPES = ("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[16, 128, 512, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    parser.add_argument("--memory", choices=["kept", "returned"], default="kept",
                        help="keep freed memory for the next run (gptviz's default) or return it to the kernel")
    parser.add_argument("--shape", choices=SHAPES, default="gpt2", help="the model's dimensions (random weights)")
    parser.add_argument("--device", default="cpu", help=f"where the weights live; here: {', '.join(available_devices())}")
    args = parser.parse_args()
    if args.device not in available_devices() and not (args.device == "cuda" and torch.cuda.is_available()):
        parser.error(f"--device {args.device}: this machine has {', '.join(available_devices())}")
    device = torch.device(args.device)
    config = PRESETS[args.shape]
    if args.memory == "returned":
        os.environ["GPTVIZ_KEEP_MEMORY"] = "0"  # trace() then leaves the allocator alone
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    memory = "kept" if keep_freed_memory() else "returned (GPTVIZ_KEEP_MEMORY=0, or the C library is not glibc)"
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        GPT2LMHeadModel(GPT2Config(**config.to_hf())).save_pretrained(folder)
        eager = GPT2LMHeadModel.from_pretrained(folder, attn_implementation="eager").eval().to(device)
        sdpa = GPT2LMHeadModel.from_pretrained(folder, attn_implementation="sdpa").eval().to(device)
        ours = gptviz.load(folder, device=device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {where}, {args.shape} dimensions, float32, freed memory {memory}\n")
    gpu = device.type == "cuda"
    print("| T | HF eager (ms) | HF sdpa (ms) | untraced (eager / sdpa) | full trace | filtered trace | full trace MiB |"
          + (" full trace peak GPU MiB |" if gpu else ""))
    print("|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if gpu else ""))
    for T in args.lengths:
        ids = torch.randint(0, config.vocab_size, (1, T), generator=torch.Generator().manual_seed(T)).to(device)
        runs = {
            "eager": no_grad(lambda: eager(ids)),
            "sdpa": no_grad(lambda: sdpa(ids)),
            "untraced": no_grad(lambda: ours(ids)),
            "full": lambda: ours.trace(ids[0]),
            "filtered": lambda: ours.trace(ids[0], names=FILTER),
        }
        times = {k: [] for k in runs}
        for fn in runs.values():  # warm-up
            fn()
        for _ in range(args.repeats):
            for key, fn in runs.items():
                times[key].append(timed(fn, gpu))
        med = {k: statistics.median(v) for k, v in times.items()}
        ratios = lambda k: f"{med[k] / med['eager']:.2f}x / {med[k] / med['sdpa']:.2f}x"  # noqa: E731
        mib = trace_nbytes(ours.config, T) / 2**20
        peak = f" {gpu_peak_mib(runs['full'], device):,.0f} |" if gpu else ""
        print(f"| {T} | {med['eager'] * 1e3:.1f} | {med['sdpa'] * 1e3:.1f} | {ratios('untraced')} | {ratios('full')} "
              f"| {ratios('filtered')} | {mib:,.0f} |{peak}", flush=True)


def timed(fn, gpu: bool) -> float:
    """Seconds ``fn()`` takes, waiting for the GPU's queued work on both sides when ``gpu``."""
    if gpu:
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if gpu:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def gpu_peak_mib(fn, device) -> float:
    """The most GPU memory ``fn()`` holds at once, in MiB."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    fn()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) / 2**20


def no_grad(fn):
    """``fn`` run under ``torch.no_grad`` (how transformers' forward is timed)."""
    def run():
        with torch.no_grad():
            return fn()
    return run


if __name__ == "__main__":
    main()
