"""The one gate for what a user hands gptviz: a text or token ids in, checked token ids out.

Every entry point calls :func:`read_input`: ``model.trace``, :func:`~gptviz.generation.generate`,
:class:`~gptviz.generation.Stepper`, the views that take a text, the explorers and the command line.
The same input meets the same rules everywhere:

* **A text** is a non-empty ``str`` of at most :data:`MAX_TEXT_CHARS` characters (100,000: far more
  than any GPT-2 context holds, and encoded in well under a second). Bytes are refused (decode them
  first).
* **Token ids** are whole numbers in the vocabulary: a list, tuple or range of ints (NumPy integers
  too) or a 1-D integer array or tensor. Bools, floats, strings and bytes are refused, never rounded
  or read as character codes (:meth:`~gptviz.tokenizer.Tokenizer.check_ids`).
* **The literal text** ``<|endoftext|>`` is refused unless the caller allows it: ``allow_special=True``
  in Python, ``--allow-special`` on the command line, the checkbox "read <|endoftext|> as a token"
  in an explorer. Allowed, it becomes the single id 50256, a boundary between two documents. Ids
  may hold 50256 freely: an id list says exactly what it means.
* **A lone surrogate** (half of a UTF-16 pair) is read as U+FFFD, the replacement character, as the
  tokenizer reads it; :attr:`Input.notes` says so.
* **End of text** (``bos``): gptviz reads exactly the tokens it is given. ``bos=True`` puts
  ``<|endoftext|>`` (id 50256) first, as the model met every training document; it takes a place in
  the context like any token. The default is ``bos=False`` everywhere.
* **The context**: the ids must fit in ``n_ctx`` positions, less ``past`` already cached and
  ``room`` kept free for new tokens (:func:`space_for_input`, the one check). Too long is an error,
  or with ``truncate=True`` only the last ids that fit are kept, after the ``<|endoftext|>`` of
  ``bos=True`` (:func:`keep_last`, the one rule; :attr:`Input.dropped` counts the others).

Each message names the fix in the words of the interface the user is in (``via``): an argument for
Python (:data:`PYTHON`), a flag for the command line (:data:`CLI`), a control for an explorer
(:data:`EXPLORER`).
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

import numpy as np

from .config import PRESETS
from .errors import InputError
from .tokenizer import EOT, EOT_ID, clean_surrogates

PYTHON, CLI, EXPLORER = "python", "cli", "explorer"
VIAS = (PYTHON, CLI, EXPLORER)
MAX_TEXT_CHARS = 100_000
#: The explorers' checkbox that allows the literal <|endoftext|> (its label, named in messages).
ALLOW_SPECIAL_LABEL = "read <|endoftext|> as a token"

_ALLOW_SPECIAL = {
    PYTHON: "pass allow_special=True to read it as the end-of-text token (id 50256), or remove it",
    CLI: "add --allow-special to read it as the end-of-text token (id 50256), or remove it",
    EXPLORER: f"tick “{ALLOW_SPECIAL_LABEL}” to read it as the end-of-text token, or remove it",
}
_EMPTY = {
    PYTHON: "give at least one character, or the ids [50256] to start from <|endoftext|>",
    CLI: "give a non-empty text argument, in quotes",
    EXPLORER: "type at least one character in the box",
}


@dataclass(frozen=True)
class Input:
    """What passed the gate: ``ids`` the model reads; ``text`` they stand for (the text as given,
    surrogates mended, or the ids decoded; after truncation, the kept part; with ``bos=True`` it
    starts with ``<|endoftext|>``); ``dropped``, ids cut from the front by ``truncate=True``; ``notes``, sentences about what was changed (an explorer
    shows them)."""

    ids: list[int]
    text: str
    dropped: int = 0
    notes: tuple[str, ...] = ()


def read_input(source, text_or_ids, *, allow_special: bool = False, room: int = 0, past: int = 0,
               truncate: bool | None = None, via: str = PYTHON, what: str = "text",
               limit: tuple[int, str] | None = None, bos: bool = False) -> Input:
    """Check a text or token ids and turn them into the ids a model reads.

    ``source``: a model (its tokenizer, vocabulary and context are used) or a
    :class:`~gptviz.tokenizer.Tokenizer` (no context to fit). ``allow_special``: read the literal
    ``<|endoftext|>`` as id 50256. ``room``: positions to keep free after the ids (new tokens);
    ``past``: positions already taken (a KV cache). ``truncate``: keep the last ids that fit instead
    of refusing; None when the caller has no such option (the advice then says how to cut). ``via``:
    :data:`PYTHON`, :data:`CLI` or :data:`EXPLORER`, the interface whose words the messages use;
    ``what``: what the input is called in them (``"text"``, ``"prompt"``). ``limit``: ``(most, why)``,
    a smaller bound than the context that the caller sets for its own cost, with its reason.
    ``bos``: put ``<|endoftext|>`` first (it counts inside the context; not after cached positions).
    """
    if via not in VIAS:
        raise ValueError(f"via must be one of {VIAS}, got {via!r}")  # a programming error, not user input
    check_flag(allow_special, "allow_special")
    if check_flag(bos, "bos") and past:
        raise InputError(f"bos=True puts <|endoftext|> at position 0, but {past} positions are already cached: "
                         "pass bos=False to continue the cache")
    config = getattr(source, "config", None)
    tokenizer = source.tokenizer if config is not None else source
    notes = []
    if isinstance(text_or_ids, str):
        text = _check_text(text_or_ids, config, allow_special, via, what)
        mended = clean_surrogates(text)
        n = mended.count("\ufffd") - text.count("\ufffd")  # a pair of surrogates is joined, not replaced
        if n:
            notes.append(f"The {what} held {n} lone surrogate{'s' * (n != 1)} (half of a UTF-16 pair, which "
                         "UTF-8 cannot encode): read as U+FFFD, the replacement character.")
        ids = tokenizer.encode(mended, allow_special=allow_special)
    elif text_or_ids is None:
        raise InputError(f"No {what} given (None): {_EMPTY[via]}")
    else:
        ids, mended = tokenizer.check_ids(text_or_ids), None
        if not ids and not bos:
            raise InputError(f"The token list is empty: give at least one id ({EOT_ID} is {EOT})")
    vocab = config.vocab_size if config is not None else tokenizer.vocab_size
    too_big = next((i for i in ids if i >= vocab), None)
    if too_big is not None:
        raise InputError(f"Token id {too_big} is outside this model's vocabulary of {vocab:,} ids: use ids below "
                         f"{vocab} (the model cannot read GPT-2's full vocabulary; load one that can)")
    dropped = 0
    if config is not None:
        most, why = space_for_input(config.n_ctx, room, past), _context(config.n_ctx, room, past)
        if limit is not None and limit[0] < most:
            most, why = limit
        n = len(ids) + bos
        if n > most:
            if not truncate:
                raise InputError(f"The {what} is {n:,} tokens{' with <|endoftext|> first' if bos else ''}, but {why}: "
                                 f"{_shorten(most, truncate, via, what)}")
            if most <= bos:
                raise InputError(f"{why}: no room for the {what} after <|endoftext|>")
            ids, dropped = keep_last(ids, most, bos)
            notes.append(f"The {what} is {n:,} tokens and {why}: only its last {most - bos:,} are read.")
        elif bos:
            ids = [EOT_ID] + ids
    elif bos:
        ids = [EOT_ID] + ids
    if mended is None or dropped:
        mended = tokenizer.decode(ids)
    elif bos:
        mended = EOT + mended
    return Input(ids, mended, dropped, tuple(notes))


def check_flag(value, name: str) -> bool:
    """A yes/no argument: True or False (NumPy's bools too), never a string such as ``"no"``, which
    Python would take for True."""
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} must be True or False, got {value!r}: e.g. {name}=True")
    return bool(value)


def space_for_input(n_ctx: int, room: int = 0, past: int = 0) -> int:
    """How many input ids fit: ``n_ctx - past - room``; an InputError when ``room`` leaves none."""
    for name, value in (("room", room), ("past", past)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise InputError(f"{name} must be a whole number >= 0, got {value!r}")
    if past + room >= n_ctx:
        if past:
            raise InputError(f"{past} positions are already cached and the context holds {n_ctx}: no room for "
                             "more tokens; start again from a shorter text")
        raise InputError(f"room={room}: keep between 1 and {n_ctx - 1} positions free for new tokens")
    return n_ctx - past - room


def keep_last(ids: list[int], most: int, bos: bool = False) -> tuple[list[int], int]:
    """The one truncation rule: the last ids of ``ids`` that fit in ``most`` positions, after
    ``<|endoftext|>`` when ``bos`` (which then stays first); and how many ids were cut from the front.

    >>> keep_last([1, 2, 3, 4], 3, bos=True)
    ([50256, 3, 4], 2)
    """
    room = most - bos
    dropped = max(0, len(ids) - room)
    return [EOT_ID] * bos + list(ids[dropped:]), dropped


def check_fits(n_ctx: int, n: int, past: int = 0) -> None:
    """The model's own guard: ``n`` new positions after ``past`` cached ones fit in ``n_ctx``."""
    if n == 0:
        raise InputError("No tokens to run: give at least one token (e.g. a word, or <|endoftext|>)")
    if past + n > n_ctx:
        raise InputError(f"{past + n} tokens do not fit in the model's context of {n_ctx}"
                         f"{f' ({past} cached + {n} new)' if past else ''}: shorten the text, or keep only its "
                         f"last {n_ctx - past} tokens")


def _check_text(text: str, config, allow_special: bool, via: str, what: str) -> str:
    if not text:
        raise InputError(f"The {what} is empty: {_EMPTY[via]}")
    if len(text) > MAX_TEXT_CHARS:
        n_ctx = config.n_ctx if config is not None else PRESETS["gpt2"].n_ctx
        raise InputError(f"The {what} is {len(text):,} characters; gptviz reads at most {MAX_TEXT_CHARS:,} (the "
                         f"model reads {n_ctx:,} tokens, a few thousand characters): {_cut_characters(via, what)}")
    if EOT in text and not allow_special:
        raise InputError(f"The {what} contains {EOT} literally: {_ALLOW_SPECIAL[via]}")
    return text


def _context(n_ctx: int, room: int, past: int) -> str:
    parts = [f"the model's context holds {n_ctx:,}"]
    if past:
        parts.append(f"{past:,} are already cached")
    if room:
        parts.append(f"{room:,} must stay free for new tokens")
    return " and ".join(parts) if len(parts) < 3 else f"{parts[0]}, {parts[1]} and {parts[2]}"


def _shorten(limit: int, truncate: bool | None, via: str, what: str) -> str:
    if via == CLI:
        return f"shorten the text to at most {limit:,} tokens"
    if via == EXPLORER:
        return f"shorten the {what} in the box to at most {limit:,} tokens"
    if truncate is None:
        return f"shorten it, or pass its last {limit:,} tokens: model.tokenizer.encode(text)[-{limit}:]"
    return f"shorten it, or pass truncate=True to keep its last {limit:,} tokens"


def _cut_characters(via: str, what: str) -> str:
    if via == CLI:
        return "pass a shorter text"
    if via == EXPLORER:
        return f"paste a shorter {what} into the box"
    return f"pass a shorter {what}, e.g. its end: text[-{MAX_TEXT_CHARS}:]"


_UNITS = {"": 1, "b": 1, "k": 2**10, "kib": 2**10, "kb": 10**3, "m": 2**20, "mib": 2**20, "mb": 10**6,
          "g": 2**30, "gib": 2**30, "gb": 10**9, "t": 2**40, "tib": 2**40, "tb": 10**12}
_SIZE = re.compile(r"\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*", re.IGNORECASE)


def parse_size(value, name: str) -> int:
    """A number of bytes from a setting: an int, or a string such as ``"4000000000"``, ``"4e9"``,
    ``"4GiB"``, ``"512 MiB"``, ``"4G"`` (K, M, G, T alone are binary: 2**30 for G; KB, MB, GB, TB
    decimal). ``name`` is the setting, named in the error."""
    if isinstance(value, bool):
        raise InputError(f"{name} must be a number of bytes, got {value!r}")
    if isinstance(value, numbers.Real):
        number, unit = float(value), ""
    else:
        match = _SIZE.fullmatch(str(value))
        if match is None or match.group(2).lower() not in _UNITS:
            raise InputError(f"{name}={value!r} is not a size: give bytes as a number (4000000000, 4e9) or with a "
                             "unit (4GiB, 512MiB, 4GB)")
        number, unit = float(match.group(1)), match.group(2).lower()
    size = number * _UNITS[unit]
    if not math.isfinite(size) or size < 0:
        raise InputError(f"{name}={value!r}: give a finite size >= 0, such as 4GiB")
    return int(size)
