"""The story generator: deterministic, varied, and built so that a model must read back."""

from __future__ import annotations

import re

import pytest

from gptviz.corpus import BOYS, GIRLS, PET_NAMES, PLOTS, corpus_text, encode_stories, generate_stories, name_positions
from gptviz.tokenizer import EOT, EOT_ID, get_tokenizer


@pytest.fixture(scope="module")
def stories():
    return generate_stories(400, seed=3)


def test_same_seed_same_text_and_different_seed_different_text():
    a, b, c = (corpus_text(generate_stories(50, seed=s)) for s in (7, 7, 8))
    assert a == b
    assert a != c


def test_every_plot_is_used_and_stories_are_distinct(stories):
    assert {s.plot for s in stories} == {p.__name__ for p in PLOTS}
    assert len({s.text for s in stories}) == len(stories)


def test_names_are_many_and_single_tokens():
    tok = get_tokenizer()
    assert len(set(GIRLS)) + len(set(BOYS)) >= 200
    assert not set(GIRLS) & set(BOYS) and not set(PET_NAMES) & set(GIRLS + BOYS)
    for name in GIRLS + BOYS + PET_NAMES:
        assert len(tok.encode(" " + name)) == 1, name


def test_every_named_character_is_named_again_later(stories):
    for s in stories:
        for c in s.characters:
            if c.named:
                assert len(re.findall(rf"\b{c.name}\b", s.text)) >= 2, (c.name, s.text)


def test_mentions_point_at_their_character(stories):
    for s in stories:
        for m in s.mentions:
            c, word = s.characters[m.who], s.text[m.start:m.end]
            expected = c.name if m.form == "name" else c.pronoun(m.form)
            assert word.lower() == expected.lower(), (word, c, s.text)
            if m.form != "name":  # a pronoun comes after its character has been named
                assert c.name in s.text[:m.start], (c.name, s.text)


def test_every_he_or_she_pronoun_agrees_with_a_character(stories):
    """No pronoun is written into a template by hand: each is a character's, of the right gender."""
    for s in stories:
        spans = {(m.start, m.end): s.characters[m.who].gender for m in s.mentions if m.form != "name"}
        for hit in re.finditer(r"\b(he|she|him|his|her)\b", s.text, flags=re.IGNORECASE):
            gender = spans.get(hit.span())
            assert gender is not None, (hit.group(), s.text)
            assert (gender == "she") == (hit.group().lower() in ("she", "her")), (hit.group(), s.text)


def test_key_object_comes_back(stories):
    for s in stories:
        for obj in s.objects:
            assert s.text.count(obj) >= 2, (obj, s.text)


def test_stream_has_many_distinct_tokens_and_one_separator_per_story(stories):
    ids = encode_stories(stories, get_tokenizer())
    assert ids.count(EOT_ID) == len(stories) and ids[-1] == EOT_ID
    assert len(set(ids)) > 1000
    assert EOT not in stories[0].text


def test_name_positions_finds_repeated_names():
    # the name 7 is first read at position 1; position 3 is followed by it again
    assert name_positions([5, 7, 5, 9, 7, 7], {7}) == [3, 4]
    assert name_positions([5, 7, 5], {7}) == []


def test_name_positions_in_a_story(stories):
    tok = get_tokenizer()
    s = stories[0]
    ids = tok.encode(s.text)
    found = name_positions(ids, s.name_ids(tok))
    names = {c.name for c in s.characters if c.named}
    assert found
    assert all(tok.decode([ids[t + 1]]).strip() in names for t in found)
    first = {i: ids.index(i) for i in s.name_ids(tok)}
    assert all(t >= first[ids[t + 1]] for t in found)
