"""The story generator: deterministic, varied, and built so that a model must read back."""

from __future__ import annotations

import re

import pytest

from gptviz.corpus import (BOYS, GIRLS, PET_NAMES, PLOTS, corpus_text, encode_stories, generate_stories, name_positions,
                           training_stream)
from gptviz.story_world import (ANIMAL_TRAITS, ANIMALS, DOING, HURTS, TOYS, WORDS, doings_for, foods_for,
                                toys_with)
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


# ---- the constraint tables hold in the text ------------------------------------------------------
@pytest.fixture(scope="module")
def many_stories():
    return generate_stories(3000, seed=5)


def _animal_before(text: str, phrase: str) -> list[str]:
    """The word just before every occurrence of ``phrase`` (the animal doing it, in every template)."""
    return re.findall(rf"(\w+) {re.escape(phrase)}", text)


def test_every_animal_does_only_what_its_traits_allow(many_stories):
    checked = 0
    for s in many_stories:
        for phrase, need in DOING:
            for animal in _animal_before(s.text, phrase):
                assert animal in ANIMAL_TRAITS, (animal, phrase, s.text)
                assert ANIMAL_TRAITS[animal].issuperset(need.split()), (animal, phrase, s.text)
                checked += 1
    assert checked > 500


def test_only_winged_animals_flap_and_only_fliers_fly(many_stories):
    winged = {a for a, t in ANIMAL_TRAITS.items() if "wings" in t}
    fliers = {a for a, t in ANIMAL_TRAITS.items() if "flies" in t}
    assert {"penguin", "chick"} <= winged - fliers and not {"fox", "squirrel", "camel"} & winged
    for s in many_stories:
        for animal in re.findall(r"(\w+) flapping its wings", s.text):
            assert animal in winged, s.text
        for word in re.findall(r"(\w+) (?:flying|flew)\b", s.text):  # an animal flies, or a light toy in the wind
            assert word in fliers or word in {w for toy in toys_with("light") for w in toy.split()}, s.text


def test_toys_never_eat_and_animals_eat_from_their_diet(many_stories):
    eaters = 0
    for s in many_stories:
        for toy in TOYS:
            assert not re.search(rf"\b{toy} (?:ate|eats|eating|munching)\b", s.text), s.text
        for kind in {c.kind for c in s.characters if c.kind in ANIMAL_TRAITS}:
            name = next(c.name for c in s.characters if c.kind == kind)
            for food in re.findall(rf"{name} ate the ([\w ]+?) that|gave {name} some ([\w ]+?)(?: and water| every day)",
                                   s.text):
                food = "".join(food)
                assert food in foods_for(kind), (kind, food, s.text)
                eaters += 1
    assert eaters > 50


def test_hurts_fit_the_animal_and_carried_things_are_small(many_stories):
    small, light = set(toys_with("small")), set(toys_with("light"))
    for s in many_stories:
        if s.plot == "help_animal":
            kind = s.characters[-1].kind
            for hurt, need in HURTS:
                if hurt in s.text:
                    assert need in ANIMAL_TRAITS[kind], (kind, hurt, s.text)
        carried = r"grabbed the ([\w -]+?)(?: and ran|!)|took the ([\w -]+?) in its beak|took the ([\w -]+?) and ran after"
        for toy in re.findall(carried, s.text):  # only animals carry things off
            assert "".join(toy) in small, s.text
        for toy in re.findall(r"blew the ([\w -]+?) away", s.text):
            assert toy in light, s.text


def test_the_world_is_wide(many_stories):
    ids = encode_stories(many_stories, get_tokenizer())
    assert len(set(ids)) > 2500
    assert len(WORDS) > 1000 and len(ANIMALS) > 80 and len(TOYS) > 100
    assert all(foods_for(a) and doings_for(a) for a in ANIMALS)  # every animal eats something and does something


def test_lists_and_songs_come_back_word_for_word(many_stories):
    for s in many_stories:
        if s.plot == "spelling_words":
            lists = re.findall(r": ([\w ,-]+)\.", s.text)
            assert len(lists) >= 2 and len(set(lists)) == 1, s.text
        if s.plot == "song_twice":
            verses = re.findall(r'(?:sang,|like this:|again:|slowly:|too:|together:) "([^"]+)\."', s.text)
            assert len(verses) >= 2 and len(set(verses)) == 1, s.text


def test_training_stream_repeats_spans_of_story_tokens():
    tok = get_tokenizer()
    stories = generate_stories(40, seed=2)
    ids = training_stream(stories, tok, repeat_every=4, seed=0)
    docs, doc = [], []
    for t in ids:
        if t == EOT_ID:
            docs.append(doc)
            doc = []
        else:
            doc.append(t)
    assert len(docs) == 50 and ids[-1] == EOT_ID
    story_tokens = set(encode_stories(stories, tok))
    spans = docs[4::5]
    for span in spans:
        copies = 3 if span[: len(span) // 3] * 3 == span else 2
        n = len(span) // copies
        assert span == span[:n] * copies and 4 <= n <= 90
        assert set(span) <= story_tokens
    assert training_stream(stories, tok, repeat_every=4, seed=0) == ids
    assert training_stream(stories, tok, repeat_every=0) == encode_stories(stories, tok)
