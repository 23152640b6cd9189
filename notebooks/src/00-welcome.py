# %% [markdown]
# # 0 · Welcome: a GPT, start to finish
#
# This series opens up a real GPT-2 and shows every number it computes, one idea per section, in
# the spirit of Jay Alammar's *The Illustrated GPT-2*. Each chapter gives a picture, a few
# sentences, and a short code cell whose output is the real thing.
#
# The journey of one step, in one picture:
#
# ```text
#   "Lily had a red"                                      text
#         │  tokenizer                                    chapter 1
#         ▼
#   [43, 813, 550, 257, 2266]                             token ids
#         │  a row of wte (token) + a row of wpe (position)   chapter 2
#         ▼
#   ┌──────────────── block 0 ────────────────┐
#   │  x = x + attention(LayerNorm(x))        │  tokens look back     chapter 3
#   │  x = x + feed-forward(LayerNorm(x))     │  each token alone     chapter 4
#   └─────────────────────────────────────────┘
#         ⋮   the same block, own weights: 4 here, 12 in GPT-2, 96 in GPT-3   chapter 5
#         ▼
#   LayerNorm, then × wteᵀ  →  50,257 scores  →  probabilities    chapter 6
#         │  pick one: "␣hat" (this model's top guess)
#         └──────▶ append it to the input and run again        chapter 7
# ```
#
# The chapters take it apart in order:
#
# | step | what happens | chapter |
# |---|---|---|
# | text → tokens | the text is cut into pieces from a vocabulary of 50,257 | 1 |
# | tokens → vectors | each token picks a row of the embedding matrix, plus a position vector | 2 |
# | attention | each token gathers information from the tokens before it | 3 |
# | feed-forward | each token is processed on its own by a small neural network | 4 |
# | the stack | attention + feed-forward, repeated block after block, added to a *residual stream* | 5 |
# | output | the last vector is scored against every token of the vocabulary; one is picked | 6 |
# | generation | the pick is appended to the input and the model runs again | 7 |
# | training | how the weights were learned: predict the next token, millions of times | 8 |
# | scale | the same design at GPT-3's size | 9 |
#
# **Runs offline.** The next cell loads *gptviz-stories*, a small GPT-2 (4 layers instead of 12,
# but GPT-2's design and its full vocabulary) that gptviz trained on simple children's stories and
# ships with the library. Online, change it to `model = setup("gpt2")`, the same as
# `gptviz.load("gpt2")`, to load the real GPT-2 small (124M parameters): every cell of the series
# then runs unchanged on it, with different numbers. The numbers in the picture above are this
# model's, checked below.

# %%
from gptviz import PRESETS
from gptviz.notebook import claim, setup

model = setup()  # online: setup("gpt2") for the real GPT-2
c, tok = model.config, model.tokenizer
ids = tok.encode("Lily had a red")
top = tok.token_str(int(model.trace(ids)["logits"][-1].argmax()))
print(ids, "->", top, f"  GPT-2 small: {PRESETS['gpt2'].n_layer} layers, {PRESETS['gpt2'].n_params / 1e6:.0f}M parameters;"
      f" GPT-3: {PRESETS['gpt3-175b'].n_layer} layers")
claim((c.n_layer, c.vocab_size, ids, top) == (4, 50257, [43, 813, 550, 257, 2266], "␣hat"),
      "4 layers, the full vocabulary; Lily had a red is [43, 813, 550, 257, 2266], and the top guess ␣hat")
claim((PRESETS["gpt2"].n_layer, round(PRESETS["gpt2"].n_params / 1e6), PRESETS["gpt3-175b"].n_layer) == (12, 124, 96),
      "12 layers and 124M parameters in GPT-2 small, 96 layers in GPT-3")

# %% [markdown]
# The table's last but one row, "predict the next token, millions of times", is this model's training
# record:

# %%
from gptviz.scale import trained_tokens

seen = trained_tokens(model)  # from the bundled model's training record (GPT-2 has none)
print(f"next tokens predicted in training: {seen / 1e6:,.0f} million" if seen else "no training record")
claim(seen and seen > 1e6, "training: predict the next token, millions of times")

# %% [markdown]
# ## How many tokens the bundled model knows
#
# The bundled model has GPT-2's whole vocabulary, 50,257 tokens, but its stories use only a small
# part of it, under a tenth: those are the tokens it has learned, each with an embedding row of its
# own. Every other token shares one row that stands for "a token the stories never use" (chapter 8
# says how). The cell below counts them from the weights, so the number it prints is the loaded
# model's own (the real GPT-2 knows them all):

# %%
from gptviz.interventions import learned_tokens

