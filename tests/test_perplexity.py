"""Perplexity: exp of the mean loss, the effective number of choices."""

import math

import pytest
import torch

from gptviz.errors import InputError
from gptviz.evaluate import perplexity


def test_even_odds_over_k_tokens_give_perplexity_k():
    logits = torch.full((5, 10), -1e9)
    logits[:, :4] = 0.0  # four equally likely tokens at every position
    assert perplexity(logits, [0, 1, 2, 3, 0]) == pytest.approx(4.0)
    assert perplexity(torch.zeros(3, 50257), [1, 2, 3]) == pytest.approx(50257, rel=1e-5)  # knowing nothing


def test_it_is_the_exponential_of_the_mean_loss_not_the_mean_of_exponentials():
    logits = torch.randn(7, 11, generator=torch.Generator().manual_seed(1)) * 3
    targets = torch.tensor([0, 5, 10, 3, 3, 8, 1])
    nll = -torch.log_softmax(logits, -1)[torch.arange(7), targets]
    assert perplexity(logits, targets) == pytest.approx(math.exp(nll.mean().item()), rel=1e-6)
    assert perplexity(logits, targets) < nll.exp().mean().item()  # Jensen: the two differ here


@pytest.mark.parametrize("logits, targets, words", [
    (torch.zeros(4, 6), [0, 1, 2], "N target ids"),
    (torch.zeros(6), [0], "logits \\[N, vocab\\]"),
    (torch.zeros(2, 6), [0, 6], "from 0 to 5"),
    (torch.zeros(0, 6), [], "N >= 1"),
])
def test_bad_shapes_and_ids_are_refused_in_the_words_of_the_interface(logits, targets, words):
    with pytest.raises(InputError, match=words):
        perplexity(logits, torch.tensor(targets, dtype=torch.long))
