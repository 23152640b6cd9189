"""How good is the bundled model? Losses, name copying, unseen-token mass and sample stories.

    python -m gptviz.evaluate            # prints the figures for the bundled model
    python -m gptviz.evaluate --write    # ... and stores them in the model's metrics.json

Every figure is measured on validation stories, generated with a different seed from the training
stories (:data:`gptviz.train.VAL_SEED`), each read on its own after an ``<|endoftext|>`` token:

* **loss**: mean cross-entropy of the next token, in nats, over the full 50,257-token vocabulary;
* **unigram loss**: the same for a model that ignores context and predicts each token with its
  frequency in the training stories (the bar that any use of context must clear);
* **name recall**: at every position where the next token is the name of a character the story
  has already named, how often the model's top prediction is that name (copying from context);
* **unseen mass**: the probability the model gives to tokens that never occur in the training
  stories (the restricted-softmax training of :mod:`gptviz.train` must leave it tiny).
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from .corpus import Story, generate_stories, name_positions
from .model import GPT
from .tokenizer import EOT_ID
from .train import TRAIN_SEED, VAL_SEED

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

    @property
    def loss(self) -> float:
        return self.loss_sum / self.tokens

    @property
    def name_recall(self) -> float:
        return self.name_hits / self.name_positions

    @property
    def unseen_mass(self) -> float:
        return self.unseen_sum / self.tokens


def story_ids(story: Story, tokenizer) -> list[int]:
    """``<|endoftext|>``, the story's tokens, ``<|endoftext|>``: how the model meets a story in training."""
    return [EOT_ID] + tokenizer.encode(story.text) + [EOT_ID]


def unseen_token_ids(model: GPT) -> torch.Tensor:
    """Ids whose embedding row is the shared "unseen" row: the tokens the training stories never use
    (the trainer copies one learned row into all of them; see :mod:`gptviz.train`)."""
    rows, inverse, counts = torch.unique(model.wte.weight.detach().cpu(), dim=0, return_inverse=True,
                                         return_counts=True)
    return (inverse == counts.argmax()).nonzero().squeeze(1)


@torch.no_grad()
def score_stories(model: GPT, stories: list[Story], edits=None) -> StoryScores:
    """Loss, name recall and unseen mass of ``model`` on ``stories`` (each run on its own).

    ``edits``: as :meth:`GPT.trace` takes them, applied to every story's run; e.g.
    ``ablation_edits(model, heads=[(1, 2)])`` scores the model with that head switched off."""
    tok, scores = model.tokenizer, StoryScores()
    unseen = torch.zeros(model.config.vocab_size, dtype=torch.bool)
    unseen[unseen_token_ids(model)] = True
    for story in stories:
        ids = story_ids(story, tok)[: model.config.n_ctx + 1]
        if edits is None:
            logits = model(torch.tensor(ids[:-1], device=model.device))[0].float().cpu()  # (T, V)
        else:
            logits = model.trace(ids[:-1], names=["logits"], edits=edits)["logits"]  # [T, V]
        targets = torch.tensor(ids[1:])
        scores.loss_sum += F.cross_entropy(logits, targets, reduction="sum").item()
        scores.tokens += len(targets)
        mass = logits.softmax(-1)[:, unseen].sum(-1)  # (T,)
        scores.unseen_sum += mass.sum().item()
        scores.unseen_max = max(scores.unseen_max, mass.max().item())
        positions = name_positions(ids, story.name_ids(tok))
        best = logits.argmax(-1)
        scores.name_hits += sum(int(best[t] == ids[t + 1]) for t in positions)
        scores.name_positions += len(positions)
    return scores


@torch.no_grad()
def name_head_scores(model: GPT, stories: list[Story]) -> tuple[torch.Tensor, int]:
    """``[n_layer, n_head]``: at every position where the next token is a name the story has already
    used, the attention each head pays to the earlier occurrences of that name, averaged; and the
    number of such positions. Stories longer than the context are left out."""
    tok, L = model.tokenizer, model.config.n_layer
    score, count = torch.zeros(L, model.config.n_head), 0
    for story in stories:
        ids = tok.encode(story.text)
        if len(ids) > model.config.n_ctx:
            continue
        tr = model.trace(ids, names="blocks.*.attn.pattern")
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


def continue_text(model: GPT, prompt: str, max_new_tokens: int = 60, temperature: float = 0.0,
                  seed: int = 0) -> str:
    """The prompt's continuation after ``<|endoftext|>`` (how the model meets a story), greedy
    (``temperature=0``) or sampled with ``seed``, stopping at ``<|endoftext|>`` (left out) or when the
    context is full: :func:`gptviz.generation.generate`, whose steps every generation shares."""
    from .generation import generate

    out = generate(model, [EOT_ID] + model.tokenizer.encode(prompt), max_new_tokens=max_new_tokens,
                   temperature=temperature, seed=seed)
    new = out.new_ids[:-1] if out.stop_reason == "eos" else out.new_ids
    return model.tokenizer.decode(new)


def evaluate(model: GPT, n_val: int = 1000, n_train_for_unigram: int = 20000) -> dict:
    """Every figure of the model card, as a dict (see the module docstring)."""
    from .corpus import encode_stories

    val = generate_stories(n_val, VAL_SEED)
    scores = score_stories(model, val)
    tok = model.tokenizer
    unigram = unigram_loss(encode_stories(generate_stories(n_train_for_unigram, TRAIN_SEED), tok),
                           [i for s in val for i in story_ids(s, tok)[1:]])
    return {
        "val_stories": n_val,
        "val_tokens": scores.tokens,
        "val_loss": round(scores.loss, 4),
        "unigram_loss": round(unigram, 4),
        "name_recall": round(scores.name_recall, 4),
        "name_positions": scores.name_positions,
        "unseen_mass_mean": float(f"{scores.unseen_mass:.3g}"),
        "unseen_mass_max": float(f"{scores.unseen_max:.3g}"),
        "unseen_tokens": len(unseen_token_ids(model)),
        "n_params": model.config.n_params,
    }


def main(argv: list[str] | None = None) -> None:
    from . import hub

    ap = argparse.ArgumentParser(prog="python -m gptviz.evaluate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="folder or name (default: the bundled model)")
    ap.add_argument("--stories", type=int, default=1000, help="validation stories")
    ap.add_argument("--sample", type=int, default=40, help="stories of the small sample the tests re-measure")
    ap.add_argument("--write", action="store_true", help="store the figures in the model folder's metrics.json")
    args = ap.parse_args(argv)

    model = hub.load(args.model, device="cpu")
    figures = evaluate(model, args.stories)
    sample = score_stories(model, generate_stories(args.sample, VAL_SEED))
    figures["sample"] = {"stories": args.sample, "val_loss": round(sample.loss, 4),
                         "name_recall": round(sample.name_recall, 4)}
    folder = Path(model.source)
    figures["file_mb"] = round((folder / "model.safetensors").stat().st_size / 1e6, 1)
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
        print(f"\nwrote {folder / 'metrics.json'}")


if __name__ == "__main__":
    main()
