"""How good is the bundled model? Losses, name copying, induction, unseen-token mass and sample stories.

    python -m gptviz.evaluate            # prints the figures for the bundled model
    python -m gptviz.evaluate --write    # ... stores them in metrics.json and on the card (README.md)

Every figure is measured on validation stories, generated with a different seed from the training
stories (:data:`gptviz.corpus.VAL_SEED`), each read on its own after an ``<|endoftext|>`` token:

* **loss**: mean cross-entropy of the next token, in nats, over the full 50,257-token vocabulary;
* **unigram loss**: the same for a model that ignores context and predicts each token with its
  frequency in the training stories (the bar that any use of context must clear);
* **perplexity**: ``exp`` of a mean loss (:func:`perplexity`): the number of equally likely tokens
  that would leave a model as unsure as it is, on average;
* **bigram loss**: the same for a model that reads one token back: the frequency of each token after
  the one before it in the training stories, interpolated with the unigram (Witten-Bell), on the
  same text (the bar that reading further back must clear);
* **name recall**: at every position where the next token is the name of a character the story
  has already named, how often the model's top prediction is that name (copying from context);
* **unseen mass**: the probability the model gives to tokens that never occur in the training
  stories (the restricted-softmax training of :mod:`gptviz.train` must leave it tiny); its max is
  also given over the positions whose next token the model learned, since where the next token is
  itself unseen (a word copied from earlier in the text), copying it is right;
* **name heads**: for every head, the attention it pays, where the next token is a name already
  used, to the earlier occurrences of that name;
* **induction**: on ``<|endoftext|>`` + r + r, r being 50 tokens drawn uniformly from the tokens the
  model has learned, the loss on each copy, and the best induction and previous-token heads
  (:func:`gptviz.interventions.detectors.measure_induction`, 16 seeds).
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch

from .corpus import TRAIN_SEED, VAL_SEED, Story, generate_stories, name_positions
from .errors import InputError
from .loss import next_token_loss
from .model import GPT
from .tokenizer import EOT_ID

OPENINGS = (  # in the corpus's style; the model knows nothing beyond its stories
    "Once upon a time, there was a little girl named Mia. Mia had a red kite.",
    "Once upon a time, there was a kind boy named Leo. Leo had a dog named Spot.",
    "There was once a brave boy called Finn. Finn was scared of the dark.",
    "In a little house lived a shy girl named Ruby. One day, Ruby was walking in the forest.",
    "Once upon a time, there was a happy girl named Zoe. Her best friend was a boy named Sam.",
)


@dataclass
class StoryScores:
    """Summed figures over a set of stories (divide by the counts for means)."""

    loss_sum: float = 0.0
    tokens: int = 0
    name_hits: int = 0
    name_positions: int = 0
    unseen_sum: float = 0.0
    unseen_max: float = 0.0
    unseen_max_known: float = 0.0  # the max over positions whose next token the model learned
    unseen_targets: int = 0  # positions whose next token is itself one the training text never uses

    @property
    def loss(self) -> float:
        return self.loss_sum / self.tokens

    @property
    def perplexity(self) -> float:
        return math.exp(self.loss)

    @property
    def name_recall(self) -> float:
        return self.name_hits / self.name_positions

    @property
    def unseen_mass(self) -> float:
        return self.unseen_sum / self.tokens


def perplexity(logits, targets) -> float:
    """How many tokens is the model choosing among, in effect? ``exp`` of the mean cross-entropy (nats)
    of ``targets`` under ``logits``: row ``t`` of ``logits`` (``[N, V]``) scores the token ``targets[t]``
    (``N`` ids; for a trace, ``trace["logits"][:-1]`` and ``trace.ids[1:]``). A model that spreads its
    probability evenly over ``k`` tokens and always has the right one among them has perplexity ``k``;
    one that knows nothing has the vocabulary's size; a perfect one, 1."""
    logits = torch.as_tensor(logits)
    targets = torch.as_tensor(targets)
    if logits.ndim != 2 or targets.ndim != 1 or len(targets) != len(logits) or len(targets) == 0:
        raise InputError(f"perplexity takes logits [N, vocab] and N target ids (N >= 1), got logits "
                         f"{list(logits.shape)} and targets {list(targets.shape)}: for a trace, pass "
                         "trace['logits'][:-1] and trace.ids[1:]")
    if targets.dtype.is_floating_point or int(targets.min()) < 0 or int(targets.max()) >= logits.shape[1]:
        raise InputError(f"targets must be token ids from 0 to {logits.shape[1] - 1} (the logits' width)")
    return math.exp(next_token_loss(logits.float(), targets.long()).item())


