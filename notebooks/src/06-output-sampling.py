# %% [markdown]
# # 6 · Output: from a vector to the next token
#
# At the top of the stack, each position holds one vector. The model turns the last position's
# vector into a score for every one of the 50,257 tokens of the vocabulary, turns the scores into
# probabilities, and picks one. How it picks (always the best, or at random among the good ones)
# decides whether the text is dull or alive: always taking the most likely token makes text that
# repeats itself (Holtzman et al. 2020, *The Curious Case of Neural Text Degeneration*).
#
# **Runs offline** on the bundled model; online, `setup("gpt2")` (the same as `gptviz.load("gpt2")`)
# loads the real GPT-2.

# %%
from gptviz.notebook import claim, setup

model = setup()  # online: setup("gpt2") for the real GPT-2
tok = model.tokenizer
prompt = "Once upon a time, there was a girl named Mia. One day, Mia went to the"
trace = model.trace(prompt)

# %% [markdown]
# ## The candidates
#
# The bars are the model's probabilities for the token after `prompt`, the twenty highest first, on
# a log scale (each step down the axis is ten times less likely). No one token stands out: the
# first, `␣hill`, has 0.04 and the twentieth still 0.015, and the twenty together hold less than
# half of the probability. The rest is the tail the picture leaves out: it takes 64 tokens to
# reach nine tenths of the probability.

# %%
import torch
from gptviz.sampling import distribution
from gptviz.viz import distribution_bars

logits = trace["logits"][-1]  # [50257]: the scores at the last position
dist = distribution(logits, tokenizer=tok)
ranked = dist.probs.sort(descending=True).values  # [50257]
for_90 = int((ranked.cumsum(0) < 0.9).sum()) + 1
print(f"top token {ranked[0]:.3f}, 20th {ranked[19]:.3f}, top 20 together {ranked[:20].sum():.2f}; "
      f"{for_90} tokens for nine tenths")
claim(tok.decode([int(dist.probs.argmax())]) == " hill" and abs(ranked[0] - 0.04) < 0.005
      and abs(ranked[19] - 0.015) < 0.001, "the first, ␣hill, has 0.04 and the twentieth still 0.015")
claim(ranked[:20].sum() < 0.5 and for_90 == 64, "the twenty hold less than half; 64 tokens reach nine tenths")
distribution_bars(dist, n=20)

# %% [markdown]
# ## The final vector times the embedding matrix
#
# "The model multiplies that vector by the embedding matrix. Each row in the embedding matrix
# corresponds to the embedding of a word in the model's vocabulary. The result of this
# multiplication is interpreted as a score for each word." After `ln_f`, the vector is multiplied
# by `wte` transposed: one dot product per vocabulary row, 50,257 scores. The same matrix that
# turned ids into vectors at the bottom (chapter 2) turns the vector back into scores: the weights
# are *tied*.
#
# ### Check your work
#
# Write `my_logits(final, W)`: the scores (`[T, vocab_size]`) of the final vectors `final`
# (`[T, d_model]`) against every row of an embedding matrix `W` (`[vocab_size, d_model]`). The test
# runs it on a random matrix and vectors you have not seen, with torch's `linear` switched off.

# %% [solution] id=ex06_logits
final = trace["ln_f"]  # [T, d_model]
W = model.wte.weight.detach()  # [50257, d_model]


def my_logits(final, W):
    ### BEGIN SOLUTION
    return final @ W.T
    ### END SOLUTION

# %% [test] id=test06_logits points=2
import torch
from gptviz import GPT
from gptviz.exercises import forbid, random_tensor, require

W_test, final_test = random_tensor(30, 8, seed=10), random_tensor(4, 8, seed=11)
with forbid(torch.nn.functional.linear, torch.nn.Linear.forward, GPT.forward):
    require(my_logits(final_test, W_test), torch.einsum("td,vd->tv", final_test, W_test),
            what="my_logits on a random W and vectors you have not seen",
            hint="one score per pair (position, vocabulary row): a dot product of d_model numbers. Which "
                 "shapes must the two sides of @ have to give [T, vocab_size]?")
    require(my_logits(final, W), trace["logits"], what="my_logits on the story")

