"""GPT-2's byte-pair encoding, offline.

Text becomes tokens in two steps. A regular expression first cuts the text into pieces (words with
their leading space, numbers, punctuation runs, whitespace). Then each piece, as UTF-8 bytes, is
merged pair by pair: at every step the adjacent pair whose concatenation has the lowest rank in the
vocabulary is joined, until no joined pair is in the vocabulary. The ranks come from
``assets/vocab/gpt2.tiktoken`` (50,256 byte sequences); id 50256 is the one special token,
``<|endoftext|>``. :meth:`Tokenizer.bpe_steps` replays those merges for a student;
:meth:`Tokenizer.encode` runs the same algorithm fast, through tiktoken.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import regex
import tiktoken
from tiktoken_ext.openai_public import r50k_pat_str

from .errors import InputError, LoadError

EOT = "<|endoftext|>"
EOT_ID = 50256
VOCAB_SHA256 = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"

_VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}


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

    # ---- text <-> ids ---------------------------------------------------------------------
    def encode(self, text: str, allow_special: bool = False) -> list[int]:
        """Token ids of ``text``.

        The literal string ``<|endoftext|>`` is refused unless ``allow_special=True``, in which case
        it becomes the single id 50256 (a text pasted from the web should not end a document by
        accident).
        """
        if not isinstance(text, str):
            raise InputError(f"encode() takes a str, got {type(text).__name__}")
        if EOT in text and not allow_special:
            raise InputError(
                f"The text contains the special token {EOT} literally. Pass allow_special=True to "
                "encode it as the end-of-text token (id 50256), or remove it from the text"
            )
        return self._encoding.encode(text, allowed_special={EOT} if allow_special else set(),
                                     disallowed_special=())

    def decode(self, ids) -> str:
        """The text of ``ids``; bytes that are not valid UTF-8 on their own become U+FFFD."""
        return self._encoding.decode([self._check_id(i) for i in ids], errors="replace")

    def _check_id(self, i) -> int:
        i = int(i)
        if not 0 <= i < self.vocab_size:
            raise InputError(f"token id {i} is outside GPT-2's vocabulary (0 .. {self.vocab_size - 1})")
        return i

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
        return [self.token_str(i) for i in ids]

    # ---- byte-pair encoding, step by step -------------------------------------------------
    def pieces(self, text: str) -> list[str]:
        """The pre-tokenizer's cut of ``text``: each piece is byte-pair encoded on its own."""
        return self._split.findall(text)

    def bpe_steps(self, piece: str) -> list[MergeStep]:
        """Replay GPT-2's merges for one piece of text (one word with its leading space).

        Returns the states from single bytes to the final tokens: step 0 has every byte apart;
        each later step joins the adjacent pair with the lowest rank. The last step's parts are
        exactly what :meth:`encode` gives for the piece. A text that the pre-tokenizer cuts into
        several pieces is refused: call :meth:`pieces` first and step through each.
        """
        cut = self.pieces(piece)
        if len(cut) != 1:
            raise InputError(
                f"{piece!r} is {len(cut)} pieces for the pre-tokenizer ({cut!r}); "
                "bpe_steps() takes one piece at a time: use tokenizer.pieces(text) to cut it first"
            )
        parts = [bytes([b]) for b in piece.encode("utf-8")]
        steps = [MergeStep(tuple(parts), None, None)]
        while len(parts) > 1:
            best = None
            for j in range(len(parts) - 1):
                rank = self._ranks.get(parts[j] + parts[j + 1])
                if rank is not None and (best is None or rank < best[0]):
                    best = (rank, j)
            if best is None:
                break
            rank, j = best
            pair = (parts[j], parts[j + 1])
            parts = parts[:j] + [parts[j] + parts[j + 1]] + parts[j + 2:]
            steps.append(MergeStep(tuple(parts), pair, rank))
        return steps

    def id_of(self, token: bytes) -> int:
        """The id of a token given as bytes (for the parts of :meth:`bpe_steps`)."""
        return self._ranks[token]


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