def story_ids(story: Story, tokenizer) -> list[int]:
    """``<|endoftext|>``, the story's tokens, ``<|endoftext|>``: how the model meets a story in training
    (the baselines read these; :func:`score_stories` reads the same through ``run(bos=True)``)."""
    return [EOT_ID] + tokenizer.encode(story.text) + [EOT_ID]


def unseen_token_ids(model: GPT) -> torch.Tensor:
    """Ids the model has not learned: every token but ``<|endoftext|>`` and the
    :func:`~gptviz.interventions.detectors.learned_tokens` (those whose embedding row is the shared
    "unseen" row the trainer copies into every token the training text never uses; see :mod:`gptviz.train`)."""
    from .interventions.detectors import learned_tokens

    unseen = torch.ones(model.config.vocab_size, dtype=torch.bool)
    unseen[learned_tokens(model)] = False
    unseen[EOT_ID] = False
    return unseen.nonzero().squeeze(1)


@torch.no_grad()
def score_stories(model: GPT, stories: list[Story], edits=None) -> StoryScores:
    """Loss, name recall and unseen mass of ``model`` on ``stories`` (each run on its own).

    ``edits``: as :meth:`GPT.trace` takes them, applied to every story's run; e.g.
    ``ablation_edits(model, heads=[(1, 2)])`` scores the model with that head switched off."""
    tok, scores = model.tokenizer, StoryScores()
    unseen_ids = unseen_token_ids(model)
    unseen = torch.zeros(model.config.vocab_size, dtype=torch.bool)
    unseen[unseen_ids] = True
    for story in stories:
        body = tok.encode(story.text) + [EOT_ID]  # read after <|endoftext|>; the last target ends the story
        tr = model.run(body[:-1], names=["logits"], edits=edits, bos=True, truncate=True)
        logits, ids = tr["logits"], tr.ids + [EOT_ID]  # [T, V]; ids[t + 1] is the target at t
        targets = torch.tensor(ids[1:])
        scores.loss_sum += next_token_loss(logits, targets, reduction="sum").item()
        scores.tokens += len(targets)
        # (T,); index_select by the (sorted) ids takes the same columns as [:, unseen], twice as fast
        mass = logits.softmax(-1).index_select(1, unseen_ids).sum(-1)
        scores.unseen_sum += mass.sum().item()
        scores.unseen_max = max(scores.unseen_max, mass.max().item())
        known = ~unseen[targets]  # (T,): the next token is one the model learned
        scores.unseen_targets += int((~known).sum())
        if known.any():
            scores.unseen_max_known = max(scores.unseen_max_known, mass[known].max().item())
        positions = name_positions(ids, story.name_ids(tok))
        best = logits.argmax(-1)
        scores.name_hits += sum(int(best[t] == ids[t + 1]) for t in positions)
        scores.name_positions += len(positions)
    return scores


@torch.no_grad()
def name_head_scores(model: GPT, stories: list[Story]) -> tuple[torch.Tensor, int]:
    """``[n_layer, n_head]``: at every position where the next token is a name the story has already
    used, the attention each head pays to the earlier occurrences of that name, averaged; and the
    number of such positions. Each story is read after ``<|endoftext|>`` (``bos=True``), its last
    tokens kept when it is longer than the context."""
    tok, L = model.tokenizer, model.config.n_layer
    score, count = torch.zeros(L, model.config.n_head), 0
    for story in stories:
        tr = model.run(tok.encode(story.text), names="blocks.*.attn.pattern", bos=True, truncate=True)
        ids = tr.ids
        for t in name_positions(ids, story.name_ids(tok)):
            earlier = [s for s in range(t + 1) if ids[s] == ids[t + 1]]  # where the coming name was seen
            for layer in range(L):
                score[layer] += tr[f"blocks.{layer}.attn.pattern"][:, t, earlier].sum(-1)
            count += 1
    return score / max(count, 1), count


