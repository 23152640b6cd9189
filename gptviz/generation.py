"""Generation: score, pick, feed the pick back, repeat.

GPT-2 writes one token at a time. The logits at the last position become a probability for every
vocabulary entry (:mod:`gptviz.sampling`); one token is picked and appended, and the model reads it
to score the position after. Tokens already read are never read again: each layer keeps their keys
and values in a :class:`~gptviz.kvcache.KVCache`, so a step computes the new token only (GPT-2 does not
re-interpret earlier tokens). Generation stops when the model picks ``<|endoftext|>`` (unless
``stop_at_eos=False``), after ``max_new_tokens``, or when the context is full.

:class:`Stepper` runs the loop one step at a time, for a notebook button, and can step back;
:func:`generate` runs a Stepper to the end, so there is one step (:meth:`Stepper.step`) for both. Every draw is seeded by ``(seed, position)`` (see
:func:`~gptviz.sampling.step_seed`), so stepping back and forward again, or generating twice with
the same seed, gives the same tokens. With no prompt, generation starts from ``<|endoftext|>``: an
unconditional sample, the start of a new document.
"""

from __future__ import annotations

import numbers
import secrets
from dataclasses import dataclass

from .errors import InputError
from .inputs import check_flag
from .kvcache import KVCache
from .sampling import Distribution, check_seed, check_settings, distribution, step_seed
from .tokenizer import EOT_ID
from .trace import Trace, run


@dataclass
class Generation:
    """The result of :func:`generate`.

    ``text`` is the decoded prompt and continuation (it starts with ``<|endoftext|>`` when there was
    no prompt, and ends with it when the model chose to stop); ``new_text`` the continuation alone.
    ``stop_reason`` is ``"eos"`` (the model picked ``<|endoftext|>``, the last of ``new_ids``),
    ``"max_new_tokens"`` or ``"context_full"``. ``seed`` is the seed of the draws (chosen at random
    when none was given: pass it back to repeat the run; None for a greedy run without one).
    ``dropped`` counts the prompt tokens cut off by ``truncate=True``.
    """

    prompt_ids: list[int]
    new_ids: list[int]
    text: str
    new_text: str
    stop_reason: str
    seed: int | None = None
    dropped: int = 0

    def __str__(self) -> str:
        return self.text


@dataclass
class Step:
    """One generation step: the token picked at ``position``, the distribution it was drawn from, and
    (``record=True``) the new token's :class:`~gptviz.trace.Trace`, its path through every layer (its
    queries cover one position; keys, values and patterns span the whole cache). ``cache_len``: rows in
    the cache after this step (the new token included, unless the step reached ``max_new_tokens``)."""

    position: int
    token_id: int
    token: str
    distribution: Distribution
    trace: Trace | None
    cache_len: int


def generate(model, prompt=None, max_new_tokens: int = 50, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, seed: int | None = None, stop_at_eos: bool = True,
             greedy: bool = False, use_cache: bool = True, truncate: bool = False,
             allow_special: bool = False, bos: bool = False) -> Generation:
    """Continue ``prompt`` (a string, a list or 1-D tensor of token ids, or None for an unconditional
    sample from ``<|endoftext|>``) by up to ``max_new_tokens`` tokens.

    Sampling settings as in :func:`gptviz.sampling.distribution` (``temperature=0`` or ``greedy=True``:
    always the top token). ``seed`` (a whole number from 0 to 2**64 - 1) makes the run repeatable;
    the global random state is not used. ``use_cache=False`` re-reads the whole sequence at every
    step (same tokens, slower: the difference the cache makes). A prompt that leaves no room for a
    new token in the context raises InputError; with ``truncate=True`` only its last tokens are kept,
    as many as leave room for ``max_new_tokens`` (at least one token of prompt), and
    ``Generation.dropped`` says how many went. A string prompt is read by the gate
    (:func:`gptviz.inputs.read_input`): ``allow_special=True`` reads a literal ``<|endoftext|>`` in it
    as the document boundary; ids may hold 50256 freely. ``bos=True`` reads ``<|endoftext|>`` before
    the prompt (as the model met every training document; no prompt always starts there).

    It runs a :class:`Stepper` to the end: the two share every step.
    """
    max_new_tokens = _check_count(max_new_tokens)
    room = min(max_new_tokens, model.config.n_ctx - 1) if check_flag(truncate, "truncate") else 1
    stepper = Stepper(model, prompt, temperature, top_k, top_p, seed=seed, greedy=greedy, stop_at_eos=stop_at_eos,
                      truncate=truncate, room=room, use_cache=use_cache, allow_special=allow_special,
                      max_new_tokens=max_new_tokens, keep_steps=False, bos=bos)
    while not stepper.stopped:
        stepper.step()
    tok = model.tokenizer
    prompt_ids, new_ids = stepper.ids[: stepper.prompt_len], stepper.ids[stepper.prompt_len:]
    return Generation(prompt_ids, new_ids, tok.decode(stepper.ids), tok.decode(new_ids), stepper.stop_reason,
                      stepper.seed if not stepper.greedy else seed, stepper.dropped)


