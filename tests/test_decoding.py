"""Decoding settings side by side: the repetition measures on texts counted by hand, and the rows'
texts and losses against generate() and a plain forward pass."""

import pytest
import torch
import torch.nn.functional as F

from gptviz.decoding import SETTINGS, format_rows, longest_repeat, repeated_share, side_by_side
from gptviz.errors import InputError


def test_repeated_share_counts_phrases_already_seen():
    ids = [1, 2, 3, 4, 1, 2, 3, 4]  # 4-token phrases end at 3..7; only the last one (1 2 3 4) came before
    assert repeated_share(ids, 0, 4) == pytest.approx(1 / 5)
    assert repeated_share(ids, 4, 4) == pytest.approx(1 / 4)  # phrases ending at 4..7, history from 0
    assert repeated_share(ids, 0, 1) == pytest.approx(4 / 8)  # the second copy of every token
    assert repeated_share([7] * 6, 0, 2) == pytest.approx(4 / 5)
    assert repeated_share([1, 2, 3, 4, 5], 0, 2) == 0
    with pytest.raises(InputError, match="no 4-token phrase ends at position 5"):
        repeated_share([1, 2, 3, 4, 5], 5, 4)
    with pytest.raises(InputError, match="whole number of tokens >= 1"):
        repeated_share([1, 2], 0, 0)


def test_longest_repeat_finds_the_longest_run_seen_twice():
    assert longest_repeat([1, 2, 3, 9, 1, 2, 3, 4]) == (3, 0, 4)
    assert longest_repeat([5, 1, 2, 6, 1, 2, 7, 5, 1, 2, 6]) == (4, 0, 7)
    assert longest_repeat([5, 6, 7]) == (0, 0, 0)
    assert longest_repeat([7, 7, 7, 7]) == (3, 0, 1)  # occurrences may overlap


def test_side_by_side_rows_are_generate_with_each_setting_and_the_same_seed(odd_model):
    prompt = odd_model.tokenizer.encode("Hello there")
    rows = side_by_side(odd_model, prompt, max_new_tokens=12, seed=3)
    assert [r.name for r in rows] == list(SETTINGS)
    for row in rows:
        alone = odd_model.generate(prompt, max_new_tokens=12, seed=3, **row.settings)
        assert row.generation.new_ids == alone.new_ids, row.name
        ids = alone.prompt_ids + alone.new_ids
        with torch.no_grad():
            logits = odd_model(torch.tensor([ids]))[0]
        expected = F.cross_entropy(logits[len(prompt) - 1:-1], torch.tensor(ids[len(prompt):])).item()
        assert row.surprisal == pytest.approx(expected, rel=1e-5)
        assert row.repeated == repeated_share(ids, len(prompt), 4)
    greedy = side_by_side(odd_model, prompt, max_new_tokens=12, seed=4, settings={"g": SETTINGS["greedy"]})[0]
    assert greedy.generation.new_ids == rows[0].generation.new_ids  # the seed changes nothing for greedy
    table = format_rows(rows)
    assert all(name in table for name in SETTINGS) and table.splitlines()[0].split()[:3] == ["setting", "nats", "repeated"]
