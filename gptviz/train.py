"""Training a small GPT-2 on the generated stories: the loop behind the bundled model.

The objective is next-token prediction. A stream of token ids is cut into windows of ``n_ctx``
tokens; the target of each window is the same window shifted one token to the left
(:func:`sliding_windows`), and the loss is the cross-entropy of the model's prediction at every
position. AdamW, a warm-up then cosine-decaying learning rate, and gradient clipping do the rest.

One trick makes a full-vocabulary GPT-2 trainable on two CPU cores. The stories use under 4,000 of
GPT-2's 50,257 tokens, and scoring all 50,257 rows of the unembedding at every position would be
most of the work. So during training the softmax runs over the tokens the corpus uses plus *one*
learnable "unseen" row standing for all the others, its logit raised by log(number of unseen tokens)
(as if each unseen token had that logit: the loss is then the full-vocabulary loss). When saving,
that row is copied into every unseen row of the tied embedding, so the file is an ordinary GPT-2
checkpoint that ``transformers`` and :func:`gptviz.load` read.

    python -m gptviz.train                   # trains and saves assets/models/gptviz-stories
    python -m gptviz.train --threads 1       # the same, faster while other jobs hold a core
    python -m gptviz.train --steps 300 --out /tmp/quick
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .checks import is_index
from .config import GPTConfig
from .corpus import TRAIN_SEED, VAL_SEED, encode_stories, generate_stories, training_stream  # VAL_SEED: also read from here
from .evaluate import score_stories
from .loss import next_token_loss
from .errors import InputError
from .model import GPT
from .tokenizer import EOT_ID, get_tokenizer

#: The shipped model's shape: GPT-2's architecture and vocabulary, scaled down (7.3M parameters).
STORIES_CONFIG = GPTConfig(vocab_size=50257, n_ctx=256, d_model=128, n_layer=4, n_head=4, name="gptviz-stories")


#: How many validation windows :func:`train` measures its validation loss on, by default.
VAL_WINDOWS = 64


def validation_windows(val_ids, context: int, n: int = VAL_WINDOWS) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed windows :func:`train` measures its validation loss on: the first ``n`` of the
    non-overlapping windows of ``context`` tokens cut from the stream ``val_ids`` (so each begins
    wherever the cut falls, mostly inside a story). Returns ``(inputs, targets)``, ``[n, context]`` each."""
    inputs, targets = sliding_windows(val_ids, context, stride=context)
    return inputs[:n], targets[:n]


