# %% [markdown]
# # 7 · Generation: one token at a time
#
# A GPT writes by repeating one step: score every token, pick one, append it to the input, and run
# again. This chapter runs that loop by hand, starts texts from nothing, puts six ways of picking
# side by side, shows when generation stops, and proves the fact that makes it fast: the model
# never re-reads the tokens it has already read.
#
# **Runs offline** on the bundled model; online, `setup("gpt2")` (the same as `gptviz.load("gpt2")`)
# loads the real GPT-2.

# %%
from gptviz.notebook import setup

model = setup()  # online: setup("gpt2") for the real GPT-2
tok = model.tokenizer

# %% [markdown]
# ## The loop
#
# "In the next step, we add the output from the first step to our input sequence, and have the
# model make its next prediction." Each box below is a token: the coloured ones are the prompt, the
# white ones with a blue outline were written by the model, one per pass, and the orange bar marks
# where the prompt ends.

# %%
from gptviz.viz import token_strip

from gptviz.notebook import claim

prompt = "Tom had a little dog named Rex. One day, Tom and Rex"
out = model.generate(prompt, max_new_tokens=20, temperature=0)
claim(len(out.new_ids) == 20 and out.stop_reason != "eos", "greedy writes all 20 tokens, without ending the text")
token_strip(out)

# %% [markdown]
# The same loop by hand: run the model on all the tokens so far, take the scores at the last
# position, append the best token.
#
# ### Check your work
#
# Write `my_greedy(model, ids, n)`: the `n` ids greedy decoding appends to the list `ids`, running
# `model` on all the tokens so far at each pass, `model(torch.tensor([ids]))[0, -1]` being the scores
# at the last position (`[50257]`). The test runs it on a small random model and a prompt you have
# not seen, and on the prompt above, with gptviz's generator and samplers switched off; it compares
# your tokens with gptviz's generator, which uses a KV cache.

# %% [solution] id=ex07_greedy
import torch


def my_greedy(model, ids, n):
    ids = list(ids)
    for _ in range(n):
        with torch.no_grad():
            logits = model(torch.tensor([ids]))[0, -1]  # [50257]
        ### BEGIN SOLUTION
        ids.append(int(logits.argmax()))
        ### END SOLUTION
    return ids[-n:]

# %% [test] id=test07_greedy points=3
from gptviz import GPT
from gptviz.exercises import forbid, random_model, require
from gptviz.generation import Stepper, generate
from gptviz.sampling import Distribution, distribution, greedy_id

other = random_model(seed=7)
cases = [(other, tok.encode("Mia hid the red box under the bed."), 12), (model, tok.encode(prompt), 20)]
for m, start, n in cases:
    truth = m.generate(start, max_new_tokens=n, temperature=0, stop_at_eos=False)
    with forbid(GPT.generate, generate, Stepper, distribution, Distribution, greedy_id):
        answer = my_greedy(m, start, n)
    require(answer, truth.new_ids, what=f"my_greedy's {n} tokens on {m.config.name}",
            hint="each pass adds exactly one token, the one with the highest score, as a Python int "
                 "(not a tensor).")

# %% [markdown]
# ## Unconditional samples: starting from `<|endoftext|>`
#
# "In the rambling case, we can simply hand it the start token and have it start generating words
# (the trained model uses `<|endoftext|>` as its start token)." With no prompt, gptviz starts from
# that token, id 50256. Sampling from the full distribution (chapter 6) gives a different story for
# every seed:

# %%
for seed in range(3):
    sample = model.generate(None, max_new_tokens=40, seed=seed)  # temperature 1, nothing cut
    print(f"seed {seed}: {sample.new_text!r}\n")
print("the first token of each:", tok.token_str(sample.prompt_ids[0]), sample.prompt_ids)

# %% [markdown]
# Seed 2's text is gibberish, and the full distribution is why. After `<|endoftext|>` three ways of
# beginning (`Once`, `In`, `There`) take three quarters of the probability; the last quarter is
# spread thinly over thousands of other tokens, and at temperature 1 with nothing cut, one of them
# can come out. Seed 2 drew `␣peac`, a token with a probability under 1 in 10,000. Every training
# story begins with one of those three words, but not every training document is a story: after
# every eighth story comes a span of tokens drawn at random from the stories' own, which teaches
# copying (chapter 10). A text that begins with an odd token looks like one of those, and the model
# reads on accordingly: it spreads its guesses almost evenly over the 3,773 tokens it knows (its
# entropy averages more than 8 nats per token; an even spread over 3,773 tokens is 8.2), against
# under 1 nat in seed 0's story. From then on every token is a nearly random draw. Top-k sampling
# (chapter 6) cuts that tail off: `␣peac` ranks in the thousands, far below the 40 tokens that
# top-40 keeps.

