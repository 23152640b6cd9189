"""GPT-2's tokenizer, offline: known ids, round trips, readable labels, merges step by step."""

import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gptviz
from gptviz.errors import InputError
from gptviz.tokenizer import Tokenizer, get_tokenizer, readable

tok = get_tokenizer()


def test_known_ids():
    assert tok.encode("Hello world") == [15496, 995]
    assert tok.encode(" the") == [262]
    assert tok.encode("A robot must obey the orders given it.") == [32, 9379, 1276, 22389, 262, 6266, 1813, 340, 13]
    assert tok.vocab_size == 50257 and tok.eot_id == 50256


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_round_trip_of_any_unicode(text):
    if "<|endoftext|>" in text:
        return
    assert tok.decode(tok.encode(text)) == text


def test_end_of_text_is_explicit():
    with pytest.raises(gptviz.InputError, match="allow_special=True"):
        tok.encode("the end<|endoftext|>")
    assert tok.encode("the end<|endoftext|>", allow_special=True)[-1] == 50256
    assert tok.token_str(50256) == "<|endoftext|>"


def test_readable_labels_show_spaces_and_partial_bytes():
    assert tok.token_str(262) == "␣the"
    assert readable(b"\n\t ") == "↵⇥␣"
    ids = tok.encode("🤖")  # one emoji is several byte-level tokens
    labels = tok.tokens(ids)
    assert "".join(labels).count("\\x") >= 1 or labels == ["🤖"]
    assert tok.decode(ids) == "🤖"
    assert readable(b"\xe2\x80") == "\\xe2\\x80"
    for i in (0, 100, 188, 220, 1000, 50000):  # every id has a label, no crash
        assert isinstance(tok.token_str(i), str) and tok.token_str(i)


@pytest.mark.parametrize("word", [" obey", " robot", "Hello", " unbelievable", " 東京", " 🤖", "12345", "  "])
def test_bpe_steps_end_in_encode(word):
    steps = tok.bpe_steps(word)
    assert steps[0].pair is None and all(len(p) == 1 for p in steps[0].parts)
    ranks = [s.rank for s in steps[1:]]
    assert all(r is not None for r in ranks)
    assert [tok.id_of(p) for p in steps[-1].parts] == tok.encode(word)
    for before, after in zip(steps, steps[1:]):
        assert len(after.parts) == len(before.parts) - 1
        assert b"".join(after.parts) == b"".join(before.parts)


def test_bpe_steps_take_one_piece():
    assert tok.pieces("Hello world!") == ["Hello", " world", "!"]
    with pytest.raises(gptviz.InputError, match="pieces"):
        tok.bpe_steps("Hello world")


def test_vocabulary_checksum_is_checked(tmp_path):
    src = gptviz.tokenizer.assets_dir() / "vocab" / "gpt2.tiktoken"
    bad = tmp_path / "gpt2.tiktoken"
    shutil.copy(src, bad)
    with open(bad, "ab") as f:
        f.write(b"IQ== 50256\n")
    with pytest.raises(gptviz.LoadError, match="sha256"):
        Tokenizer(bad)
    with pytest.raises(gptviz.LoadError, match="missing"):
        Tokenizer(tmp_path / "absent.tiktoken")


def test_bad_ids():
    with pytest.raises(gptviz.InputError, match="outside"):
        tok.decode([50257])


def test_token_id_reads_an_id_or_one_token_string():
    """``Tokenizer.token_id``: the one gate for "a token" that patching and attribution share."""
    tok = get_tokenizer()
    assert tok.token_id(" Tom") == tok.encode(" Tom")[0]
    assert tok.token_id(464) == 464
    with pytest.raises(InputError, match=r"answer=' Tom and' is 2 tokens"):
        tok.token_id(" Tom and", "answer")
    with pytest.raises(InputError, match="from 0 to 99"):
        tok.token_id(100, vocab_size=100)  # a model with a smaller vocabulary bounds the id
    assert tok.token_id(np.int64(464)) == 464 and type(tok.token_id(np.int64(464))) is int  # as every index
    for bad in (True, np.bool_(True), 1.0, np.float64(3), -1, 50257):
        with pytest.raises(InputError, match="from 0 to 50256"):
            tok.token_id(bad)