def sliding_windows(ids, context: int, stride: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (input, target) example in a token stream.

    ``inputs[i]`` is ``ids[i*stride : i*stride + context]`` and ``targets[i]`` the same window moved
    one token on, so ``targets[i][t]`` is the token that follows ``inputs[i][:t+1]``. Both are
    ``(N, context)`` views of ``ids`` (no copy).
    """
    if not is_index(context) or context < 1:
        raise InputError(f"context= is the length of one window, a whole number >= 1, got {context!r}: e.g. context=6")
    if not is_index(stride) or stride < 1:
        raise InputError(f"stride= is the step from one window to the next, a whole number >= 1, got {stride!r}: "
                         "e.g. stride=1 (every window) or stride=context (windows that do not overlap)")
    if not (isinstance(ids, torch.Tensor) and ids.dim() == 1 and ids.dtype == torch.long):  # a corpus: as it is
        ids = torch.tensor(get_tokenizer().check_ids(ids), dtype=torch.long)
    if len(ids) < context + 1:
        smaller = f", or a smaller context (at most context={len(ids) - 1})" if len(ids) >= 2 else ""
        raise InputError(f"{len(ids)} tokens make no window of context={context} + 1 tokens: give at least "
                         f"{context + 1} tokens{smaller}")
    inputs = ids[:-1].unfold(0, context, stride)  # (N, context)
    targets = ids[1:].unfold(0, context, stride)  # (N, context)
    return inputs, targets


class SubsetHead(nn.Module):
    """The unembedding restricted to the ``used`` token ids plus one shared "unseen" row.

    ``logits(h)`` gives ``(B, T, K + 1)`` scores for ``h`` ``(B, T, d_model)``: the first ``K`` are
    ``h @ wte[used].T`` (tied to the model's embedding), the last is the unseen row's score plus
    log(number of unseen tokens). ``targets(ids)`` maps GPT-2 ids to those ``K + 1`` classes.
    """

    def __init__(self, model: GPT, used: torch.Tensor):
        super().__init__()
        V = model.config.vocab_size
        self.wte = model.wte
        self.register_buffer("used", used)
        unseen = torch.ones(V, dtype=torch.bool)
        unseen[used] = False
        self.register_buffer("unseen", unseen.nonzero().squeeze(1))
        # The mean of the current unseen rows: about 0 for a fresh model, the learned row for one
        # that was trained (and saved) before.
        self.unseen_row = nn.Parameter(model.wte.weight.detach()[self.unseen].mean(0).clone())
        self.offset = math.log(len(self.unseen)) if len(self.unseen) else -math.inf
        classes = torch.full((V,), len(used), dtype=torch.long)  # every unseen id -> class K
        classes[used] = torch.arange(len(used))
        self.register_buffer("classes", classes)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        seen = h @ self.wte.weight[self.used].T  # (B, T, K)
        other = h @ self.unseen_row + self.offset  # (B, T)
        return torch.cat([seen, other[..., None]], dim=-1)  # (B, T, K + 1)

    def targets(self, ids: torch.Tensor) -> torch.Tensor:
        return self.classes[ids]

    @torch.no_grad()
    def fill_unseen(self) -> None:
        """Copy the unseen row into every unseen row of the tied embedding (before saving)."""
        self.wte.weight[self.unseen] = self.unseen_row.to(self.wte.weight.dtype)


def fresh_model(config: GPTConfig, seed: int = 0, positions: str = "random") -> GPT:
    """A new GPT with GPT-2's initialisation, except the token embedding: its rows start at unit
    length (std 1/sqrt(d_model), not 0.02). Names are rare tokens that the model must tell apart to
    copy them; rows that start tiny stay too alike for that within a short training run.

    ``positions="sinusoidal"``: the position table ``wpe`` starts as the sinusoids of
    :func:`gptviz.compare.sinusoidal_positions`, scaled to unit length like the token rows, and is
    then learned like any other weight. From sinusoids, "the position just before" is one linear map
    away (each sine/cosine pair turns by a fixed angle per step), so a previous-token head, the
    first half of the induction circuit, can form early."""
    if positions not in ("random", "sinusoidal"):
        raise InputError(f"positions must be 'random' or 'sinusoidal', got {positions!r}")
    model = GPT(config).init_weights(seed)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.wte.weight.copy_(torch.randn(model.wte.weight.shape, generator=gen) * config.d_model ** -0.5)
        if positions == "sinusoidal":
            from .compare import sinusoidal_positions

            table = sinusoidal_positions(config.n_ctx, config.d_model)
            model.wpe.weight.copy_(table / table.norm(dim=-1, keepdim=True))
    return model


def lr_at(step: int, steps: int, lr: float, warmup: int, floor: float = 0.1) -> float:
    """Linear warm-up to ``lr`` over ``warmup`` steps, then a cosine down to ``floor * lr``."""
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


@dataclass
class TrainResult:
    """What :func:`train` returns. ``history``: one ``(step, train_loss, val_loss)`` per evaluation,
    the train loss averaged over the steps since the previous one (nats per token)."""

    model: GPT
    history: list[tuple[int, float, float]] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of this process (wall time counts other jobs' share of the cores too)
    tokens_seen: int = 0


@torch.no_grad()
def _val_loss(model: GPT, head: SubsetHead, val_x: torch.Tensor, val_y: torch.Tensor, batch_size: int) -> float:
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(val_x), batch_size):
        x, y = val_x[i:i + batch_size].to(model.device), val_y[i:i + batch_size].to(model.device)
        logits = head.logits(model.hidden(x))
        total += next_token_loss(logits, head.targets(y), reduction="sum").item()
        count += y.numel()
    model.train()
    return total / count


def train(config: GPTConfig, train_ids, val_ids, steps: int = 1000, batch_size: int = 16, lr: float = 1e-3,
          warmup: int = 100, weight_decay: float = 0.1, clip: float = 1.0, eval_every: int = 100,
          val_windows: int = VAL_WINDOWS, seed: int = 0, device: str | None = None, threads: int = 2,
          model: GPT | None = None, starts=None, progress: bool = True, context: int | None = None,
          callback: Callable[[int, float, float], None] | None = None) -> TrainResult:
    """Train a GPT of shape ``config`` on a token stream; return it with its loss history.

    ``train_ids`` / ``val_ids``: token streams (lists or 1-D tensors). Each step draws ``batch_size``
    random windows of ``config.n_ctx`` tokens. Every ``eval_every`` steps (and at the end) the loss on
    ``val_windows`` fixed validation windows is measured, appended to the history and passed to
    ``callback(step, train_loss, val_loss)``. Seeds are fixed, so a run is repeatable on one machine.
    ``threads``: CPU threads for torch (2 suits a free 2-core machine; 1 is faster when other
    processes keep a core busy, as two threads then wait for each other). ``model``: train this
    model further (e.g. a loaded checkpoint) instead of :func:`fresh_model` with ``seed``.
    ``starts``: the offsets in ``train_ids`` where windows may begin (e.g. each story's
    ``<|endoftext|>``, so that a window holds a whole story); default any offset. ``context``: the
    window length, at most ``config.n_ctx`` (default): short windows make a cheap first stage, where
    attention spreads over few tokens and a head that finds the one token it needs learns fast.
    """
    context = config.n_ctx if context is None else context
    if not 2 <= context <= config.n_ctx:
        raise InputError(f"context must be from 2 to the model's n_ctx={config.n_ctx}, got {context}")
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    gen = torch.Generator().manual_seed(seed)
    inputs, targets = sliding_windows(train_ids, context)
    val_x, val_y = validation_windows(val_ids, context, val_windows)

    model = (model or fresh_model(config, seed)).to(device).train()
    starts = torch.arange(len(inputs)) if starts is None else torch.as_tensor(starts)
    starts = starts[starts < len(inputs)]
    used = torch.unique(torch.as_tensor(train_ids, dtype=torch.long))
    head = SubsetHead(model, used).to(device)
    params = list(model.parameters()) + [head.unseen_row]
    # Weight decay on the matrices; not on biases, LayerNorms or the token embedding (rare tokens
    # such as names get few gradients, and decay would shrink them back together).
    decay = [p for p in params if p.dim() >= 2 and p is not model.wte.weight]
    rest = [p for p in params if p.dim() < 2 or p is model.wte.weight]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.95))

    result = TrainResult(model)
    start, cpu_start, running = time.perf_counter(), time.process_time(), []
    bar = _progress(steps, progress)
    for step in range(1, steps + 1):
        for group in opt.param_groups:
            group["lr"] = lr_at(step - 1, steps, lr, warmup)
        rows = starts[torch.randint(len(starts), (batch_size,), generator=gen)]
        x, y = inputs[rows].to(device), targets[rows].to(device)  # (B, T) each
        logits = head.logits(model.hidden(x))  # (B, T, K + 1)
        loss = next_token_loss(logits, head.targets(y))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        running.append(loss.item())
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if step % eval_every == 0 or step == steps:
            val = _val_loss(model, head, val_x, val_y, batch_size)
            result.history.append((step, sum(running) / len(running), val))
            bar.set_postfix(loss=f"{loss.item():.3f}", val=f"{val:.3f}")
            running = []
            if callback is not None:
                callback(*result.history[-1])
    bar.close()
    head.fill_unseen()
    result.seconds = time.perf_counter() - start
    result.cpu_seconds = time.process_time() - cpu_start
    result.tokens_seen = steps * batch_size * context
    result.model.eval()
    return result


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, mininterval=2.0, desc="training")


def story_starts(ids: list[int]) -> list[int]:
    """Offsets where a story begins in a stream made by :func:`gptviz.corpus.encode_stories`: 0 and
    every ``<|endoftext|>`` (a window from there reads the separator, then a whole story)."""
    return [0] + [i for i, t in enumerate(ids) if t == EOT_ID]


def story_streams(n_train: int, n_val: int, tokenizer=None, repeat_every: int = 8, spans: int = 1,
                  span_max: int = 90) -> tuple[list[int], list[int]]:
    """Token streams of ``n_train`` training and ``n_val`` validation stories (different seeds). The
    training stream also holds ``spans`` repeated spans of random story tokens after every ``repeat_every``-th
    story (:func:`gptviz.corpus.training_stream`); the validation stream holds stories only."""
    tok = tokenizer or get_tokenizer()
    return (training_stream(generate_stories(n_train, TRAIN_SEED), tok, repeat_every, seed=TRAIN_SEED, spans=spans,
                            span_max=span_max),
            encode_stories(generate_stories(n_val, VAL_SEED), tok))


def main(argv: list[str] | None = None) -> None:
    from .hub import load_checkpoint, save_checkpoint
    from .interventions.detectors import measure_induction
    from .tokenizer import assets_dir

    ap = argparse.ArgumentParser(prog="python -m gptviz.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(assets_dir() / "models" / "gptviz-stories"), help="checkpoint folder")
    ap.add_argument("--init", default=None, help="train further from this checkpoint folder instead of from scratch")
    ap.add_argument("--steps", type=int, default=1600)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--stories", type=int, default=60000, help="training stories")
    ap.add_argument("--val-stories", type=int, default=1000)
    ap.add_argument("--repeat-every", type=int, default=8,
                    help="a repeated span of random story tokens after every N-th story (0: none), for induction")
    ap.add_argument("--span-max", type=int, default=90, help="longest repeated span r (tokens)")
    ap.add_argument("--context", type=int, default=None, help="window length (default: the model's context)")
    ap.add_argument("--spans", type=int, default=1, help="repeated spans each time (with --repeat-every)")
    ap.add_argument("--positions", choices=["random", "sinusoidal"], default="random",
                    help="how the position table starts (from scratch only; it is learned either way)")
    ap.add_argument("--seed", type=int, default=0, help="weights (from scratch) and batch order")
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (1 on a busy machine)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    train_ids, val_ids = story_streams(args.stories, args.val_stories, repeat_every=args.repeat_every, spans=args.spans,
                                       span_max=args.span_max)
    corpus_seconds = time.perf_counter() - t0
    print(f"corpus: {len(train_ids):,} training tokens ({len(set(train_ids)):,} distinct), "
          f"{len(val_ids):,} validation tokens, made in {corpus_seconds:.0f} s", flush=True)
    model = load_checkpoint(args.init) if args.init else fresh_model(STORIES_CONFIG, args.seed, args.positions)
    probe = generate_stories(40, VAL_SEED)

    learned = sorted(set(train_ids) - {EOT_ID})  # what measure_induction draws from once the model is saved

    def report(step: int, train_loss: float, val_loss: float) -> None:
        recall = score_stories(model, probe).name_recall  # copying names: the skill that comes last
        ind = measure_induction(model, n=min(50, ((args.context or model.config.n_ctx) - 1) // 2), seeds=range(4),
                                tokens=learned)
        print(f"step {step}: train {train_loss:.4f} val {val_loss:.4f} name recall {recall:.3f} induction: loss "
              f"{ind.first_copy:.2f} -> {ind.second_copy:.2f}, best heads {ind.induction.max():.2f} "
              f"(induction) {ind.previous.max():.2f} (previous token)", flush=True)

    result = train(model.config, train_ids, val_ids, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                   warmup=args.warmup, eval_every=args.eval_every, seed=args.seed, threads=args.threads,
                   model=model, starts=story_starts(train_ids), callback=report, context=args.context)
    stages = json.loads((Path(args.init) / "training.json").read_text())["stages"] if args.init else []
    stages.append({
        "command": "python -m gptviz.train " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "train_seconds": round(result.seconds, 1),
        "cpu_seconds": round(result.cpu_seconds, 1),
        "corpus_seconds": round(corpus_seconds, 1),
        "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
        "threads": args.threads, "train_stories": args.stories, "val_stories": args.val_stories, "repeat_every": args.repeat_every, "spans": args.spans, "span_max": args.span_max,
        "positions": args.positions, "context": args.context or model.config.n_ctx,
        "train_tokens": len(train_ids), "distinct_tokens": len(set(train_ids)), "tokens_seen": result.tokens_seen,
        "history": [[s, round(tr, 4), round(va, 4)] for s, tr, va in result.history],
    })
    folder = save_checkpoint(result.model, args.out, dtype=torch.float16)
    (folder / "training.json").write_text(json.dumps({"stages": stages}, indent=1) + "\n")
    print(f"saved {folder} after {result.seconds / 60:.1f} min of training", flush=True)


if __name__ == "__main__":
    main()
