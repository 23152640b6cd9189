"""From scores to a choice: softmax, temperature, top-k, top-p, and a seeded draw.

The model's last step gives one score (a *logit*) for each of the 50,257 vocabulary entries. To pick
the next token, gptviz does what Hugging Face's ``generate`` does, in the same order as its logits
warpers (``TemperatureLogitsWarper``, then ``TopKLogitsWarper``, then ``TopPLogitsWarper``):

1. **temperature**: divide every logit by ``T``. ``T < 1`` sharpens the distribution, ``T > 1``
   flattens it; ``T = 0`` is the limit where all the probability goes to the top token (greedy).
2. **top-k**: keep the ``k`` highest scores and every score tied with the ``k``-th; drop the rest.
3. **top-p** (nucleus): keep the smallest set of most probable tokens whose probabilities add up to
   at least ``p`` (always at least one token); drop the rest.

After each stage the kept scores go through a softmax again, so the probabilities sum to 1.
:func:`distribution` records all four stages for one position, over the *full* vocabulary, so a
student can drag a slider and watch the mass move::

    d = distribution(logits, temperature=0.8, top_k=40, tokenizer=model.tokenizer)
    d.top(5)        # [Candidate(id=..., token='␣the', prob=0.31, logit=...), ...]
    d.draw(seed=0)  # one token id, the same on every run

Draws use a private ``torch.Generator``: the global random state is never touched.
"""

from __future__ import annotations

import hashlib
import math
import numbers
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from .errors import InputError

STAGES = ("softmax", "temperature", "top_k", "top_p")
MAX_SEED = 2**64 - 1  # torch.Generator takes seeds up to this
MAX_DRAWS = 1_000_000  # draws() at once: 8 MB of ids


@dataclass(frozen=True)
class Candidate:
    """One vocabulary entry as a candidate for the next token.

    ``token`` is the readable label (``tokenizer.token_str``), or ``""`` without a tokenizer; ``prob``
    its final probability; ``logit`` its raw score (before temperature).
    """

    id: int
    token: str
    prob: float
    logit: float


def check_settings(temperature=1.0, top_k=None, top_p=None) -> tuple[float, int | None, float | None]:
    """Validate sampling settings; return them as ``(float, int or None, float or None)``.

    Raises :class:`~gptviz.errors.InputError` for a temperature that is negative, NaN or infinite, a
    ``top_k`` that is not an integer >= 1, or a ``top_p`` outside (0, 1].
    """
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise InputError(f"temperature must be a number >= 0, got {temperature!r}")
    temperature = float(temperature)
    if not (0.0 <= temperature < math.inf):
        raise InputError(
            f"temperature must be a finite number >= 0 (0 means greedy), got {temperature}: "
            "try 1.0 for the model's own distribution, 0.7 for safer text, 1.5 for wilder text"
        )
    if top_k is not None:
        if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral):
            raise InputError(f"top_k must be a whole number >= 1 (or None for no top-k), got {top_k!r}")
        top_k = int(top_k)
        if top_k < 1:
            raise InputError(f"top_k must be at least 1 (or None for no top-k), got {top_k}: try top_k=40")
    if top_p is not None:
        if isinstance(top_p, bool) or not isinstance(top_p, numbers.Real):
            raise InputError(f"top_p must be a number in (0, 1] (or None for no top-p), got {top_p!r}")
        top_p = float(top_p)
        if not 0.0 < top_p <= 1.0:
            raise InputError(
                f"top_p must be in (0, 1] (or None for no top-p), got {top_p}: it is the probability "
                "mass to keep, e.g. top_p=0.9"
            )
    return temperature, top_k, top_p


def check_seed(seed, allow_none: bool = True) -> int | None:
    """A seed as an int from 0 to 2**64 - 1 (None stays None when allowed); an InputError for a
    bool, a float (1.9 is not rounded to 1: two seeds that behave alike would be recorded apart),
    a string or a number out of range."""
    if seed is None and allow_none:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InputError(f"seed must be a whole number from 0 to 2**64 - 1{' (or None for a random one)' * allow_none}, "
                         f"got {seed!r} ({type(seed).__name__}): e.g. seed=0")
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must be from 0 to 2**64 - 1, got {seed}: e.g. seed=0, or seed % 2**64")
    return int(seed)


