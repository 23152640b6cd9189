"""GPT-2's byte-pair encoding, offline.

Text becomes tokens in two steps. A regular expression first cuts the text into pieces (words with
their leading space, numbers, punctuation runs, whitespace). Then each piece, as UTF-8 bytes, is
merged pair by pair: at every step the adjacent pair whose concatenation has the lowest rank in the
vocabulary is joined, until no joined pair is in the vocabulary. The ranks come from
``assets/vocab/gpt2.tiktoken`` (50,256 byte sequences); id 50256 is the one special token,
``<|endoftext|>``. :meth:`Tokenizer.bpe_steps` replays those merges for a student;
:meth:`Tokenizer.encode` runs the same algorithm fast, through tiktoken.

Two edge cases are handled one way by every function here (and by :mod:`gptviz.inputs`, the gate every
entry point uses):

* **The literal text** ``<|endoftext|>`` is refused unless the caller allows it (``allow_special=True``);
  allowed, it is the single id 50256. Token ids may hold 50256 freely.
* **A lone surrogate** (half of a UTF-16 pair: a Python string can hold one, UTF-8 cannot encode it)
  is read as U+FFFD, the replacement character, and a pair of surrogates as the character they
  encode (:func:`clean_surrogates`); tiktoken does the same.
"""

from __future__ import annotations

import base64
import codecs
import functools
import hashlib
import numbers
import operator
import os
from dataclasses import dataclass
from pathlib import Path

import regex
import tiktoken
from tiktoken_ext.openai_public import r50k_pat_str

from .checks import is_index
from .errors import InputError, LoadError

EOT = "<|endoftext|>"
EOT_ID = 50256
VOCAB_SHA256 = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"

_VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}
MAX_STEP_BYTES = 1024  # bpe_steps keeps every state: n bytes take ~n**2 / 2 references, so 4 MiB here
_NO_RANK = float("inf")
_APOSTROPHE_S = 338  # the token "'s", which the pre-tokenizer forms only after a letter, number or space


