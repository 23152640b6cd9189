"""Generation speed against transformers, and the cost of re-drawing a distribution, in one run.

    python benchmarks/generate.py [--prompt 16] [--new 64] [--repeats 3] [--threads N]

GPT-2 small dimensions with random weights (written by transformers' ``save_pretrained``, read by
``gptviz.load``), CPU, float32, greedy, end-of-text ignored so every run makes ``--new`` tokens:
gptviz with its KV cache, gptviz re-reading the whole sequence at every step, and transformers'
``generate`` with its cache (default attention). Runs are interleaved; timings are medians. Then the
time to recompute a :class:`~gptviz.sampling.Distribution` (and its top 10) from cached logits over
the 50,257-token vocabulary, as a slider does. Prints markdown tables for the README.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile

import torch
from transformers import GPT2Config, GPT2LMHeadModel

import gptviz
from gptviz.generation import generate
from gptviz.sampling import distribution
from timing import timed

SLIDER_SETTINGS = [  # (temperature, top_k, top_p)
    (1.0, None, None), (0.7, None, None), (0.8, 40, None), (1.0, None, 0.9), (1.2, 40, 0.95), (0.0, None, None),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompt", type=int, default=16, help="prompt length in tokens")
    parser.add_argument("--new", type=int, default=64, help="new tokens per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (default: torch's choice); 1 is steadier on a shared machine")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        GPT2LMHeadModel(GPT2Config()).save_pretrained(folder)
        ref = GPT2LMHeadModel.from_pretrained(folder).eval()
        ours = gptviz.load(folder, device="cpu")
    ref.generation_config.eos_token_id = None  # never stop early: every run makes args.new tokens
    ref.generation_config.pad_token_id = 0
    prompt = torch.randint(0, 50257, (1, args.prompt), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(prompt)
    outputs = {}
    runs = {
        "gptviz, KV cache": lambda: generate(ours, prompt[0], args.new, greedy=True, stop_at_eos=False),
        "gptviz, no cache": lambda: generate(ours, prompt[0], args.new, greedy=True, stop_at_eos=False,
                                             use_cache=False),
        "transformers generate, cache": lambda: ref.generate(prompt, attention_mask=mask, do_sample=False,
                                                             max_new_tokens=args.new, min_new_tokens=args.new),
    }
    times = {k: [] for k in runs}
    for key, fn in runs.items():  # warm-up, and keep the tokens to compare
        outputs[key] = fn()
    for _ in range(args.repeats):
        for key, fn in runs.items():
            times[key].append(timed(fn))
    same = outputs["gptviz, KV cache"].new_ids == outputs["transformers generate, cache"][0, args.prompt:].tolist()
    hf = statistics.median(times["transformers generate, cache"])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, GPT-2 small dimensions (random weights), "
          f"float32 CPU, greedy, {args.prompt}-token prompt, {args.new} new tokens, median of {args.repeats}; "
          f"transformers' attention: {ref.config._attn_implementation} (gptviz forms the attention matrix); "
          f"same tokens as transformers: {same}\n")
    print("| generation | tokens/s | time (s) | speed vs transformers |")
    print("|---|---:|---:|---:|")
    for key, values in times.items():
        t = statistics.median(values)
        print(f"| {key} | {args.new / t:.1f} | {t:.2f} | {hf / t:.2f}x |")

    with torch.inference_mode():
        logits = ours(prompt)[0, -1]  # cached logits of one position, [V]
    peaked = torch.randn(50257, generator=torch.Generator().manual_seed(2)) * 3  # a sharper, trained-like spread
    print("\n| temperature | top_k | top_p | recompute, random model (ms) | recompute, peaked logits (ms) |")
    print("|---:|---:|---:|---:|---:|")
    for temperature, top_k, top_p in SLIDER_SETTINGS:
        cells = []
        for x in (logits, peaked):
            def recompute():
                distribution(x, temperature, top_k, top_p, tokenizer=ours.tokenizer).top(10)
            recompute()
            cells.append(statistics.median(timed(recompute) for _ in range(50)) * 1e3)
        print(f"| {temperature:g} | {top_k or '-'} | {top_p or '-'} | {cells[0]:.2f} | {cells[1]:.2f} |")


if __name__ == "__main__":
    main()
