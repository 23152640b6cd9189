"""Ways of picking the next token, side by side: the same prompt and seed under each setting.

:data:`SETTINGS` names the settings a chapter compares: greedy, sampling from the full distribution
(every one of the 50,257 tokens can come out, each with the probability the model gives it), top-k
= 40, and the full distribution at three temperatures. :func:`side_by_side` generates one text per
setting; :func:`repeated_share` measures how much a text repeats itself (the share of its n-token
phrases that already came earlier), which is where greedy decoding differs most: the same context
always gives the same pick, so a context like an earlier one brings the same words back.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from .errors import InputError
from .generation import Generation, generate
from .loss import next_token_loss

#: Each setting as :func:`gptviz.generation.generate` takes it; temperature 1 without top-k or top-p
#: is the full, untruncated distribution.
SETTINGS: dict[str, dict] = {
    "greedy": {"temperature": 0},
    "full distribution": {},
    "top-k 40": {"top_k": 40},
    "temperature 0.5": {"temperature": 0.5},
    "temperature 0.8": {"temperature": 0.8},
    "temperature 1.5": {"temperature": 1.5},
}


def repeated_share(ids, start: int = 0, n: int = 4) -> float:
    """Which share of the n-token phrases that end at positions ``start`` onward of ``ids`` already
    occurred earlier in ``ids`` (from its beginning)? 0 for a text that never repeats a phrase of
    ``n`` tokens, near 1 for one caught in a loop. ``ids``: a list of token ids."""
    ids = list(ids)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"n must be a whole number of tokens >= 1, got {n!r}")
    first = max(start, n - 1)
    if first >= len(ids):
        raise InputError(f"no {n}-token phrase ends at position {start} or later in {len(ids)} tokens: "
                         "pass a longer text or a smaller start")
    seen, repeats = set(), 0
    for end in range(n - 1, len(ids)):
        phrase = tuple(ids[end - n + 1:end + 1])
        repeats += end >= first and phrase in seen
        seen.add(phrase)
    return repeats / (len(ids) - first)


@dataclass
class Row:
    """One setting's text: its name, its settings, the :class:`~gptviz.generation.Generation`,
    :func:`repeated_share` of the new tokens (phrases of ``n`` tokens), and ``surprisal``: the mean
    loss (nats per token) of the new tokens under the model's own, untouched distribution: how
    unlikely the words the setting picked are."""

    name: str
    settings: dict
    generation: Generation
    repeated: float
    surprisal: float


def side_by_side(model, prompt, max_new_tokens: int = 40, seed: int = 0, settings: dict | None = None,
                 stop_at_eos: bool = True, n: int = 4) -> list[Row]:
    """One generation per setting (default :data:`SETTINGS`), all from ``prompt`` with the same
    ``seed``, so only the way of picking differs. ``stop_at_eos=False`` writes on past
    ``<|endoftext|>`` until ``max_new_tokens`` or the context is full."""
    rows = []
    for name, kwargs in (SETTINGS if settings is None else settings).items():
        out = generate(model, prompt, max_new_tokens=max_new_tokens, seed=seed, stop_at_eos=stop_at_eos, **kwargs)
        ids = out.prompt_ids + out.new_ids
        logits = model.run(ids, names=["logits"])["logits"]  # [len(ids), V]
        losses = next_token_loss(logits[:-1], ids[1:], reduction="none")  # [len(ids) - 1]: entry t scores ids[t + 1]
        rows.append(Row(name, dict(kwargs), out, repeated_share(ids, len(out.prompt_ids), n),
                        losses[len(out.prompt_ids) - 1:].mean().item()))
    return rows


def format_rows(rows: list[Row], width: int = 100) -> str:
    """The rows as a plain-text table: setting, surprisal (nats per token), repeated share, and the new
    text wrapped to ``width``."""
    name_w = max(len(r.name) for r in rows)
    lines = [f"{'setting':{name_w}}  nats  repeated  text"]
    for r in rows:
        wrapped = textwrap.wrap(r.generation.new_text.replace("\n", " ⏎ "), width) or [""]
        lines.append(f"{r.name:{name_w}}  {r.surprisal:4.2f}  {r.repeated:8.0%}  {wrapped[0]}")
        lines += [" " * (name_w + 18) + more for more in wrapped[1:]]
    return "\n".join(lines)


def longest_repeat(ids) -> tuple[int, int, int]:
    """The longest run of tokens that occurs twice in ``ids``: ``(length, first, second)``, the
    start positions of its first and second occurrence, which may overlap (``(0, 0, 0)`` when no
    token repeats)."""
    ids = list(ids)
    best = (0, 0, 0)
    run = [0] * (len(ids) + 1)  # run[j + 1]: length of the common run ending at i (row) and j (column)
    for i in range(len(ids)):
        previous, run = run, [0] * (len(ids) + 1)
        for j in range(i):
            if ids[i] == ids[j]:
                run[j + 1] = previous[j] + 1
                if run[j + 1] > best[0]:
                    best = (run[j + 1], j - run[j + 1] + 1, i - run[j + 1] + 1)
    return best