def assets_dir() -> Path:
    """The folder holding the vocabulary and the bundled models (``$GPTVIZ_ASSETS`` overrides)."""
    env = os.environ.get("GPTVIZ_ASSETS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "assets"


def _read_ranks(path: Path) -> dict[bytes, int]:
    """Parse a ``.tiktoken`` file (``base64-token rank`` per line) after checking its sha256."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LoadError(
            f"GPT-2's vocabulary file is missing: {path}. Reinstall gptviz from its repository "
            "(the file ships in assets/vocab/) or set GPTVIZ_ASSETS to the folder that holds vocab/"
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != VOCAB_SHA256:
        raise LoadError(
            f"{path} has sha256 {digest}, expected {VOCAB_SHA256}: the vocabulary file is damaged or "
            "is not GPT-2's; restore it from the repository"
        )
    ranks = {}
    for line in data.splitlines():
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
    return ranks


@dataclass(frozen=True)
class MergeStep:
    """One step of byte-pair encoding a piece of text.

    ``parts`` are the byte strings after this step; ``pair`` is what was joined (None for the start,
    when every byte stands alone) and ``rank`` its rank in the vocabulary (lower merges first).
    """

    parts: tuple[bytes, ...]
    pair: tuple[bytes, bytes] | None
    rank: int | None


class Tokenizer:
    """GPT-2's tokenizer: ``encode``, ``decode``, readable token strings and BPE merge steps.

    >>> tok = Tokenizer()
    >>> tok.encode("Hello world")
    [15496, 995]
    """

    vocab_size = EOT_ID + 1
    eot_id = EOT_ID

    def __init__(self, vocab_path: str | os.PathLike | None = None):
        path = Path(vocab_path) if vocab_path else assets_dir() / "vocab" / "gpt2.tiktoken"
        self._ranks = _read_ranks(path)
        self._encoding = tiktoken.Encoding(
            name="gpt2",
            pat_str=r50k_pat_str,
            mergeable_ranks=self._ranks,
            special_tokens={EOT: EOT_ID},
            explicit_n_vocab=self.vocab_size,
        )
        self._split = regex.compile(r50k_pat_str)
        self._symbol = regex.compile(r"[^\s\p{L}\p{N}]")  # the pre-tokenizer's class of punctuation and symbols
        self._classes: dict[str, str | None] = {}  # character -> its stand-in for pieces(), see _stand_in

    # ---- text <-> ids ---------------------------------------------------------------------
    def encode(self, text: str, allow_special: bool = False) -> list[int]:
        """Token ids of ``text``.

        The literal string ``<|endoftext|>`` is refused unless ``allow_special=True``, in which case
        it becomes the single id 50256 (a text pasted from the web should not end a document by
        accident). Lone surrogates are read as U+FFFD (see :func:`clean_surrogates`).
        """
        text = _check_text(text, "encode()")
        if EOT in text and not allow_special:
            raise InputError(
                f"The text contains the special token {EOT} literally. Pass allow_special=True to "
                "encode it as the end-of-text token (id 50256), or remove it from the text"
            )
        return self._encoding.encode(clean_surrogates(text), allowed_special={EOT} if allow_special else set(),
                                     disallowed_special=())

    def decode(self, ids) -> str:
        """The text of ``ids``; bytes that are not valid UTF-8 on their own become U+FFFD."""
        return self._encoding.decode(self.check_ids(ids), errors="replace")

    def token_texts(self, ids) -> list[str]:
        """The text each token completes, so that ``"".join(token_texts(ids)) == decode(ids)``.

        A character split over several tokens (an emoji, ``’``, most CJK) belongs to the token
        holding its last byte; the tokens before it complete nothing (``""``). Decoding each token
        on its own would show those halves as U+FFFD instead.
        """
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        texts = [decoder.decode(self._encoding.decode_single_token_bytes(i)) for i in self.check_ids(ids)]
        if texts:
            texts[-1] += decoder.decode(b"", final=True)  # bytes left over at the end: U+FFFD
        return texts

    def check_ids(self, ids, one: bool = False) -> list[int]:
        """``ids`` as a list of Python ints, or an InputError that says what to pass instead.

        Takes a list, tuple or range of ints (NumPy integers too) or a 1-D integer NumPy array or
        torch tensor. Refuses bools, floats, strings and bytes (never rounded or read as character
        codes) and ids outside ``0 .. vocab_size - 1``. ``one``: ``ids`` holds a single id given on
        its own (the messages then name no position).
        """
        if isinstance(ids, (str, bytes, bytearray, memoryview)):
            kind = type(ids).__name__
            fix = ("decode the bytes to a str first (data.decode('utf-8')) and pass the text"
                   if kind != "str" else "pass the text itself where a text is accepted, or tokenizer.encode(text)")
            raise InputError(f"Token ids must be a sequence of whole numbers, got {kind} {_short(ids)}: {fix}")
        if hasattr(ids, "dtype") and hasattr(ids, "tolist"):  # a NumPy array or a torch tensor
            shape = list(getattr(ids, "shape", ()))
            if len(shape) != 1:
                raise InputError(f"Token ids must be one sequence of shape [T], got shape {shape}: pick one "
                                 "row (ids[0]) or flatten them")
            if not _integer_dtype(ids.dtype):
                raise InputError(f"Token ids must be integers, got an array of {ids.dtype}: ids are never "
                                 "rounded; convert them yourself (e.g. .long() or .astype(int)) if they are whole")
            ids = ids.tolist()
        try:
            items = list(ids)
        except TypeError:
            raise InputError(f"Token ids must be a sequence of whole numbers, got {type(ids).__name__} "
                             f"{_short(ids)}: pass a list such as [15496, 995], or a str to encode") from None
        out = []
        for n, i in enumerate(items):
            where = "" if one else f" at position {n}"
            if isinstance(i, bool) or not _is_integer(i):
                raise InputError(
                    f"Token id{where} is {_short(i)} ({type(i).__name__}); ids are whole numbers "
                    f"from 0 to {self.vocab_size - 1}, never rounded: pass ints such as [15496, 995], or a "
                    "str to encode"
                )
            i = operator.index(i)
            if not 0 <= i < self.vocab_size:
                raise InputError(
                    f"Token id {i}{where} is outside the vocabulary of GPT-2 (0 .. {self.vocab_size - 1}): "
                    f"use ids below {self.vocab_size} ({EOT_ID} is {EOT})"
                )
            out.append(i)
        return out

    def _check_id(self, i) -> int:
        return self.check_ids([i], one=True)[0]

    # ---- display --------------------------------------------------------------------------
    def token_bytes(self, i: int) -> bytes:
        """The raw bytes of one token (``<|endoftext|>`` for 50256)."""
        return self._encoding.decode_single_token_bytes(self._check_id(i))

    def token_str(self, i: int) -> str:
        """A readable label for token ``i``: spaces as ␣, newlines as ↵, tabs as ⇥, and bytes that are
        not complete UTF-8 characters as ``\\xNN`` (a token may hold half of an emoji)."""
        return readable(self.token_bytes(i))

    def tokens(self, ids) -> list[str]:
        """Readable labels for a list of ids."""
        return [readable(self._encoding.decode_single_token_bytes(i)) for i in self.check_ids(ids)]

    # ---- byte-pair encoding, step by step -------------------------------------------------
    def pieces(self, text: str) -> list[str]:
        """The pre-tokenizer's cut of ``text``: each piece is byte-pair encoded on its own, so the
        pieces' ids, joined, are ``encode(text)``.

        The cut is tiktoken's. The ``regex`` module here may know a newer Unicode than tiktoken
        (characters assigned since then count as letters for one and as symbols for the other), so
        each character outside ASCII is first asked of tiktoken itself, once per process.
        """
        text = clean_surrogates(_check_text(text, "pieces()"))
        stand_ins = {ord(c): self._stand_in(c) for c in set(text) if ord(c) > 127}
        probe = text.translate({k: v for k, v in stand_ins.items() if v is not None})
        return [text[m.start():m.end()] for m in self._split.finditer(probe)]

    def _stand_in(self, char: str) -> str | None:
        """None when the ``regex`` module classes ``char`` as tiktoken does; else a character that
        both class alike: U+FFFD for a symbol, ``a`` for a letter."""
        if char not in self._classes:
            # tiktoken forms the token "'s" after a letter, a number or a space, never after a symbol.
            tiktoken_symbol = self._encoding.encode_ordinary(char + "'s")[-1] != _APOSTROPHE_S
            regex_symbol = self._symbol.fullmatch(char) is not None
            self._classes[char] = None if tiktoken_symbol == regex_symbol else ("\ufffd" if tiktoken_symbol else "a")
        return self._classes[char]

    def bpe_steps(self, piece: str) -> list[MergeStep]:
        """Replay GPT-2's merges for one piece of text (one word with its leading space).

        Returns the states from single bytes to the final tokens: step 0 has every byte apart;
        each later step joins the adjacent pair with the lowest rank (the leftmost among equals).
        The last step's parts are exactly what :meth:`encode` gives for the piece. A text that the
        pre-tokenizer cuts into several pieces is refused: call :meth:`pieces` first and step through
        each. So is a piece over ``MAX_STEP_BYTES`` (1,024) bytes: every state is kept, ~n² / 2 parts
        for n bytes; :meth:`encode` gives its tokens at any length.
        """
        cut = self.pieces(piece)
        if len(cut) != 1:
            raise InputError(
                f"{_short(piece)} is {len(cut)} pieces for the pre-tokenizer ({_short(cut)}); "
                "bpe_steps() takes one piece at a time: use tokenizer.pieces(text) to cut it first"
            )
        data = cut[0].encode("utf-8")
        if len(data) > MAX_STEP_BYTES:
            raise InputError(
                f"This piece is {len(data):,} bytes; bpe_steps() replays pieces of at most {MAX_STEP_BYTES:,} "
                "bytes (it keeps every state). Use tokenizer.encode(piece) for its tokens, or step through "
                "a shorter piece"
            )
        parts = [data[j:j + 1] for j in range(len(data))]
        # The rank of each adjacent pair (None: not in the vocabulary); after a merge only the two
        # pairs beside it change, so each step costs one scan for the minimum, not a lookup per pair.
        ranks = [self._ranks.get(a + b, _NO_RANK) for a, b in zip(parts, parts[1:])]
        steps = [MergeStep(tuple(parts), None, None)]
        while ranks:
            rank = min(ranks)
            if rank == _NO_RANK:
                break
            j = ranks.index(rank)  # the leftmost pair with the lowest rank
            pair = (parts[j], parts[j + 1])
            parts[j:j + 2] = [pair[0] + pair[1]]
            del ranks[j]
            if j > 0:
                ranks[j - 1] = self._ranks.get(parts[j - 1] + parts[j], _NO_RANK)
            if j < len(ranks):
                ranks[j] = self._ranks.get(parts[j] + parts[j + 1], _NO_RANK)
            steps.append(MergeStep(tuple(parts), pair, rank))
        return steps

    def token_id(self, token, what: str = "token", vocab_size: int | None = None) -> int:
        """One vocabulary id from ``token``: an id, or a string that is exactly one token (``" Tom"``
        with its leading space). ``what`` names the argument in errors; ``vocab_size``: the model's
        (default the tokenizer's 50,257), which bounds an id."""
        if isinstance(token, str):
            ids = self.encode(token)
            if len(ids) != 1:
                raise InputError(f"{what}={token!r} is {len(ids)} tokens ({self.tokens(ids)}): give one "
                                 "token, e.g. ' Tom' with its leading space, or its id")
            return ids[0]
        n = self.vocab_size if vocab_size is None else vocab_size
        if not is_index(token) or not 0 <= token < n:  # a NumPy integer is an id too, as in every index
            raise InputError(f"{what}= takes a token string or an id from 0 to {n - 1}, got {token!r}")
        return int(token)

    def id_of(self, token: bytes) -> int:
        """The id of a token given as bytes (for the parts of :meth:`bpe_steps`)."""
        return self._ranks[token]


def clean_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD and each surrogate pair joined into the
    character it encodes: what UTF-8, and so GPT-2, can read. Unchanged when it holds none."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _check_text(text, where: str) -> str:
    if isinstance(text, (bytes, bytearray)):
        raise InputError(f"{where} takes a str, got {type(text).__name__}: decode it first "
                         "(data.decode('utf-8'))")
    if not isinstance(text, str):
        raise InputError(f"{where} takes a str, got {type(text).__name__} {_short(text)}: pass a text "
                         "such as 'Hello world'")
    return text


def _is_integer(value) -> bool:
    """A whole number of an integer type: a Python or NumPy int, or a 0-d integer tensor."""
    if hasattr(value, "dtype"):
        return getattr(value, "ndim", 0) == 0 and _integer_dtype(value.dtype)
    return isinstance(value, numbers.Integral)


def _integer_dtype(dtype) -> bool:
    name = str(dtype).removeprefix("torch.")
    return name.startswith(("int", "uint")) or name == "long"


def _short(value, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def readable(raw: bytes) -> str:
    """Bytes as a label: valid UTF-8 decoded with whitespace made visible, other bytes as ``\\xNN``."""
    out = []
    i = 0
    while i < len(raw):
        for width in (1, 2, 3, 4):
            chunk = raw[i:i + width]
            try:
                char = chunk.decode("utf-8")
            except UnicodeDecodeError:
                continue
            out.append(_VISIBLE.get(char, char if char.isprintable() else f"\\u{ord(char):04x}"))
            i += width
            break
        else:
            out.append(f"\\x{raw[i]:02x}")
            i += 1
    return "".join(out)


@functools.lru_cache(maxsize=1)
def get_tokenizer() -> Tokenizer:
    """The shared GPT-2 tokenizer (built once per process, ~0.2 s)."""
    return Tokenizer()