# %%
from gptviz.tokenizer import EOT_ID

first = torch.softmax(model.trace([EOT_ID])["logits"][0], -1)  # the first token's distribution
top3 = first.topk(3)
print("most likely first tokens:", [(tok.decode([i]), round(p, 2)) for p, i in zip(top3.values.tolist(), top3.indices.tolist())])
claim(0.7 < top3.values.sum() < 0.8, "three ways of beginning take three quarters of the probability")

# %%
import math

from gptviz.interventions import learned_tokens
from gptviz.sampling import entropy

mean_entropy = {}
for seed in (0, 2):
    sample = model.generate(None, max_new_tokens=40, seed=seed)
    probs = model.trace(sample.prompt_ids + sample.new_ids)["logits"][1:].softmax(-1)  # [40, vocab]
    mean_entropy[seed] = entropy(probs).mean().item()  # nats per token
    print(f"seed {seed}: first token {tok.decode(sample.new_ids[:1])!r}, probability {first[sample.new_ids[0]]:.2g};"
          f" then a mean entropy of {mean_entropy[seed]:.1f} nats per token")
n_known = len(learned_tokens(model))
claim(tok.decode(sample.new_ids[:1]) == " peac" and first[sample.new_ids[0]] < 1e-4, "seed 2 drew ␣peac, a token with a probability under 1 in 10,000")

# %%
from gptviz.corpus import generate_stories, training_stream