def check_logits(logits) -> torch.Tensor:
    """One position's logits as a float32 CPU tensor ``[V]``; InputError for any other shape, for NaN
    or +inf, or when every entry is -inf (-inf alone is allowed: it marks a banned token)."""
    x = torch.as_tensor(logits).detach()
    if x.dim() != 1 or x.numel() == 0:
        raise InputError(
            f"logits must be one position's scores, shape [vocab_size], got shape {list(x.shape)}: "
            "take logits[0, -1] of the model's (B, T, V) output"
        )
    x = x.to("cpu", torch.float32).contiguous()
    xn = x.numpy()
    if np.isnan(xn).any():
        raise InputError("logits contain NaN: the model's output is broken (check the weights and the input)")
    if np.isposinf(xn).any():
        raise InputError("logits contain +inf: scores must be finite (or -inf for a banned token)")
    if np.isneginf(xn).all():
        raise InputError("every logit is -inf: at least one token must stay possible")
    return x


class Distribution:
    """The next-token distribution at one position, after each sampling stage.

    Attributes (``V`` = vocabulary size):

    - ``logits`` ``[V]`` float32: the raw scores.
    - ``temperature``, ``top_k``, ``top_p``, ``greedy``: the settings (``top_k`` as given, before
      clamping to ``V``).
    - ``stages``: ``{"softmax", "temperature", "top_k", "top_p"}`` -> ``[V]`` probabilities after
      each stage, renormalised; ``"softmax"`` is the raw distribution (``T = 1``). A stage that is off
      is the same tensor as the one before it.
    - ``probs`` ``[V]``: the final probabilities (the last stage), or, when ``greedy``, a one-hot on the
      argmax of the logits (the stages then still show what sampling would do).
    - ``kept`` (ids with non-zero final probability, most probable first), ``n_kept``.
    - ``mass_cut``: probability mass of the temperature stage that top-k and top-p removed.
    - ``entropy``: of the final probabilities, in nats.

    The element-wise work runs in NumPy (one thread): on a busy machine torch's threaded kernels cost
    more to start than the 50,257-entry arrays take to process. Softmax and cumulative sums use
    torch's kernels, so every number equals Hugging Face's bit for bit.
    """

    def __init__(self, logits: torch.Tensor, temperature: float, top_k: int | None, top_p: float | None,
                 greedy: bool, tokenizer=None):
        self.logits = logits
        self.temperature, self.top_k, self.top_p = temperature, top_k, top_p
        self.greedy = bool(greedy) or temperature == 0.0
        self.tokenizer = tokenizer
        x = logits.numpy()
        V = x.size
        self.stages: dict[str, torch.Tensor] = {"softmax": _softmax(x)}
        removed = np.zeros(V, dtype=bool)  # dropped by top-k or top-p
        one_hot = _one_hot(x) if self.greedy else None
        if temperature == 0.0:
            # The T -> 0 limit: all the mass on the top token; top-k and top-p keep it.
            self.stages.update(temperature=one_hot, top_k=one_hot, top_p=one_hot)
        else:
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # reported just below
                scaled = x if temperature == 1.0 else x / np.float32(temperature)  # float32, as torch divides
            if not np.array_equal(np.isfinite(scaled), np.isfinite(x)):
                # x / T overflowed to +-inf (or T rounds to 0 in float32): the softmax would be NaN
                # and a draw could fall outside the vocabulary.
                raise InputError(
                    f"temperature {temperature:g} is too small for these logits (dividing by it overflows "
                    "float32): use temperature=0 for greedy decoding, its limit"
                )
            self.stages["temperature"] = self.stages["softmax"] if temperature == 1.0 else _softmax(scaled)
            k_on = top_k is not None and top_k < V  # top-k larger than the vocabulary keeps everything
            p_on = top_p is not None and top_p < 1.0
            ascending = np.sort(scaled) if k_on or p_on else None  # the one sort
            if k_on:
                removed = scaled < ascending[V - top_k]  # HF: below the k-th highest score; ties stay
                ascending[: np.count_nonzero(removed)] = -np.inf  # the removed scores are the lowest
                self.stages["top_k"] = _softmax(scaled, removed)
            else:
                self.stages["top_k"] = self.stages["temperature"]
            if p_on:
                removed = removed | _top_p_removed(scaled, removed, ascending, top_p)
                self.stages["top_p"] = _softmax(scaled, removed)
            else:
                self.stages["top_p"] = self.stages["top_k"]
        self.probs = one_hot if self.greedy else self.stages["top_p"]
        p = self.probs.numpy()
        self.n_kept = int(np.count_nonzero(p))
        self.mass_cut = float(self.stages["temperature"].numpy()[removed].sum(dtype=np.float64))
        self.entropy = float(entropy(self.probs))

    @cached_property
    def kept(self) -> torch.Tensor:
        """Ids with non-zero final probability ``[n_kept]``, most probable first (ties: higher logit,
        then lower id)."""
        p = self.probs.numpy()
        return _ranked(p, self.logits.numpy(), p > 0, self.n_kept)

    @cached_property
    def by_logit(self) -> np.ndarray:
        """Every id ``[V]`` in order of logit, highest first: :func:`logit_order` of the logits."""
        return logit_order(self.logits)

    def n_left(self, stage: str) -> int:
        """How many tokens does ``stage`` (a key of :attr:`stages`) leave a non-zero probability?"""
        if stage not in self.stages:
            raise InputError(f"stage must be one of {', '.join(map(repr, self.stages))}, got {stage!r}")
        return int(np.count_nonzero(self.stages[stage].numpy()))

    def cumulative(self, n: int) -> np.ndarray:
        """``[n]`` float64: the temperature stage's probabilities summed along :attr:`by_logit`, over its
        first ``n`` ids: what top-p compares with ``p``."""
        return np.cumsum(self.stages["temperature"].numpy().astype(np.float64)[self.by_logit[:n]])

    def top(self, n: int = 10) -> list[Candidate]:
        """Which tokens did the model consider for this position? The ``n`` most probable, by final
        probability; tokens with equal final probability (such as those cut by top-k or top-p, all at 0)
        follow in logit order, which is the temperature stage's order."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise InputError(f"top(n) takes a whole number of candidates, got {n!r}: e.g. top(10)")
        p, x = self.probs.numpy(), self.logits.numpy()
        n = max(0, min(int(n), x.size))
        ids = _ranked(p, x, p > 0, n)
        if len(ids) < n:
            ids = torch.cat([ids, _ranked(x, x, p == 0, n - len(ids))])
        tok = self.tokenizer
        return [Candidate(i, tok.token_str(i) if tok is not None else "", float(p[i]), float(x[i]))
                for i in ids.tolist()]

    def draw(self, seed: int | None = None) -> int:
        """One token id drawn from ``probs``; the same ``seed`` gives the same id on every run."""
        return int(self.draws(1, seed)[0])

    def draws(self, n: int, seed: int | None = None) -> torch.Tensor:
        """``n`` independent draws ``[n]`` (int64) by inverse-CDF sampling with a private generator
        (seeded with ``seed``, or from the operating system when None)."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 0 <= n <= MAX_DRAWS:
            raise InputError(f"draws(n) takes a whole number of draws from 0 to {MAX_DRAWS:,}, got {n!r}: "
                             "e.g. draws(100)")
        seed = check_seed(seed)
        p = self.probs.numpy()
        if self.greedy:
            return torch.full((n,), greedy_id(p), dtype=torch.long)
        gen = torch.Generator()
        if seed is None:
            gen.seed()
        else:
            gen.manual_seed(int(seed))
        cdf = np.cumsum(p, dtype=np.float64)  # [V]
        total = float(cdf[-1])
        u = torch.rand(n, dtype=torch.float64, generator=gen).numpy() * total
        np.minimum(u, math.nextafter(total, 0.0), out=u)  # strictly below the total
        # The first index whose cumulative sum exceeds u: a token with zero probability never qualifies.
        return torch.from_numpy(np.searchsorted(cdf, u, side="right").astype(np.int64))

    def __repr__(self) -> str:
        settings = "greedy" if self.greedy else f"T={self.temperature:g}, top_k={self.top_k}, top_p={self.top_p}"
        return (f"Distribution(V={self.logits.numel()}, {settings}: {self.n_kept} tokens kept, "
                f"mass cut {self.mass_cut:.3f}, entropy {self.entropy:.3f} nats)")


