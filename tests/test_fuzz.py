"""Seeded, time-bounded fuzzing: the tokenizer against itself and against an independent GPT-2 BPE,
token ids through the gate, and sampling settings.

Every test is derandomized (the same examples on every run) and capped in examples; the module runs
in well under a minute. The independent BPE is transformers' ``GPT2TokenizerFast`` (Rust ``tokenizers``)
loaded from a ``vocab.json`` + ``merges.txt`` that the fixture writes from ``assets/vocab/gpt2.tiktoken``:
the same vocabulary, a different implementation of the pre-tokenizer and of the merges.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gptviz
from gptviz.inputs import read_input
from gptviz.sampling import check_seed, distribution
from gptviz.tokenizer import EOT, MAX_STEP_BYTES, clean_surrogates, get_tokenizer

tok = get_tokenizer()
FUZZ = settings(derandomize=True, deadline=2000, max_examples=300, database=None,
                suppress_health_check=[HealthCheck.too_slow])

# Any code point (unassigned ones and lone surrogates too), weighted towards text a class types.
any_text = st.one_of(
    st.text(max_size=60),
    st.text(st.sampled_from("abcdeé ’'\n\t.,!?0123456789😀東京üß-"), max_size=60),
    st.lists(st.sampled_from(["Hello", " world", "'s", "'ll", "  ", "\n\n", "123", " 😀", "\ud800", "\U0003fb16",
                              "\U000323b0", "ꟍ", EOT[:5], "---", "東京"]), max_size=12).map("".join),
)
assigned_text = st.text(st.characters(exclude_categories=("Cs", "Cn", "Co")), max_size=60)


def _byte_to_char() -> dict[int, str]:
    """GPT-2's vocab.json spells bytes as characters: printable Latin-1 bytes as themselves, every
    other byte as the next code point from 256 up, in byte order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """transformers' GPT-2 fast tokenizer, built from the vocabulary gptviz ships.

    merges.txt lists, in rank order, the pair each multi-byte token was merged from: byte-pair
    encoding the token's bytes with only the merges ranked below it leaves exactly that pair.
    """
    from transformers import GPT2TokenizerFast

    spell = _byte_to_char()
    ranks = tok._ranks
    vocab, merges = {}, []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        vocab["".join(spell[b] for b in token)] = rank
        if len(token) > 1:
            parts = [token[i:i + 1] for i in range(len(token))]
            while len(parts) > 2:
                pairs = [(ranks.get(a + b, math.inf), j) for j, (a, b) in enumerate(zip(parts, parts[1:]))]
                best, j = min(pairs)
                assert best < rank
                parts[j:j + 2] = [parts[j] + parts[j + 1]]
            merges.append(" ".join("".join(spell[b] for b in p) for p in parts))
    vocab[EOT] = 50256
    folder = tmp_path_factory.mktemp("gpt2-bpe")
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 1024}))
    return GPT2TokenizerFast.from_pretrained(str(folder))


def test_reference_tokenizer_is_gpt2(reference):
    text = "A robot must obey the orders given it."
    assert reference(text)["input_ids"] == [32, 9379, 1276, 22389, 262, 6266, 1813, 340, 13] == tok.encode(text)


@FUZZ
@given(text=assigned_text)
def test_encode_agrees_with_an_independent_bpe(reference, text):
    if EOT in text:
        return
    assert tok.encode(text) == reference(text, add_special_tokens=False)["input_ids"]


@FUZZ
@given(text=any_text)
def test_round_trip_and_surrogates(text):
    if EOT in text:
        with pytest.raises(gptviz.InputError, match="allow_special=True"):
            tok.encode(text)
        return
    ids = tok.encode(text)
    assert tok.decode(ids) == clean_surrogates(text)
    assert "".join(tok.token_texts(ids)) == tok.decode(ids)
    if text:
        assert read_input(tok, text).ids == ids


@FUZZ
@given(text=any_text)
def test_pieces_agree_with_encode_and_steps_end_in_encode(text):
    if EOT in text:
        return
    pieces = tok.pieces(text)
    assert "".join(pieces) == clean_surrogates(text)
    assert [i for p in pieces for i in tok.encode(p)] == tok.encode(text)
    for piece in pieces:
        if len(piece.encode("utf-8")) <= MAX_STEP_BYTES:
            assert [tok.id_of(p) for p in tok.bpe_steps(piece)[-1].parts] == tok.encode(piece)


any_id = st.one_of(st.integers(-5, 50262), st.floats(allow_nan=True), st.booleans(), st.text(max_size=3),
                   st.binary(max_size=2), st.none(), st.just(np.int64(7)), st.just(np.float32(3.0)))


@FUZZ
@given(ids=st.one_of(st.lists(any_id, max_size=8), st.lists(st.integers(0, 50256), min_size=1, max_size=8),
                     st.binary(max_size=4), st.integers(), st.floats()))
def test_ids_are_taken_exactly_or_refused(ids):
    valid = (isinstance(ids, list) and ids and all(
        not isinstance(i, (bool, np.bool_)) and isinstance(i, (int, np.integer)) and 0 <= i < 50257 for i in ids))
    if valid:
        read = read_input(tok, ids)
        assert read.ids == [int(i) for i in ids] and all(type(i) is int for i in read.ids)
        assert read.text == tok.decode(ids)
    else:
        with pytest.raises(gptviz.InputError):
            read_input(tok, ids)


@FUZZ
@given(ids=st.lists(st.integers(0, 50256), min_size=1, max_size=8), as_tensor=st.booleans())
def test_arrays_of_ids_read_as_lists(ids, as_tensor):
    array = torch.tensor(ids) if as_tensor else np.array(ids)
    assert read_input(tok, array).ids == ids
    with pytest.raises(gptviz.InputError, match="integers"):
        read_input(tok, array.double() if as_tensor else array.astype(float))


LOGITS = torch.randn(50257, generator=torch.Generator().manual_seed(0)) * 3
setting = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 60000),
                    st.booleans(), st.text(max_size=2))


@settings(FUZZ, max_examples=150)
@given(temperature=setting, top_k=setting, top_p=setting, seed=st.one_of(st.integers(-2, 2**65), setting))
def test_sampling_settings_work_or_say_what_to_do(temperature, top_k, top_p, seed):
    try:
        d = distribution(LOGITS, 1.0 if temperature is None else temperature, top_k, top_p)
    except gptviz.InputError as err:
        assert any(word in str(err) for word in ("temperature", "top_k", "top_p"))
        return
    probs = d.probs.numpy()
    assert abs(float(probs.sum()) - 1) < 1e-4 and d.n_kept >= 1
    try:
        check_seed(seed)
    except gptviz.InputError as err:
        assert "seed" in str(err) and "e.g. seed=0" in str(err)
        with pytest.raises(gptviz.InputError):
            d.draw(seed)
        return
    token = d.draw(seed)
    assert probs[token] > 0
    if seed is not None:
        assert token == d.draw(seed)