# %% [markdown]
# > **Aside: "the inverse of the embedding matrix".** The comment says: "apply the inverse of the
# > initial embedding matrix". The embedding matrix is 50,257 x `d_model`: it is not square, so it
# > has no inverse, and no matrix could turn `d_model` numbers back into 50,257 independent ones.
# > GPT-2 uses the *transpose*, which is not an inverse either: it scores a vector by its dot
# > product with each token's embedding. Computed:

# %%
from gptviz.compare import inverse_vs_transpose

r = inverse_vs_transpose(model)
print(f"W is {r['rows']:,} x {r['cols']}, rank {r['rank']}: not square, no inverse")
print(f"pseudo-inverse P: max |P W - I| below one in a billion: {r['pinv_left_error'] < 1e-9} (a left inverse exists), "
      f"but W P has trace {r['pinv_projection_trace']:.0f}, not {r['rows']:,}: no right inverse")
print(f"transpose: max |W^T W - I| = {r['transpose_error']:.1f}, far from an inverse")
claim(r["rank"] == r["cols"] == model.config.d_model < r["rows"] and round(r["pinv_projection_trace"]) == r["cols"],
      "not square, so no inverse: no matrix turns d_model numbers back into 50,257 independent ones")
claim(r["transpose_error"] > 1, "the transpose is not an inverse either")
claim(torch.allclose(trace["ln_f"] @ model.wte.weight.detach().T, trace["logits"], atol=1e-4),
      "the same matrix that turned ids into vectors turns the vector back into scores: the weights are tied")

# %% [markdown]
# ## Softmax: scores to probabilities
#
# "Use softmax to get probabilities": `e^score` divided by the sum over all 50,257 tokens.
#
# ### Check your work
#
# Write `my_softmax(logits)`: the probabilities (`[V]`) of one position's scores (`[V]`), without
# torch's softmax. Subtracting the largest score first changes nothing in the result, and keeps
# `e^score` from overflowing: the test uses scores in the hundreds, which you have not seen, with
# every softmax of torch and gptviz switched off.

# %% [solution] id=ex06_probs
import torch


def my_softmax(logits):
    ### BEGIN SOLUTION
    e = torch.exp(logits - logits.max())
    return e / e.sum()
    ### END SOLUTION

# %% [test] id=test06_probs points=2
from gptviz.sampling import Distribution

softmaxes = [torch.softmax, torch.log_softmax, torch.nn.functional.softmax, torch.nn.functional.log_softmax,
             (torch.Tensor, "softmax"), (torch.Tensor, "log_softmax"), torch.nn.Softmax, distribution, Distribution]
hot = random_tensor(1000, seed=12, scale=50.0) + 400.0  # e^400 overflows a float32
for scores in (hot, trace["logits"][-1]):
    expected = torch.softmax(scores.double(), -1)
    with forbid(*softmaxes):
        require(my_softmax(scores), expected, what=f"my_softmax on {len(scores):,} scores",
                hint="a NaN or inf means e^score overflowed: the note above says what to subtract first.")
my_probs = my_softmax(logits)
print("they sum to", round(my_probs.sum().item(), 4))

# %% [markdown]
# ## Greedy: top_k = 1
#
# "We can simply select the token with the highest score (top_k = 1)." Always the same choice:

# %%
greedy = distribution(logits, top_k=1, tokenizer=tok)
print("kept:", greedy.n_kept, "token:", greedy.top(1)[0].token)
print("the argmax of the scores:", tok.token_str(int(logits.argmax())))
claim(greedy.n_kept == 1 and {greedy.draw(seed=s) for s in range(10)} == {int(logits.argmax())},
      "always the same choice: the top score")

# %% [markdown]
# ## Sampling from the whole list
#
# "A better strategy is to sample a word from the entire list using the score as the probability of
# selecting that word." With no top-k and no temperature, the draw is from the full, untruncated
# distribution: every one of the 50,257 tokens can come out, each as often as its probability says.
# Ten thousand draws with one seed: the top tokens come out at their probabilities, and the draws
# that land outside the 40 most likely tokens are as many as the probability those hold together,
# about one draw in four here.

# %%
from gptviz.notebook import claim

full = distribution(logits, tokenizer=tok)  # temperature 1, no top-k, no top-p: the whole list
draws = full.draws(10_000, seed=0)
print(f"{full.n_kept:,} tokens can be drawn")
for c in full.top(3):
    print(f"{c.token!r:10} probability {c.prob:.3f}, drawn {(draws == c.id).float().mean():.3f} of the time")