known = learned_tokens(model)  # ids with a row of their own, <|endoftext|> left out
print(f"tokens known: {len(known):,} of {model.config.vocab_size:,}, plus <|endoftext|>")
print("for example:", [model.tokenizer.token_str(i) for i in known[::max(1, len(known) // 8)][:8].tolist()])
if model.config.name == "gptviz-stories":  # the bundled model (GPT-2 itself knows every token)
    claim(len(known) < model.config.vocab_size / 10, "its stories use only a small part of it, under a tenth")

# %% [markdown]
# ## A sentence from the model
#
# Give the model the start of a story and let it write. `temperature=0` means *greedy*: at every
# step the single most likely token is taken, so the output is the same on every run.

# %%
prompt = "Once upon a time, there was a little girl named Lily. One day, Lily"
out = model.generate(prompt, max_new_tokens=30, temperature=0)
print(out.text)
print("stopped because:", out.stop_reason)
claim(model.generate(prompt, max_new_tokens=30, temperature=0).new_ids == out.new_ids, "the same on every run")

# %% [markdown]
# ## The X-ray: every token flows through every layer
#
# Jay Alammar shows GPT-3 as an X-ray: each input token enters at the bottom, travels up through
# the whole stack of layers, and comes out at the top as a guess of the *next* token. Below is that
# X-ray for our model, computed and turned on its side so it fits a page: one row per token of the
# text, and the stream flows left to right, from the embeddings through each block to the model's
# real output in the last column. Each cell holds the token the model would predict if it stopped at
# that layer (chapter 5 explains how this *logit lens* reads a layer). The orange line marks where
# the prompt ends: above it, the end of the prompt; below it, what the model wrote.

# %%
from gptviz.viz import logit_lens_view

trace = model.trace(out.prompt_ids + out.new_ids)
n_prompt = len(out.prompt_ids)
logit_lens_view(model, trace, positions=range(n_prompt - 6, n_prompt + 8), prompt_len=n_prompt)

# %% [markdown]
# "We don't care about the output of the first words. When the input is done, we start caring
# about the output." Every position gets a prediction, but while reading the prompt only the
# prediction at the *last* position is used; all the others are predictions of tokens we already
# have. That is why the outputs above the last prompt row are greyed: each one guesses a token the
# prompt already holds, and generation never reads it. The last prompt row's output is the first
# token the model wrote, and every output below the line names the token in the next row, because
# greedy decoding takes exactly that top guess. The left column is the odd one out: before any block
# has run, it names the input token itself, not the next one, in every row shown (chapter 5 says why).
#
# The probabilities are shares among the tokens the model learned. The tokens its stories never use
# all share one embedding row (the legend says how many), so they all get the same score; after
# block 0, where the stream says little yet, together they hold nearly all of the probability, and
# in all but one of the rows shown the top "guess" would be one of them, whichever came first. The
# lens leaves them out and reads the rest:

# %%
import torch
from gptviz.lens import lens_logits, logit_lens

lens = logit_lens(model, trace)
shown = list(range(n_prompt - 6, n_prompt + 8))
nearly_all = bool(lens.unseen[1, shown].min() > 0.97)
print(f"{lens.n_masked:,} tokens left out; after block 0 they hold over 97% of the full softmax in every row shown:", nearly_all)
claim(nearly_all, "after block 0, together they hold nearly all of the probability")

# %%
unseen = torch.ones(c.vocab_size, dtype=torch.bool)
unseen[known] = unseen[tok.eot_id] = False  # the tokens the stories never use
full = lens_logits(model, trace["blocks.0.resid_post"])[shown]  # [rows shown, vocab]: nothing left out
tied = bool(unseen.any()) and bool((full[:, unseen].amax(-1) == full[:, unseen].amin(-1)).all())  # GPT-2: none unseen
top_unseen = int(unseen[full.argmax(-1)].sum())
print(f"one score for all of them in every row: {tied}; the top entry is one of them in {top_unseen} of {len(shown)} rows")
claim(tied and top_unseen == len(shown) - 1, "they all get the same score; in all but one row the top guess would be one of them")
written = range(n_prompt - 1, len(trace.ids) - 1)  # the last prompt row and the rows below the line
claim(all(int(lens.ids[-1, t, 0]) == trace.ids[t + 1] for t in written),
      "every output below the line names the token in the next row")
claim(all(int(lens.ids[0, t, 0]) == trace.ids[t] for t in shown), "the left column names the input token itself in every row shown")

# %% [markdown]
# Let's compare the model's guesses with the actual text.

# %%
guesses = trace["logits"].argmax(-1)  # [T]: the top token at every position
print("tokens in the prompt:", n_prompt, "  tokens in the text:", len(trace.ids))
for t in range(n_prompt - 4, n_prompt):
    print(f"after {trace.tokens[t]!r:10} guess {model.tokenizer.token_str(guesses[t])!r:10} "
          f"actual next {trace.tokens[t + 1]!r}")

# %% [markdown]
# ## Output fed back
#
# Generation is a loop: score, pick, append, run again. Here it is, five steps by hand; each
# step's new token becomes part of the next step's input.

# %%
import torch

ids = model.tokenizer.encode(prompt)
for step in range(5):
    with torch.no_grad():
        logits = model(torch.tensor([ids]))[0, -1]  # [50257]: one score per vocabulary entry
    ids.append(int(logits.argmax()))
    print(f"step {step}: {len(ids) - 1} tokens in, picked {model.tokenizer.token_str(ids[-1])!r}")
print(model.tokenizer.decode(ids))

# %% [markdown]
# The loop gave the same tokens as `model.generate` above:

# %%
print(ids == (out.prompt_ids + out.new_ids)[: len(ids)])
claim(ids == (out.prompt_ids + out.new_ids)[: len(ids)], "the loop gave the same tokens as model.generate")

# %% [markdown]
# ## What is inside
#
# Every activation of that forward pass was recorded in the trace, under a name. Here are the
# names of the first block and their shapes (`T` tokens, 4 heads, 128-wide vectors); the chapters
# look at each of them.

# %%
for name in trace.names()[:17]:
    print(f"{name:24} {list(trace[name].shape)}")
claim((c.n_head, c.d_model) == (4, 128), "4 heads, 128-wide vectors")
print("...", len(trace.names()), "names in all, ending with", trace.names()[-2:])