openings = {tok.decode(tok.encode(s.text)[:1]) for s in generate_stories(2000, seed=0)}  # training stories' first tokens
stream = training_stream(generate_stories(80, seed=0), tok)  # 80 training stories, as the trainer lays them out
documents = tok.decode(stream).split("<|endoftext|>")[:-1]
spans = [d for d in documents if not d.startswith(tuple(openings))]
print(f"{len(documents)} documents after 80 stories, {len(spans)} of them random spans")
claim(len(spans) == 80 // 8 and len(documents) == 80 + 80 // 8, "after every eighth story comes a span of random tokens")
rank = int((first > first[sample.new_ids[0]]).sum()) + 1
print(f"the first token of 2,000 training stories: {sorted(openings)}; ␣peac's rank: {rank:,}")
claim(openings == {tok.decode([i]) for i in top3.indices.tolist()} == {"Once", "In", "There"} and rank > 1000,
      "every training story begins with one of those three words; ␣peac ranks in the thousands, far below top-40")
claim(n_known == 3773 and abs(mean_entropy[2] - math.log(n_known)) < 0.1 and mean_entropy[0] < 1 and abs(math.log(n_known) - 8.2) < 0.05,
      "entropy above 8 nats (an even spread over 3,773 tokens is 8.2), against under 1 nat for seed 0")

# %% [markdown]
# ## Six ways to pick, side by side
#
# The same prompt and the same seed, six ways of picking each token: greedy (always the top token),
# the full distribution (temperature 1, nothing cut), top-k = 40, and the full distribution at
# temperatures 0.5, 0.8 and 1.5. Full sampling and top-40 draw the same random numbers, so they
# write the same words until a draw lands where their two distributions differ. The `nats` column
# is the loss of each text under the model's own distribution, how unlikely its words are:
# temperature 1.5's is by far the highest, and at 1.5 the sentences come apart; greedy's is lower
# than full sampling's and top-40's. The `repeated` column is the share of 4-token phrases that
# already came earlier: over 40 tokens, none of the six repeats itself yet.

# %%
from gptviz.decoding import format_rows, side_by_side
from gptviz.notebook import claim

story_prompt = "Once upon a time, there was a little girl named Lily."
rows = {r.name: r for r in side_by_side(model, story_prompt, max_new_tokens=40, seed=0)}
print(format_rows(list(rows.values())))
full_ids, top40_ids = rows["full distribution"].generation.new_ids, rows["top-k 40"].generation.new_ids
same = next((i for i, (a, b) in enumerate(zip(full_ids, top40_ids)) if a != b), len(full_ids))
print(f"full distribution and top-40: the same first {same} tokens")
claim(0 < same < len(full_ids), "full sampling and top-40 write the same words until a draw lands where they differ")
nats = {name: r.surprisal for name, r in rows.items()}
claim(max(nats, key=nats.get) == "temperature 1.5" and nats["temperature 1.5"] > 2 * sorted(nats.values())[-2],
      "temperature 1.5's is by far the highest")
claim(nats["greedy"] < min(nats["full distribution"], nats["top-k 40"]), "greedy's is lower than full sampling's and top-40's")
claim(all(r.repeated == 0 for r in rows.values()), "over 40 tokens, none of the six repeats itself yet")

# %% [markdown]
# One text of 40 tokens is a noisy measure, though. Here temperature 0.5's text is more surprising
# than full sampling's, which a lower temperature should not be: it picked a few unlikely words
# (its costliest, `␣flashlight`, more than 4 nats), and a handful of those sets a 40-token mean.
# Over 20 seeds the order comes back: the median text's loss is lowest for greedy, then
# temperature 0.5, then full sampling, and highest at 1.5.

# %%
import statistics

from gptviz.interventions import position_losses
from gptviz.notebook import budget

plan = budget(model)  # the counts below: the bundled model's own, smaller on a larger model

cool = rows["temperature 0.5"].generation
losses = position_losses(model.trace(cool.prompt_ids + cool.new_ids))[len(cool.prompt_ids) - 1:]  # the new tokens'
worst = int(losses.argmax())
print(f"temperature 0.5's costliest word: {tok.decode([cool.new_ids[worst]])!r}, {losses[worst]:.1f} nats")
runs = [list(rows.values())] + [side_by_side(model, story_prompt, max_new_tokens=40, seed=seed)
                                for seed in range(1, plan.seeds)]  # seed 0's rows are the ones above
median = {r.name: statistics.median(run[i].surprisal for run in runs) for i, r in enumerate(runs[0])}
print(f"median nats over {plan.seeds} seeds:", {name: round(x, 2) for name, x in median.items()})
claim(nats["temperature 0.5"] > nats["full distribution"] and tok.decode([cool.new_ids[worst]]) == " flashlight"
      and losses[worst] > 4, "temperature 0.5's text is more surprising than full sampling's; ␣flashlight costs > 4 nats")
claim(median["greedy"] < median["temperature 0.5"] < median["full distribution"] < median["temperature 1.5"]
      and max(median, key=median.get) == "temperature 1.5",
      "over 20 seeds the median loss is lowest for greedy, then 0.5, then full sampling, highest at 1.5")

# %% [markdown]
# ## Greedy repeats itself
#
# Greedy decoding has no randomness: the same context always gives the same pick, so the seed
# changes nothing. And when a context comes back that is like an earlier one, the same words come
# back too. Let every setting write on past `<|endoftext|>` until the context is full (on a model
# larger than the bundled one, for `plan.long_tokens` tokens), and count the
# share of 4-token phrases that already appeared earlier in the text: greedy's is the highest,
# more than twice every sampler's. When its first story ends, greedy begins another and retells the
# first: the same plot, whole phrases word for word. A context like an earlier one
# brings back the same picks, and each copied phrase makes the next one likelier still (chapter 10
# finds the head that copies what came before). That is the notes' point: "better results are
# achieved if the model considers other words as well". A sampler can leave a path it has taken
# before; greedy cannot.

# %%
from gptviz.decoding import longest_repeat
from gptviz.tokenizer import EOT_ID

long = side_by_side(model, story_prompt, max_new_tokens=plan.long_tokens, seed=0, stop_at_eos=False)
for r in long:
    print(f"{r.name:18} {len(r.generation.new_ids)} tokens, {r.repeated:.1%} of its 4-token phrases repeated")
greedy = long[0].generation
again = model.generate(story_prompt, max_new_tokens=plan.long_tokens, temperature=0, seed=1, stop_at_eos=False)
print("greedy with another seed: the same text:", again.new_ids == greedy.new_ids)
greedy_ids = greedy.prompt_ids + greedy.new_ids
length, first, second = longest_repeat(greedy_ids)
print(f"the longest phrase written twice, {length} tokens, at positions {first} and {second}, begins:")
print(repr(tok.decode(greedy_ids[second:second + 12])))
others = max(r.repeated for r in long[1:])
ends = [t for t in range(len(greedy.prompt_ids), len(greedy_ids)) if greedy_ids[t] == EOT_ID]
story_end = ends[0] if ends else len(greedy_ids)  # where greedy's first story ends (if it does)
print(f"the first story ends at position {story_end}; the second begins:")
print(repr(tok.decode(greedy_ids[story_end + 1:story_end + 41])))
claim(long[0].name == "greedy" and long[0].repeated > 2 * others, "greedy's share is more than twice every sampler's")
claim(again.new_ids == greedy.new_ids, "the seed changes nothing")
claim(length >= 10 and first < story_end < second, "the second story retells the first, whole phrases word for word")

# %% [markdown]
# ## When does it stop?
#
# "The model continues iterating until the entire context is generated (1024 tokens) or until an
# end-of-sequence token is produced." A story ends with `<|endoftext|>`; with `stop_at_eos=False`
# the model writes on until its context is full: 1,024 tokens for GPT-2, 256 for the bundled model.

# %%
from gptviz import PRESETS

story = model.generate("Once upon a time", max_new_tokens=plan.stop_tokens, top_k=40, seed=1)
print("stopped by:", story.stop_reason, "after", len(story.new_ids), "tokens; last:", tok.token_str(story.new_ids[-1]))
full = model.generate("Once upon a time", max_new_tokens=plan.stop_tokens, top_k=40, seed=1, stop_at_eos=False)
print("without stopping at the end token:", full.stop_reason,
      "at", len(full.prompt_ids) + len(full.new_ids), "tokens = n_ctx", model.config.n_ctx)
print("GPT-2's context:", PRESETS["gpt2"].n_ctx, "tokens")

# %% [markdown]
# ## GPT-2 does not re-interpret the first token
#
# "Each layer of GPT-2 has retained its own interpretation of the first token and will use it in
# processing the second token. GPT-2 does not re-interpret the first token in light of the second
# token." The causal mask (chapter 3) makes this exact: nothing a token computes depends on later
# tokens. Run the model on a text, then on the same text with more tokens after it: every layer's
# keys and values of the first tokens are identical.

# %%
short = tok.encode("Tom had a little dog")
longer = short + tok.encode(" named Rex. One day, the dog ran away.")
a, b = model.trace(short), model.trace(longer)
n = len(short)
same = [torch.allclose(a[f"blocks.{i}.attn.{kv}"], b[f"blocks.{i}.attn.{kv}"][:, :n], atol=1e-5)
        for i in range(model.config.n_layer) for kv in ("k", "v")]
print(f"{n} first tokens; keys and values unchanged in all {model.config.n_layer} layers:", all(same))
print("their residual streams too:", torch.allclose(a["blocks.3.resid_post"], b["blocks.3.resid_post"][:n], atol=1e-4))

# %% [markdown]
# ## The KV cache
#
# So the keys and values of earlier tokens can be kept, one set per layer, in a *KV cache*. Each
# new step then computes q, k and v for the new token only and attends over the stored ones: "the
# second path is the only one that's active". With and without the cache, the same tokens come out:

# %%
cached = model.generate(prompt, max_new_tokens=30, top_k=40, seed=5)
uncached = model.generate(prompt, max_new_tokens=30, top_k=40, seed=5, use_cache=False)
print("same text with and without the cache:", cached.new_ids == uncached.new_ids)
print(cached.new_text)
claim(cached.new_ids == uncached.new_ids and len(cached.new_ids) >= 20, "the same 20 tokens or more, with and without the cache")

# %% [markdown]
# Step by step, the cache grows by one row per token, while the prompt was read once:

# %%
from gptviz.generation import Stepper

stepper = Stepper(model, prompt, top_k=40, seed=5)
print("after reading the prompt:", stepper.cache_rows())
for _ in range(3):
    step = stepper.step()
    print(f"picked {step.token!r:10}", stepper.cache_rows())

# %% [markdown]
# ## Explore
#
# Step through generation one token at a time and watch the KV cache grow: one new row per step, every earlier row reused (needs a running notebook).

# %%
# NBVAL_IGNORE_OUTPUT
from gptviz.widgets import GenerationStepper

GenerationStepper(model, prompt)