def unigram_loss(train_ids: list[int], val_ids: list[int], vocab_size: int = 50257) -> float:
    """Cross-entropy (nats/token) of ``val_ids`` under training-token frequencies (add-one smoothed)."""
    counts = Counter(train_ids)
    total = len(train_ids) + vocab_size
    logp = {t: math.log((c + 1) / total) for t, c in counts.items()}
    floor = math.log(1 / total)
    return -sum(logp.get(t, floor) for t in val_ids) / len(val_ids)


def bigram_loss(train_ids: list[int], val_docs: list[list[int]], vocab_size: int = 50257) -> float:
    """Cross-entropy (nats/token) of each ``val_docs`` list after its first token, each token predicted
    from the one before it: training bigram frequencies, interpolated Witten-Bell style with the
    add-one unigram of :func:`unigram_loss` (a token seen after ``a`` in ``c(a)`` pairs, with ``k(a)``
    different followers, gets weight ``c(a) / (c(a) + k(a))`` on its bigram frequency)."""
    unigram = Counter(train_ids)
    total = len(train_ids) + vocab_size
    pairs = Counter(zip(train_ids, train_ids[1:]))
    after, followers = Counter(), Counter()
    for (a, _), c in pairs.items():
        after[a] += c
        followers[a] += 1
    loss, count = 0.0, 0
    for doc in val_docs:
        for a, b in zip(doc, doc[1:]):
            p_uni = (unigram.get(b, 0) + 1) / total
            c_a, k_a = after.get(a, 0), followers.get(a, 0)
            p = (pairs.get((a, b), 0) + k_a * p_uni) / (c_a + k_a) if c_a else p_uni
            loss -= math.log(p)
            count += 1
    return loss / count


def _best_head(scores: torch.Tensor) -> dict:
    layer, head = divmod(int(scores.argmax()), scores.shape[1])
    return {"layer": layer, "head": head, "score": round(scores[layer, head].item(), 3)}


def induction_figures(model: GPT, n: int = 50, seeds: int = 16) -> dict:
    """Induction on ``<|endoftext|>`` + r + r (:func:`~gptviz.interventions.detectors.measure_induction`):
    mean loss on each copy over ``seeds`` seeds, the best induction and previous-token heads, and the
    loss at each position of the sequence of seed 0 (``losses_seed0[t]``: the loss of token ``t + 1``)."""
    from .interventions.detectors import measure_induction, position_losses, repeated_tokens

    report = measure_induction(model, n=n, seeds=range(seeds))
    one = position_losses(model.trace(repeated_tokens(model, n, seed=0), names=["logits"], allow_special=True))
    return {
        "n": n, "seeds": seeds,
        "first_copy_loss": round(report.first_copy, 3), "second_copy_loss": round(report.second_copy, 3),
        "drop": round(report.first_copy - report.second_copy, 3),
        "induction_head": _best_head(report.induction), "previous_token_head": _best_head(report.previous),
        "induction_scores": [[round(x, 3) for x in row] for row in report.induction.tolist()],
        "previous_token_scores": [[round(x, 3) for x in row] for row in report.previous.tolist()],
        "losses_seed0": [round(x, 2) for x in one.tolist()],
    }


def continue_text(model: GPT, prompt: str, max_new_tokens: int = 60, temperature: float = 0.0,
                  seed: int = 0) -> str:
    """The prompt's continuation after ``<|endoftext|>`` (how the model meets a story), greedy
    (``temperature=0``) or sampled with ``seed``, stopping at ``<|endoftext|>`` (left out) or when the
    context is full: :func:`gptviz.generation.generate`, whose steps every generation shares."""
    from .generation import generate

    out = generate(model, prompt, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed, bos=True)
    new = out.new_ids[:-1] if out.stop_reason == "eos" else out.new_ids
    return model.tokenizer.decode(new)


