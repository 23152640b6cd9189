"""Find running examples for chapters 3 to 5: short story openings where a name is copied.

    GPTVIZ_MODEL=/path/to/model python tools/find_examples.py [--stories 200] [--max-tokens 48]

Searches the openings (cut at a sentence end) of validation stories, ``generate_stories(N, seed=1)``,
that hold only tokens the model knows (:func:`gptviz.interventions.learned_tokens`). At each place
where the next token is a name already used, it measures (a) the model's probability of that name
and whether it is the top guess, and (b) the weight that chapter 3's copy head (the head with the
most attention on earlier names over the first six validation stories) puts on the earlier
mentions. An opening qualifies when at every such place the name is the top guess with probability
>= ``--min-prob`` and the head's weight is >= ``--min-weight`` on a mention at least two tokens
back (not the token itself nor the one before it). The best openings (most places, then shortest)
are printed with their numbers; chapter 3 asserts the same facts with ``claim()`` when it is built.
"""

from __future__ import annotations

import argparse

import gptviz
from gptviz.corpus import generate_stories, name_positions
from gptviz.evaluate import name_head_scores
from gptviz.interventions import learned_tokens

SENTENCE_ENDS = {".", "!", "?", '."', '!"', '?"'}


def copy_head(model, stories) -> tuple[int, int, float]:
    """Chapter 3's choice: the head with the most attention on the earlier mentions of the coming
    name, averaged over the places in the first six stories (each read after <|endoftext|>)."""
    c = model.config
    score, _ = name_head_scores(model, stories[:6])
    layer, head = divmod(int(score.argmax()), c.n_head)
    return layer, head, float(score[layer, head])


def openings(model, stories, layer: int, head: int, args) -> list[dict]:
    """Every qualifying opening of every story, with the numbers at each of its places."""
    tok, known = model.tokenizer, set(learned_tokens(model).tolist())
    found = []
    for index, story in enumerate(stories):
        ids = tok.encode(story.text)[: args.max_tokens]  # an opening is the story's first tokens (the gate checks the context)
        tr = model.trace(ids, names=[f"blocks.{layer}.attn.pattern", "logits"])
        probs, pattern, tokens = tr["logits"].softmax(-1), tr[f"blocks.{layer}.attn.pattern"][head], tr.tokens
        rows = []
        for t in name_positions(ids, story.name_ids(tok)):
            earlier = [s for s in range(t) if ids[s] == ids[t + 1]]
            rows.append({"t": t, "name": tokens[t + 1], "p": float(probs[t, ids[t + 1]]),
                         "top": int(probs[t].argmax()) == ids[t + 1], "earlier": earlier,
                         "weight": float(pattern[t, earlier].sum()),
                         "far": max((float(pattern[t, s]) for s in earlier if t - s >= 2), default=0.0)})
        for end in range(min(len(ids), args.max_tokens)):
            if tokens[end] not in SENTENCE_ENDS or not set(ids[: end + 1]) <= known:
                continue
            places = [r for r in rows if r["t"] + 1 <= end]
            good = all(r["top"] and r["p"] >= args.min_prob and r["far"] >= args.min_weight for r in places)
            if places and good:
                found.append({"index": index, "n_tokens": end + 1, "text": tok.decode(ids[: end + 1]), "places": places})
    return sorted(found, key=lambda f: (-len({r["name"] for r in f["places"]}), -len(f["places"]), f["n_tokens"]))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="a model folder or name (default: $GPTVIZ_MODEL or the bundled model)")
    parser.add_argument("--stories", type=int, default=200, help="validation stories to search (seed 1)")
    parser.add_argument("--max-tokens", type=int, default=48, help="longest opening, in tokens")
    parser.add_argument("--min-prob", type=float, default=0.9, help="least probability of the name")
    parser.add_argument("--min-weight", type=float, default=0.5, help="least weight of the copy head on one earlier mention")
    parser.add_argument("--show", type=int, default=10, help="how many openings to print")
    args = parser.parse_args(argv)
    model = gptviz.load(args.model)
    stories = generate_stories(args.stories, seed=1)
    layer, head, mean = copy_head(model, stories)
    print(f"copy head: layer {layer}, head {head} ({mean:.2f} on earlier names, on average)")
    for f in openings(model, stories, layer, head, args)[: args.show]:
        print(f"\nstory {f['index']}, first {f['n_tokens']} tokens: {f['text']!r}")
        for r in f["places"]:
            print(f"  after position {r['t']}: {r['name']!r} p={r['p']:.3f} (top guess), head weight "
                  f"{r['weight']:.3f} on {r['earlier']} (largest single mention two or more back: {r['far']:.3f})")


if __name__ == "__main__":
    main()
