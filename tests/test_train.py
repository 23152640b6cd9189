"""The training loop on a micro model: examples, the restricted softmax, loss going down, saving."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import gptviz
from gptviz.config import GPTConfig
from gptviz.corpus import encode_stories, generate_stories
from gptviz.hub import save_checkpoint
from gptviz.model import GPT
from gptviz.tokenizer import get_tokenizer
from gptviz.loss import next_token_loss
from gptviz.train import SubsetHead, fresh_model, lr_at, sliding_windows, story_starts, train, validation_windows

MICRO = GPTConfig(vocab_size=50257, n_ctx=32, d_model=32, n_layer=1, n_head=2, name="micro")
ROBOT = [32, 9379, 1276, 22389, 262, 6266, 1813, 340, 13]  # "A robot must obey the orders given it."


def test_sliding_windows_on_a_sentence():
    assert get_tokenizer().encode("A robot must obey the orders given it.") == ROBOT
    inputs, targets = sliding_windows(ROBOT, context=4)
    assert inputs.tolist() == [ROBOT[i:i + 4] for i in range(5)]
    assert targets.tolist() == [ROBOT[i + 1:i + 5] for i in range(5)]
    assert inputs[0].tolist() == [32, 9379, 1276, 22389] and targets[0].tolist() == [9379, 1276, 22389, 262]
    assert inputs[-1].tolist() == [262, 6266, 1813, 340] and targets[-1].tolist() == [6266, 1813, 340, 13]
    x, y = sliding_windows(ROBOT, context=4, stride=4)
    assert x.tolist() == [ROBOT[0:4], ROBOT[4:8]] and y.tolist() == [ROBOT[1:5], ROBOT[5:9]]
    with pytest.raises(ValueError, match="window"):
        sliding_windows(ROBOT, context=9)


def test_story_starts_are_the_separators():
    tok = get_tokenizer()
    stories = generate_stories(3, seed=4)
    ids = encode_stories(stories, tok)
    starts = story_starts(ids)
    first = len(tok.encode(stories[0].text))
    assert starts[:2] == [0, first] and len(starts) == 4
    assert all(ids[i] == 50256 for i in starts[1:])


def test_fresh_model_has_unit_length_token_embeddings():
    norms = fresh_model(MICRO, seed=0).wte.weight.norm(dim=1)
    assert norms.mean().item() == pytest.approx(1.0, abs=0.05)


def test_learning_rate_warms_up_then_decays_to_the_floor():
    assert lr_at(0, 100, 1.0, warmup=10) == pytest.approx(0.1)
    assert lr_at(9, 100, 1.0, warmup=10) == pytest.approx(1.0)
    assert lr_at(55, 100, 1.0, warmup=10) == pytest.approx(0.55)
    assert lr_at(100, 100, 1.0, warmup=10) == pytest.approx(0.1)


def test_restricted_softmax_equals_the_full_softmax_once_unseen_rows_are_filled():
    model = GPT(MICRO).init_weights(0)
    used = torch.tensor(sorted(set(ROBOT)))
    head = SubsetHead(model, used)
    with torch.no_grad():
        head.unseen_row.copy_(torch.randn(MICRO.d_model, generator=torch.Generator().manual_seed(0)) * 0.5)
    x, y = (t[None] for t in sliding_windows(ROBOT, 8))  # one window: (1, 8) each
    x, y = x[:, 0], y[:, 0]
    restricted = F.cross_entropy(head.logits(model.hidden(x)).flatten(0, 1), head.targets(y).flatten())
    head.fill_unseen()
    full = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
    assert restricted.item() == pytest.approx(full.item(), rel=1e-5)  # float32 sums
    assert torch.equal(model.wte.weight[head.unseen[0]], model.wte.weight[head.unseen[-1]])


@pytest.fixture(scope="module")
def micro_run():
    tok = get_tokenizer()
    train_ids = encode_stories(generate_stories(150, seed=10), tok)
    val_ids = encode_stories(generate_stories(20, seed=11), tok)
    seen = []
    result = train(MICRO, train_ids, val_ids, starts=story_starts(train_ids), steps=60, batch_size=8, lr=3e-3, warmup=10, eval_every=20,
                   val_windows=16, seed=0, device="cpu", threads=1, progress=False, callback=lambda *e: seen.append(e))
    return result, seen


def test_a_short_run_lowers_the_loss(micro_run):
    result, seen = micro_run
    steps = [s for s, _, _ in result.history]
    assert steps == [20, 40, 60] and seen == result.history
    first_val, last_val = result.history[0][2], result.history[-1][2]
    assert last_val < first_val - 0.5
    assert last_val < 0.75 * math.log(MICRO.vocab_size)  # far below a uniform guess
    assert result.tokens_seen == 60 * 8 * MICRO.n_ctx and result.seconds > 0 and result.cpu_seconds > 0
    assert not result.model.training


def test_validation_windows_are_the_first_cuts_of_the_stream():
    ids = list(range(100, 135))  # 35 tokens: four whole windows of 8, the rest dropped
    x, y = validation_windows(ids, 8, n=3)
    assert x.tolist() == [ids[0:8], ids[8:16], ids[16:24]] and y.tolist() == [ids[1:9], ids[9:17], ids[17:25]]
    assert len(validation_windows(ids, 8, n=10)[0]) == 4


def test_the_validation_loss_is_measured_on_validation_windows():
    """The history's last validation loss is the trained model's loss (over the training tokens plus
    one class for the rest, as training scores it) on exactly validation_windows(val_ids, n_ctx,
    val_windows): the windows chapter 8 re-measures the bundled model's record on. (Validation
    tokens from the training stories: an unseen token's input row changes when training ends.)"""
    train_ids = encode_stories(generate_stories(40, seed=10), get_tokenizer())
    val_ids = train_ids[-400:]
    result = train(MICRO, train_ids, val_ids, steps=6, batch_size=4, eval_every=6, val_windows=5, seed=0,
                   device="cpu", threads=1, progress=False)
    head = SubsetHead(result.model, torch.unique(torch.tensor(train_ids)))  # its unseen row: the trained one

    def loss_on(x, y):
        with torch.no_grad():
            return next_token_loss(head.logits(result.model.hidden(x)), head.targets(y)).item()

    assert loss_on(*validation_windows(val_ids, MICRO.n_ctx, 5)) == pytest.approx(result.history[-1][2], rel=1e-5)
    assert loss_on(*validation_windows(val_ids[3:], MICRO.n_ctx, 5)) != pytest.approx(result.history[-1][2], rel=1e-3)


def test_a_saved_checkpoint_loads_in_gptviz_and_transformers(micro_run, tmp_path, monkeypatch):
    from transformers import GPT2LMHeadModel

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = micro_run[0].model
    folder = save_checkpoint(model, tmp_path / "micro")
    ids = torch.tensor([ROBOT])
    ours = gptviz.load(folder, device="cpu")
    hf = GPT2LMHeadModel.from_pretrained(folder, dtype=torch.float32).eval()
    with torch.no_grad():
        expected = model(ids)
        assert torch.allclose(ours(ids), expected, atol=1e-5)
        assert (hf(ids).logits - expected).abs().max().item() <= 1e-4