class Stepper:
    """Generation one step at a time: ``step()`` picks and reads one token, ``back()`` undoes it,
    ``reset()`` returns to the prompt; iterating yields steps until generation stops.

    The prompt is read once, at construction, by :func:`gptviz.trace.run` (the gate; ``bos=True``
    reads ``<|endoftext|>`` first; None is ``<|endoftext|>`` alone). Each step draws from the current distribution with the seed
    of ``(seed, position)``, appends the token and reads it (one new row per layer in ``cache``),
    which gives the next distribution. ``back()`` followed by ``step()`` picks the same token again,
    as long as the settings (public attributes ``temperature``, ``top_k``, ``top_p``, ``greedy``,
    ``seed``) are unchanged. ``record=True`` keeps each new token's trace in ``Step.trace``. A prompt
    must leave room for one new token; ``truncate=True`` keeps its last ``n_ctx - room`` tokens, room
    for ``room`` new ones (``dropped`` says how many went). ``max_new_tokens`` (default: no limit but
    the context) stops after that many; the step that reaches it does not read its token, as nothing
    comes after it. ``use_cache=False`` re-reads the whole sequence at each step (``cache`` is then
    None). ``keep_steps=False`` keeps no :class:`Step` (each holds a whole distribution): what
    :func:`generate` runs, with nothing to step back to.

    State: ``ids`` (prompt and picks), ``prompt_len``, ``text``, ``steps``, ``cache`` (holds every id
    read), ``stopped``, ``stop_reason`` (``"eos"``, ``"context_full"``, ``"max_new_tokens"`` or None).
    """

    def __init__(self, model, prompt=None, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, seed: int | None = 0, greedy: bool = False,
                 stop_at_eos: bool = True, record: bool = False, truncate: bool = False, room: int = 1,
                 use_cache: bool = True, allow_special: bool = False, max_new_tokens: int | None = None,
                 keep_steps: bool = True, bos: bool = False):
        self.temperature, self.top_k, self.top_p = check_settings(temperature, top_k, top_p)
        self.greedy = check_flag(greedy, "greedy") or self.temperature == 0.0
        seed = check_seed(seed)
        self.seed = secrets.randbits(63) if seed is None else seed
        self.stop_at_eos, self.record = check_flag(stop_at_eos, "stop_at_eos"), check_flag(record, "record")
        self.keep_steps = check_flag(keep_steps, "keep_steps")
        self.max_new_tokens = None if max_new_tokens is None else _check_count(max_new_tokens)
        if isinstance(room, bool) or not isinstance(room, numbers.Integral) or room < 1:  # the gate checks the top
            raise InputError(f"room={room!r}: keep between 1 and {model.config.n_ctx - 1} positions free "
                             "for new tokens")
        self.model = model
        self.cache = KVCache(model.config.n_layer) if check_flag(use_cache, "use_cache") else None
        read = run(model, [] if prompt is None else prompt, names=["logits"], cache=self.cache,
                   bos=prompt is None or check_flag(bos, "bos"), allow_special=allow_special, room=room,
                   truncate=check_flag(truncate, "truncate"), what="prompt")
        self.dropped = read.dropped
        self.prompt_len = len(read.ids)
        self.ids = list(read.ids)
        self._prompt_logits = read["logits"][-1].clone()
        self.reset()

    def reset(self) -> None:
        """Back to the state right after reading the prompt (the prompt is not read again)."""
        if self.cache is not None:
            self.cache.truncate(self.prompt_len)
        self.ids = self.ids[: self.prompt_len]
        self.steps: list[Step] = []
        self._logits = self._prompt_logits
        self.stopped, self.stop_reason = False, None

    @property
    def text(self) -> str:
        """The prompt and every token picked so far, decoded."""
        return self.model.tokenizer.decode(self.ids)

    def step(self) -> Step:
        """Pick the next token, append it and read it: the one step of generation. Raises InputError
        once generation has stopped."""
        if self.stopped:
            raise InputError(f"Generation has stopped ({self.stop_reason}): call back() to undo the last "
                             "step or reset() to start again from the prompt")
        model, position = self.model, len(self.ids)
        dist = distribution(self._logits, self.temperature, self.top_k, self.top_p, self.greedy, model.tokenizer)
        token = dist.draw(None if dist.greedy else step_seed(self.seed, position))
        self.ids.append(token)
        self.stop_reason = _stop_reason(token, len(self.ids), model.config.n_ctx, self.stop_at_eos,
                                        len(self.ids) - self.prompt_len, self.max_new_tokens)
        self.stopped = self.stop_reason is not None
        recorded = None
        if self.stop_reason != "max_new_tokens":
            read = run(model, [token] if self.cache is not None else self.ids, cache=self.cache,
                       names=None if self.record else ["logits"])
            recorded = read if self.record else None
            self._logits = read["logits"][-1].clone()
        step = Step(position, token, model.tokenizer.token_str(token), dist, recorded,
                    len(self.cache) if self.cache is not None else len(self.ids))
        if self.keep_steps:
            self.steps.append(step)
        return step

    def back(self) -> None:
        """Undo the last step: forget its token and its cache rows."""
        if not self.steps:
            raise InputError("There is no step to undo: the Stepper is at its prompt")
        last = self.steps.pop()
        self.ids.pop()
        if self.cache is not None:
            self.cache.truncate(len(self.ids))
        self._logits = last.distribution.logits
        self.stopped, self.stop_reason = False, None

    def cache_rows(self) -> dict:
        """How the cache was built: ``reused`` rows (positions read before the last forward pass),
        ``new`` rows (added by it: the whole prompt at first, then one per step), ``total`` and
        ``n_ctx`` (the most it can hold)."""
        if self.cache is None:
            raise InputError("This Stepper keeps no cache (use_cache=False): make one with use_cache=True")
        new = 1 if self.steps else self.prompt_len
        total = len(self.cache)
        return {"reused": total - new, "new": new, "total": total, "n_ctx": self.model.config.n_ctx}

    def __iter__(self):
        while not self.stopped:
            yield self.step()

    def __repr__(self) -> str:
        state = f"stopped: {self.stop_reason}" if self.stopped else "running"
        return f"Stepper({self.prompt_len} prompt + {len(self.ids) - self.prompt_len} new tokens, {state})"


def _check_count(max_new_tokens) -> int:
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, numbers.Integral) or max_new_tokens < 1:
        raise InputError(f"max_new_tokens must be a whole number >= 1, got {max_new_tokens!r}: e.g. max_new_tokens=50")
    return int(max_new_tokens)


def _stop_reason(token: int, n_ids: int, n_ctx: int, stop_at_eos: bool, n_new: int,
                 max_new_tokens: int | None) -> str | None:
    """Why generation stops after appending ``token`` (the sequence now has ``n_ids`` ids), or None."""
    if stop_at_eos and token == EOT_ID:
        return "eos"
    if n_new == max_new_tokens:
        return "max_new_tokens"
    if n_ids >= n_ctx:
        return "context_full"
    return None