beyond40 = distribution(logits, top_k=40).mass_cut  # the probability outside the 40 most likely tokens
outside = (~torch.isin(draws, full.kept[:40])).float().mean().item()
print(f"outside the top 40: {outside:.3f} of the draws; the probability they hold: {beyond40:.3f}")
claim(full.n_kept == model.config.vocab_size, "every one of the 50,257 tokens can come out")
claim(all(abs((draws == c.id).float().mean() - c.prob) < 0.01 for c in full.top(3)),
      "the top tokens come out at their probabilities")
claim(abs(outside - beyond40) < 0.01 and 0.2 < beyond40 < 0.3,
      "the draws outside the top 40 are as many as their probability, about one in four")

# %% [markdown]
# ## Top-k = 40
#
# "A middle ground is setting top_k to 40, and having the model consider the 40 words with the
# highest scores." Everything below the 40th score is dropped, the 40 kept are renormalised to sum
# to 1, and one is drawn at random in proportion to its probability. A seed makes the draw repeat.

# %%
top40 = distribution(logits, top_k=40, tokenizer=tok)
print(f"{top40.n_kept} tokens kept, mass cut {top40.mass_cut:.3f}, entropy {top40.entropy:.2f} nats")
print("draws with seeds 0..9:", [tok.token_str(top40.draw(seed=s)) for s in range(10)])
claim([top40.draw(seed=s) for s in range(10)] == [top40.draw(seed=s) for s in range(10)], "a seed makes the draw repeat")

# %%
distribution_bars(top40, n=45, title="top_k = 40: the grey tokens can no longer be drawn")

# %% [markdown]
# Left of the dashed line are the 40 tokens top-k keeps. Each has two bars: its probability (blue)
# and its renormalised probability (orange), the blue one divided by the mass kept, so the 40 sum to
# 1 again. Right of the line, the grey tokens are dropped: they can no longer be drawn, however close
# their score is to the 40th.

# %% [markdown]
# ### Check your work
#
# Write `my_top_k(logits, k)`: the probabilities (`[V]`) after keeping only the `k` highest
# scores and renormalising; every other token gets 0. (`torch.topk` finds the `k` highest.) The
# test compares it with gptviz's sampler for several `k`, on random scores you have not seen and at
# two positions of the story, with the sampler switched off while your function runs.

# %% [solution] id=ex06_top_k
def my_top_k(logits, k):
    ### BEGIN SOLUTION
    best = torch.topk(logits, k).indices
    probs = torch.zeros_like(logits)
    probs[best] = torch.softmax(logits[best], -1)
    return probs
    ### END SOLUTION

# %% [test] id=test06_top_k points=3
for name, scores in [("random scores", random_tensor(500, seed=13, scale=3.0)),
                     ("position -1", trace["logits"][-1]), ("position 5", trace["logits"][5])]:
    for k in (1, 3, 10):
        expected = distribution(scores, top_k=k).probs
        with forbid(distribution, Distribution):
            require(my_top_k(scores, k), expected, what=f"my_top_k(k={k}) on {name}",
                    hint="the kept tokens' probabilities must sum to 1 among themselves; what do the dropped "
                         "scores count as in the softmax?")

# %% [markdown]
# ## Temperature
#
# Dividing the scores by a *temperature* before the softmax sharpens the distribution (T < 1) or
# flattens it (T > 1). Entropy, in nats, measures how spread out it is.
#
# **Predict before you run.** Two tokens' scores differ by 1, so at T = 1 the first is e ≈ 2.72
# times as probable as the second. How many times as probable is it at T = 0.5? Write
# `predicted_ratio` (a number, within 0.1).

# %% [solution] id=ex06_predict_temperature
### BEGIN SOLUTION
predicted_ratio = 7.39
### END SOLUTION

# %%
entropy = {}
for T in (0.5, 1.0, 1.5):
    d = distribution(logits, temperature=T, tokenizer=tok)
    best, entropy[T] = d.top(1)[0], d.entropy
    print(f"T = {T}: top token {best.token!r} with p = {best.prob:.2f}, entropy {d.entropy:.2f} nats")
claim(entropy[0.5] < entropy[1.0] < entropy[1.5], "T < 1 sharpens the distribution, T > 1 flattens it")