def distribution(logits, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                 greedy: bool = False, tokenizer=None) -> Distribution:
    """Which token comes next, and with what probability? From one position's logits ``[V]``.

    Temperature, then top-k, then top-p, in the order of Hugging Face's logits warpers, over the full
    vocabulary. ``temperature=0`` means greedy (the same as ``greedy=True``): all the probability on
    the highest logit (the lowest id among exact ties, like ``argmax``). ``top_k`` larger than the
    vocabulary is clamped to it (keeps everything); ``top_p=1.0`` keeps everything. Top-p keeps the
    smallest set of most probable tokens whose cumulative probability reaches ``top_p`` (at least
    one); among tokens tied exactly at that boundary the lower ids are kept first (Hugging Face
    leaves this to an unstable sort). ``tokenizer`` labels the candidates of :meth:`Distribution.top`.

    Raises :class:`~gptviz.errors.InputError` for logits that are not 1-D or hold NaN, and for bad
    settings (see :func:`check_settings`).
    """
    logits = check_logits(logits)
    temperature, top_k, top_p = check_settings(temperature, top_k, top_p)
    return Distribution(logits, temperature, top_k, top_p, greedy, tokenizer)


def step_seed(seed: int, position: int) -> int:
    """A seed for the draw at ``position`` of a generation seeded with ``seed``.

    Each draw depends only on ``(seed, position)``, so undoing a step and stepping again, or running
    the same generation twice, picks the same tokens.
    """
    seed = check_seed(seed, allow_none=False)
    digest = hashlib.blake2b(f"{int(seed)}/{int(position)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1  # 63 bits


def _softmax(scores: np.ndarray, removed: np.ndarray | None = None) -> torch.Tensor:
    """Softmax ``[V]`` of the scores, with the ``removed`` ones (bool mask) at probability 0."""
    if removed is not None:
        scores = scores.copy()
        scores[removed] = -np.inf
    return torch.softmax(torch.from_numpy(scores), dim=-1)


def greedy_id(logits) -> int:
    """The greedy choice: the id of the highest score (the lowest id among exact ties, as
    ``torch.argmax`` and Hugging Face's greedy search choose)."""
    return int(np.argmax(np.asarray(logits)))


def _one_hot(logits: np.ndarray) -> torch.Tensor:
    """``[V]`` probabilities with all the mass on :func:`greedy_id`."""
    probs = np.zeros(logits.size, dtype=np.float32)
    probs[greedy_id(logits)] = 1.0
    return torch.from_numpy(probs)


def _top_p_removed(scaled: np.ndarray, removed: np.ndarray, ascending: np.ndarray, top_p: float) -> np.ndarray:
    """The tokens top-p drops ``[V]`` (bool), given the scores, those already removed by top-k, and
    the scores sorted ascending with the removed ones at -inf.

    Computed as ``TopPLogitsWarper`` does: cumulative probabilities from the least probable token up;
    tokens whose cumulative sum is <= 1 - top_p are dropped, the most probable one never. As the sums
    only grow, the dropped tokens are the lowest ones; exact ties at the boundary are split by id.
    """
    cumulative = torch.softmax(torch.from_numpy(ascending), dim=-1).cumsum(dim=-1).numpy()  # [V]
    drop = cumulative <= np.float32(1 - top_p)  # torch compares in float32 too
    drop[-1] = False
    n_keep = ascending.size - int(np.count_nonzero(drop))
    boundary = ascending[-n_keep]  # the lowest kept score
    keep = (scaled > boundary) & ~removed
    tied = np.flatnonzero((scaled == boundary) & ~removed)
    keep[tied[: n_keep - int(np.count_nonzero(keep))]] = True
    return ~keep


def _ranked(primary: np.ndarray, secondary: np.ndarray, mask: np.ndarray, n: int) -> torch.Tensor:
    """Up to ``n`` ids where ``mask`` holds, ordered by ``primary`` (descending), then ``secondary``
    (descending), then id (ascending)."""
    ids = np.flatnonzero(mask)  # ascending ids
    if n <= 0:
        return torch.zeros(0, dtype=torch.long)
    if n < len(ids):
        values = primary[ids]
        nth_largest = np.partition(values, len(ids) - n)[len(ids) - n]
        ids = ids[values >= nth_largest]  # the n largest, with any ties
    order = np.lexsort((ids, -secondary[ids], -primary[ids]))  # the last key sorts first
    return torch.from_numpy(ids[order[:n]].astype(np.int64))


def logit_order(logits) -> np.ndarray:
    """Every id ``[V]`` of ``logits`` ``[V]`` in order of logit, highest first (equal logits: lower id
    first). Every stage of :func:`distribution` keeps this order except where it cuts (a cut token's
    probability falls to 0), whatever the settings, so it is the x-axis of the candidates' pictures."""
    return np.argsort(-torch.as_tensor(logits).numpy(), kind="stable")


def count_draws(draws, vocab_size: int, n: int = 15) -> tuple[np.ndarray, np.ndarray, int]:
    """How often did each token come up? For ``draws`` ``[N]`` token ids (e.g.
    :meth:`Distribution.draws`), ``(counts [vocab_size], ids, n_distinct)``: ``ids`` the ``n`` most
    drawn tokens (at most the distinct ones), most often first, equal counts in order of id;
    ``n_distinct`` how many different tokens came up."""
    d = draws.numpy() if isinstance(draws, torch.Tensor) else np.asarray(draws)
    if d.ndim != 1 or (d.size and (d.min() < 0 or d.max() >= vocab_size)):
        raise InputError(f"draws must be token ids [N] between 0 and {vocab_size - 1}, got shape {list(d.shape)}")
    counts = np.bincount(d.astype(np.int64), minlength=vocab_size)
    drawn = np.flatnonzero(counts)
    return counts, drawn[np.lexsort((drawn, -counts[drawn]))][:n], int(drawn.size)


def top_ids(p: np.ndarray, k: int) -> np.ndarray:
    """The ids of the ``k`` largest entries of ``p`` (ties broken by the lower id), in linear time:
    only the entries at least as large as the k-th are sorted."""
    kth = np.partition(p, p.size - k)[p.size - k]
    candidates = np.flatnonzero(p >= kth)
    return candidates[np.lexsort((candidates, -p[candidates]))][:k]


def top_union(before: np.ndarray, after: np.ndarray, k: int) -> np.ndarray:
    """Ids of the tokens among the ``k`` most probable of ``before`` or of ``after`` (both ``[V]``),
    most probable before first (ties by id)."""
    ids = np.union1d(top_ids(before, k), top_ids(after, k))
    return ids[np.lexsort((ids, -before[ids]))]


def entropy(probs) -> torch.Tensor:
    """The entropy, in nats, of each distribution ``probs`` ``[..., V]`` (rows summing to 1; a zero
    probability adds nothing), in float64: ``[...]``. ``ln V`` for an even spread over ``V`` tokens, 0
    for a distribution certain of one token. :attr:`Distribution.entropy` is this of its final probabilities."""
    p = torch.as_tensor(probs).double()
    return -torch.where(p > 0, p * p.log(), 0.0).sum(-1) + 0.0  # + 0.0: no "-0.0" when one-hot
