"""Generation: score, pick, feed the pick back, repeat.

GPT-2 writes one token at a time. The logits at the last position become a probability for every
vocabulary entry (:mod:`gptviz.sampling`); one token is picked and appended, and the model reads it
to score the position after. Tokens already read are never read again: each layer keeps their keys
and values in a :class:`~gptviz.kvcache.KVCache`, so a step computes the new token only (GPT-2 does not
re-interpret earlier tokens). Generation stops when the model picks ``<|endoftext|>`` (unless
``stop_at_eos=False``), after ``max_new_tokens``, or when the context is full.

:func:`generate` runs the whole loop; :class:`Stepper` runs it one step at a time, for a notebook
button, and can step back. Every draw is seeded by ``(seed, position)`` (see
:func:`~gptviz.sampling.step_seed`), so stepping back and forward again, or generating twice with
the same seed, gives the same tokens. With no prompt, generation starts from ``<|endoftext|>``: an
unconditional sample, the start of a new document.
"""

from __future__ import annotations

import numbers
import secrets
from dataclasses import dataclass

import torch

from .errors import InputError
from .kvcache import KVCache
from .sampling import Distribution, check_settings, distribution, greedy_id, step_seed
from .tokenizer import EOT_ID
from .trace import Trace, to_ids, trace

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
    the cache after this step (the new token included)."""

    position: int
    token_id: int
    token: str
    distribution: Distribution
    trace: Trace | None
    cache_len: int


def generate(model, prompt=None, max_new_tokens: int = 50, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, seed: int | None = None, stop_at_eos: bool = True,
             greedy: bool = False, use_cache: bool = True, truncate: bool = False) -> Generation:
    """Continue ``prompt`` (a string, a list or 1-D tensor of token ids, or None for an unconditional
    sample from ``<|endoftext|>``) by up to ``max_new_tokens`` tokens.

    Sampling settings as in :func:`gptviz.sampling.distribution` (``temperature=0`` or ``greedy=True``:
    always the top token). ``seed`` makes the run repeatable; the global random state is not used.
    ``use_cache=False`` re-reads the whole sequence at every step (same tokens, slower: the
    difference the cache makes). A prompt that leaves no room for a new token in the context raises
    InputError; with ``truncate=True`` only its last tokens are kept, as many as leave room for
    ``max_new_tokens`` (at least one token of prompt), and ``Generation.dropped`` says how many went.
    A string prompt may contain ``<|endoftext|>`` to mark a document boundary.
    """
    temperature, top_k, top_p = check_settings(temperature, top_k, top_p)
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, numbers.Integral) or max_new_tokens < 1:
        raise InputError(f"max_new_tokens must be a whole number >= 1, got {max_new_tokens!r}")
    n_ctx = model.config.n_ctx
    room = min(int(max_new_tokens), n_ctx - 1) if truncate else 1
    ids, dropped = prompt_ids(model, prompt, room, truncate)
    greedy = greedy or temperature == 0.0
    if seed is None and not greedy:
        seed = secrets.randbits(63)
    prompt_len = len(ids)
    cache = KVCache(model.config.n_layer) if use_cache else None
    with torch.inference_mode():
        logits = _next_logits(model, ids, cache)
        while True:
            if greedy:
                token = greedy_id(logits)
            else:
                token = distribution(logits, temperature, top_k, top_p).draw(step_seed(seed, len(ids)))
            ids.append(token)
            reason = _stop_reason(token, len(ids), n_ctx, stop_at_eos, len(ids) - prompt_len, max_new_tokens)
            if reason is not None:
                break
            logits = _next_logits(model, [token] if cache is not None else ids, cache)
    tok = model.tokenizer
    new_ids = ids[prompt_len:]
    return Generation(ids[:prompt_len], new_ids, tok.decode(ids), tok.decode(new_ids), reason, seed, dropped)


class Stepper:
    """Generation one step at a time: ``step()`` picks and reads one token, ``back()`` undoes it,
    ``reset()`` returns to the prompt; iterating yields steps until generation stops.

    The prompt is read once, at construction. Each step draws from the current distribution with the
    seed of ``(seed, position)``, appends the token and reads it (one new row per layer in
    ``cache``), which gives the next distribution. ``back()`` followed by ``step()`` picks the same
    token again, as long as the settings (public attributes ``temperature``, ``top_k``, ``top_p``,
    ``greedy``, ``seed``) are unchanged. ``record=True`` keeps each new token's trace in
    ``Step.trace``. A prompt must leave room for one new token; ``truncate=True`` keeps its last
    ``n_ctx - room`` tokens, room for ``room`` new ones (``dropped`` says how many went).

    State: ``ids`` (prompt and picks), ``prompt_len``, ``text``, ``steps``, ``cache`` (always holds
    every id), ``stopped``, ``stop_reason`` (``"eos"``, ``"context_full"`` or None).
    """

    def __init__(self, model, prompt=None, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, seed: int | None = 0, greedy: bool = False,
                 stop_at_eos: bool = True, record: bool = False, truncate: bool = False, room: int = 1):
        check_settings(temperature, top_k, top_p)
        if not 1 <= room < model.config.n_ctx:
            raise InputError(f"room={room}: keep between 1 and {model.config.n_ctx - 1} positions free "
                             "for new tokens")
        self.model = model
        self.temperature, self.top_k, self.top_p, self.greedy = temperature, top_k, top_p, greedy
        self.seed = secrets.randbits(63) if seed is None else int(seed)
        self.stop_at_eos, self.record = stop_at_eos, record
        prompt, self.dropped = prompt_ids(model, prompt, room if truncate else 1, truncate)
        self.prompt_len = len(prompt)
        self.cache = KVCache(model.config.n_layer)
        with torch.inference_mode():
            self._prompt_logits = _next_logits(model, prompt, self.cache)
        self.ids = prompt
        self.reset()

    def reset(self) -> None:
        """Back to the state right after reading the prompt (the prompt is not read again)."""
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
        """Pick the next token, append it and read it. Raises InputError once generation has stopped."""
        if self.stopped:
            raise InputError(f"Generation has stopped ({self.stop_reason}): call back() to undo the last "
                             "step or reset() to start again from the prompt")
        model, position = self.model, len(self.ids)
        dist = distribution(self._logits, self.temperature, self.top_k, self.top_p, self.greedy, model.tokenizer)
        token = dist.draw(step_seed(self.seed, position))
        with torch.inference_mode():
            if self.record:
                recorded = trace(model, [token], cache=self.cache)
                self._logits = recorded["logits"][-1]
            else:
                recorded = None
                self._logits = _next_logits(model, [token], self.cache)
        self.ids.append(token)
        step = Step(position, token, model.tokenizer.token_str(token), dist, recorded, len(self.cache))
        self.steps.append(step)
        self.stop_reason = _stop_reason(token, len(self.ids), model.config.n_ctx, self.stop_at_eos)
        self.stopped = self.stop_reason is not None
        return step

    def back(self) -> None:
        """Undo the last step: forget its token and its cache rows."""
        if not self.steps:
            raise InputError("There is no step to undo: the Stepper is at its prompt")
        last = self.steps.pop()
        self.ids.pop()
        self.cache.truncate(len(self.ids))
        self._logits = last.distribution.logits
        self.stopped, self.stop_reason = False, None

    def cache_rows(self) -> dict:
        """How the cache was built: ``reused`` rows (positions read before the last forward pass),
        ``new`` rows (added by it: the whole prompt at first, then one per step), ``total`` and
        ``n_ctx`` (the most it can hold)."""
        new = 1 if self.steps else self.prompt_len
        total = len(self.cache)
        return {"reused": total - new, "new": new, "total": total, "n_ctx": self.model.config.n_ctx}

    def __iter__(self):
        while not self.stopped:
            yield self.step()

    def __repr__(self) -> str:
        state = f"stopped: {self.stop_reason}" if self.stopped else "running"
        return f"Stepper({self.prompt_len} prompt + {len(self.steps)} new tokens, {state})"


def prompt_ids(model, prompt, room: int = 1, truncate: bool = False) -> tuple[list[int], int]:
    """The prompt's token ids and the number dropped, leaving ``room`` free positions in the context.

    ``prompt``: None (start from ``<|endoftext|>``), a non-empty string (``<|endoftext|>`` allowed), or
    token ids (a list or 1-D tensor). Too long: InputError, or with ``truncate`` the last
    ``n_ctx - room`` ids.
    """
    if prompt is None:
        prompt = [EOT_ID]
    elif isinstance(prompt, str):
        if not prompt:
            raise InputError("The prompt is empty: type some text, or pass prompt=None to start from "
                             "<|endoftext|> (an unconditional sample)")
        prompt = model.tokenizer.encode(prompt, allow_special=True)
    elif isinstance(prompt, torch.Tensor) and prompt.dim() != 1:
        raise InputError(f"A prompt of ids must be one sequence, shape [T], got shape {list(prompt.shape)}")
    limit = model.config.n_ctx - room
    if len(prompt) > limit and not truncate:
        raise InputError(
            f"The prompt is {len(prompt)} tokens, but the model's context holds {model.config.n_ctx} and "
            f"{room} must stay free for new tokens: shorten the prompt, or pass truncate=True to keep "
            f"its last {limit} tokens"
        )
    ids, _ = to_ids(model, prompt[-limit:])  # checks the ids: one sequence, in the vocabulary
    return ids, len(prompt) - len(ids)


def _next_logits(model, ids: list[int], cache: KVCache | None) -> torch.Tensor:
    """Read ``ids`` (appending them to ``cache``, if any); the logits ``[V]`` at the last position."""
    logits = model(torch.tensor([ids], device=model.device), cache=cache)  # (1, T, V)
    return logits[0, -1].to("cpu", torch.float32)


def _stop_reason(token: int, n_ids: int, n_ctx: int, stop_at_eos: bool, n_new: int = 0,
                 max_new_tokens: int | None = None) -> str | None:
    """Why generation stops after appending ``token`` (the sequence now has ``n_ids`` ids), or None."""
    if stop_at_eos and token == EOT_ID:
        return "eos"
    if n_new == max_new_tokens:
        return "max_new_tokens"
    if n_ids >= n_ctx:
        return "context_full"
    return None