def evaluate(model: GPT, n_val: int = 1000, n_train_for_baselines: int = 20000) -> dict:
    """Every figure of the model card, as a dict (see the module docstring)."""
    from .corpus import encode_stories
    from .interventions.detectors import learned_tokens

    val = generate_stories(n_val, VAL_SEED)
    scores = score_stories(model, val)
    tok = model.tokenizer
    train_ids = encode_stories(generate_stories(n_train_for_baselines, TRAIN_SEED), tok)
    val_docs = [story_ids(s, tok) for s in val]  # each scored from its 2nd token, as the model is
    unigram = unigram_loss(train_ids, [i for d in val_docs for i in d[1:]])
    heads, places = name_head_scores(model, generate_stories(40, VAL_SEED))
    H = model.config.n_head
    return {
        "val_stories": n_val,
        "val_tokens": scores.tokens,
        "val_loss": round(scores.loss, 4),
        "unigram_loss": round(unigram, 4),
        "bigram_loss": round(bigram_loss(train_ids, val_docs), 4),
        "name_recall": round(scores.name_recall, 4),
        "name_positions": scores.name_positions,
        "unseen_mass_mean": float(f"{scores.unseen_mass:.3g}"),
        "unseen_mass_max": float(f"{scores.unseen_max:.3g}"),
        "unseen_mass_max_known": float(f"{scores.unseen_max_known:.3g}"),
        "unseen_targets": scores.unseen_targets,
        "unseen_tokens": len(unseen_token_ids(model)),
        "learned_tokens": len(learned_tokens(model)),
        "name_heads": {"stories": 40, "positions": places,
                       "heads": [{"layer": i // H, "head": i % H, "score": round(heads.flatten()[i].item(), 3)}
                                 for i in heads.flatten().argsort(descending=True)[:2].tolist()],
                       "scores": [[round(x, 3) for x in row] for row in heads.tolist()]},
        "induction": induction_figures(model),
        "n_params": model.config.n_params,
    }


CARD_BEGIN, CARD_END = "<!-- figures from python -m gptviz.evaluate --write -->", "<!-- end of figures -->"


def card_figures(f: dict) -> str:
    """The card's table of figures (Markdown), from :func:`evaluate`'s dict."""
    ind, names = f["induction"], f["name_heads"]
    head = lambda h: f"layer {h['layer']}, head {h['head']} (`blocks.{h['layer']}.attn.pattern[{h['head']}]`)"  # noqa: E731
    rows = [
        ("validation loss (full 50,257-token softmax)", f"**{f['val_loss']:.3f}** nats/token"),
        ("bigram model on the same text (training pairs, Witten-Bell with the unigram)", f"{f['bigram_loss']:.3f} nats/token"),
        ("unigram model on the same text (training frequencies, add-one)", f"{f['unigram_loss']:.3f} nats/token"),
        ("name recall: the next token is the name of a character named earlier, and it is the model's top "
         "prediction", f"**{f['name_recall']:.1%}** of {f['name_positions']:,} positions"),
        (f"name-copying heads: attention on the earlier occurrences of the coming name ({names['positions']} "
         f"positions in {names['stories']} stories)",
         "; ".join(f"{head(h)}: {h['score']:.2f}" for h in names["heads"])),
        (f"induction: loss on `<|endoftext|>` + r + r, r = {ind['n']} learned tokens drawn uniformly, "
         f"mean of {ind['seeds']} seeds", f"first copy **{ind['first_copy_loss']:.2f}**, second copy "
         f"**{ind['second_copy_loss']:.2f}** nats/token (a drop of {ind['drop']:.2f})"),
        ("best induction head (attention on the token after the earlier occurrence)",
         f"{head(ind['induction_head'])}: {ind['induction_head']['score']:.2f}"),
        ("best previous-token head (attention on the token before)",
         f"{head(ind['previous_token_head'])}: {ind['previous_token_head']['score']:.2f}"),
        ("distinct tokens learned (an embedding row of their own, `<|endoftext|>` aside)", f"{f['learned_tokens']:,}"),
        (f"probability given to the {f['unseen_tokens']:,} tokens the training text never uses",
         f"mean {f['unseen_mass_mean']:.2g}, max {f['unseen_mass_max']:.2g}; max {f['unseen_mass_max_known']:.2g} over "
         f"the positions whose next token it learned (at the other {f['unseen_targets']}, the next token is itself "
         "one the training text never uses)"),
        (f"the same on the first {f['sample']['stories']} validation stories (what the tests re-measure)",
         f"loss {f['sample']['val_loss']:.3f}, name recall {f['sample']['name_recall']:.1%}"),
        ("file", f"{f['file_mb']} MB, sha256 `{f['sha256'][:16]}…`"),
    ]
    if "train_seconds" in f:
        rows.append(("training time, the stages' sum (this 2-core machine; writing the corpora aside)",
                     f"{f['train_seconds'] / 60:.1f} min, `{f['command']}`"))
    lines = ["| figure | value |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    losses = ind["losses_seed0"]
    lines += ["", f"Loss (nats) at each position of one repeated sequence (seed 0; column c of row t is "
              f"position t + c, the first copy ends at {ind['n']}):", "",
              "| t | " + " | ".join(f"+{c}" for c in range(10)) + " |", "|---" * 11 + "|"]
    for t in range(0, len(losses), 10):
        lines.append(f"| {t + 1} | " + " | ".join(f"{x:.1f}" for x in losses[t:t + 10]) + " |")
    lines += ["", "![loss at each position](induction.png)"]
    return "\n".join([CARD_BEGIN, *lines, CARD_END])


def write_card(folder: Path, figures: dict) -> None:
    """Put :func:`card_figures` between the card's markers (README.md), and draw induction.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    card = folder / "README.md"
    text = card.read_text()
    if CARD_BEGIN not in text or CARD_END not in text:
        raise SystemExit(f"{card} has no place for the figures: add the lines {CARD_BEGIN!r} and {CARD_END!r}")
    before, rest = text.split(CARD_BEGIN, 1)
    card.write_text(before + card_figures(figures) + rest.split(CARD_END, 1)[1])
    ind = figures["induction"]
    fig, ax = plt.subplots(figsize=(7, 2.6), dpi=100)
    ax.plot(range(1, len(ind["losses_seed0"]) + 1), ind["losses_seed0"], lw=1.2)
    ax.axvline(ind["n"] + 0.5, color="gray", ls="--", lw=1)
    ax.set_xlabel("position of the predicted token")
    ax.set_ylabel("loss (nats)")
    ax.set_title(f"<|endoftext|> + r + r, r = {ind['n']} random learned tokens: the second copy is predicted")
    fig.tight_layout()
    fig.savefig(folder / "induction.png", metadata={"Software": None})
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    import hashlib

    from . import hub

    ap = argparse.ArgumentParser(prog="python -m gptviz.evaluate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="folder or name (default: the bundled model)")
    ap.add_argument("--stories", type=int, default=1000, help="validation stories")
    ap.add_argument("--sample", type=int, default=40, help="stories of the small sample the tests re-measure")
    ap.add_argument("--write", action="store_true",
                    help="store the figures in the model folder's metrics.json and on its card (README.md)")
    args = ap.parse_args(argv)

    model = hub.load(args.model, device="cpu")
    figures = evaluate(model, args.stories)
    sample = score_stories(model, generate_stories(args.sample, VAL_SEED))
    figures["sample"] = {"stories": args.sample, "val_loss": round(sample.loss, 4),
                         "name_recall": round(sample.name_recall, 4)}
    folder = Path(model.source)
    figures["file_mb"] = round((folder / "model.safetensors").stat().st_size / 1e6, 1)
    figures["sha256"] = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    if (folder / "training.json").exists():  # written by python -m gptviz.train
        stages = json.loads((folder / "training.json").read_text())["stages"]
        figures["train_seconds"] = sum(st["train_seconds"] for st in stages)
        figures["command"] = " && ".join(st["command"] for st in stages)
    figures["greedy"] = {p: continue_text(model, p) for p in OPENINGS}
    figures["sampled"] = {p: continue_text(model, p, temperature=0.8, seed=i) for i, p in enumerate(OPENINGS[:3])}
    for key, value in figures.items():
        if isinstance(value, dict) and key in ("greedy", "sampled"):
            print(f"\n{key} continuations:")
            for prompt, text in value.items():
                print(f"  {prompt} >>> {text}")
        else:
            print(f"{key}: {value}")
    if args.write:
        (folder / "metrics.json").write_text(json.dumps(figures, indent=1) + "\n")
        write_card(folder, figures)
        print(f"\nwrote {folder / 'metrics.json'}, the figures on {folder / 'README.md'} and {folder / 'induction.png'}")


if __name__ == "__main__":
    main()