# %% [test] id=test06_predict_temperature points=2
pair = distribution(torch.tensor([1.0, 0.0]), temperature=0.5).probs
require(predicted_ratio, pair[0] / pair[1], what="your predicted ratio", atol=0.1, rtol=0,
        hint="what does dividing by T = 0.5 do to the gap between the two scores, and how does "
             "softmax turn a gap into a ratio of probabilities?")

# %% [markdown]
# ## Top-p (nucleus)
#
# Instead of a fixed number, keep the smallest set of most likely tokens whose probabilities add up
# to `p`. When the model is sure, that is one or two tokens; when it is unsure, many. After
# `prompt` it is unsure (its top token has 0.04), and top-p 0.9 keeps 64 tokens.

# %%
nucleus = {}
for p in (0.5, 0.9, 0.95):
    d = distribution(logits, top_p=p, tokenizer=tok)
    nucleus[p] = d.n_kept
    print(f"top_p = {p}: {d.n_kept} tokens kept, {d.mass_cut:.3f} of the probability cut")
claim(nucleus[0.9] == 64 and dist.probs.max() < 0.05, "after prompt it is unsure, and top-p 0.9 keeps 64 tokens")

# %% [markdown]
# Is the model usually sure or unsure? Over 100 validation stories it never trained on, top-p 0.9
# keeps a single token at about three positions in four: the top token alone holds 0.9. Where the
# top token holds under 0.2, top-p 0.9 keeps a median of 67 tokens, and never fewer than 6.

# %%
from gptviz.corpus import generate_stories
from gptviz.notebook import budget

top, kept = [], []  # per position: the top token's probability; how many tokens top-p 0.9 keeps
for story in generate_stories(budget(model).top_p_stories, seed=1):  # 100 on the bundled model, fewer on a larger one
    ranked = model.run(tok.encode(story.text), names=["logits"], bos=True, truncate=True)["logits"].softmax(-1).topk(500).values
    top.append(ranked[:, 0]), kept.append((ranked.cumsum(-1) < 0.9).sum(-1) + 1)  # 501: more than 500
top, kept = torch.cat(top), torch.cat(kept)
unsure = top < 0.2
print(f"{len(top):,} positions: top-p 0.9 keeps one token at {(kept == 1).float().mean():.0%}, at most two at "
      f"{(kept <= 2).float().mean():.0%}; where the top token holds under 0.2 ({unsure.float().mean():.0%} of positions): "
      f"median {int(kept[unsure].median())}, fewest {int(kept[unsure].min())}")
claim(0.7 < (kept == 1).float().mean() < 0.8, "top-p 0.9 keeps a single token at about three positions in four")
claim(int(kept[unsure].median()) == 67 and int(kept[unsure].min()) == 6, "where the top token holds under 0.2: median 67, never fewer than 6")

# %% [markdown]
# ### Check your work
#
# Write `my_top_p(logits, p)`: the probabilities (`[V]`) after keeping the smallest set of most
# probable tokens whose probabilities add up to at least `p`, renormalised; every other token gets
# 0. The test compares it with gptviz's sampler on random scores you have not seen and on the story,
# with the sampler switched off while your function runs.

# %% [solution] id=ex06_top_p
def my_top_p(logits, p):
    ### BEGIN SOLUTION
    chances = my_softmax(logits)
    order = torch.argsort(chances, descending=True)
    above = chances[order].cumsum(-1) - chances[order]  # the mass of the tokens ranked above each one
    kept = order[above < p]
    renormalised = torch.zeros_like(chances)
    renormalised[kept] = chances[kept] / chances[kept].sum()
    return renormalised
    ### END SOLUTION

# %% [test] id=test06_top_p points=3
for name, scores in [("random scores", random_tensor(300, seed=16, scale=2.0)), ("position -1", trace["logits"][-1])]:
    for p in (0.3, 0.9):
        expected = distribution(scores, top_p=p).probs
        with forbid(distribution, Distribution):
            require(my_top_p(scores, p), expected, what=f"my_top_p(p={p}) on {name}", atol=1e-5,
                    hint="sort the probabilities from the largest down and add them up: where do you stop? "
                         "The token that crosses p is kept.")

# %% [markdown]
# ## Explore
#
# Move the sliders and watch the probability mass move (needs a running notebook).

# %%
# NBVAL_IGNORE_OUTPUT
from gptviz.widgets import SamplingExplorer

SamplingExplorer(model, prompt)
