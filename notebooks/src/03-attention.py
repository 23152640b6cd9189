# %% [markdown]
# # 3 · Attention: tokens looking back
#
# Attention is how information moves *between* tokens. In every block, each token asks a question
# (its *query*), every earlier token offers a label (its *key*) and a message (its *value*); the
# better a key matches the query, the more of that token's value is taken. This chapter computes one
# head by hand, checks every step against the model, then finds a head in the bundled model that
# looks back at a character's name.
#
# **Runs offline** on the bundled model; online, `setup("gpt2")` (the same as `gptviz.load("gpt2")`)
# loads the real GPT-2.

# %%
from gptviz.interventions import learned_tokens
from gptviz.notebook import claim, setup

model = setup()  # online: setup("gpt2") for the real GPT-2
text = ("In a village lived a happy boy named Doug. He had an orange blanket. One afternoon, Doug "
        "went to the market to skip and hop. A soft wind moved the leaves. Doug heard a small sound "
        "on a high branch.")  # the first 46 tokens of a validation story
trace = model.trace(text)  # (generate_stories(200, seed=1)[92])
print(len(trace.ids), "tokens")
claim(set(trace.ids) <= set(learned_tokens(model).tolist()),
      "every token of the story is one the model knows")

# %% [markdown]
# ## One query, step by step
#
# The picture follows one token, `.` at position 35, just before `␣Doug` comes back, in block 2,
# head 3 (the end of this chapter finds out what this head is for): the dot product of its query
# with every earlier key, the scaling, the softmax that turns scores into coefficients that add up
# to 1, and the weighted sum of the value vectors.
# One row per key token runs across all four panels, so you can follow a key from its dot product
# to its share of the output. The softmax turns a lead in the scores into almost all of the weight:
# the first `␣Doug` (position 8) gets 0.78 and the second (19) 0.19, together more than 0.95, so the output `z` is almost
# exactly their value vectors, weighted and summed (cosine similarity above 0.99).

# %%
import numpy as np
from gptviz.attention import qk_steps
from gptviz.viz import qk_view

steps = qk_steps(trace, layer=2, head=3, query=35)
dougs = [j for j, token in enumerate(trace.tokens[:35]) if token == "␣Doug"]
on_doug = steps["weighted"][dougs].sum(0)  # [d_head]: the two ␣Doug rows of panel 4
print("coefficients of the ␣Doug keys", dougs, ":", steps["coefficients"][dougs].round(2).tolist())
cosine = float(on_doug @ steps["z"] / (np.linalg.norm(on_doug) * np.linalg.norm(steps["z"])))
claim(dougs == [8, 19] and steps["coefficients"].argmax() == 8
      and np.allclose(steps["coefficients"][dougs], [0.78, 0.19], atol=0.01),
      "the first ␣Doug (position 8) gets 0.78 and the second (19) 0.19")
claim(steps["coefficients"][dougs].sum() > 0.95 and cosine > 0.99, "together more than 0.95; z cosine above 0.99")
qk_view(trace, layer=2, head=3, query=35)

# %% [markdown]
# ## q, k and v
#
# Every head takes the same steps. From here on the chapter works them out by hand in block 0,
# head 0, whose input is the easiest to reach. The block first normalises each token's vector (`ln_1`, chapter 5), then multiplies it by one
# matrix, `attn.c_attn`, that holds the query, key and value matrices of every head side by side.
# Head `h` uses columns `h*d_head ... (h+1)*d_head` of each. The comment says GPT-3's are
# "12288x128"; here they are `d_model x d_head`:

# %%
import torch

c = model.config
x = trace["blocks.0.ln_1"]  # [T, d_model]: what attention reads
W, b = model.h[0].attn.c_attn.weight.detach(), model.h[0].attn.c_attn.bias.detach()  # [3D, D], [3D]
h, d = 0, c.d_head
cols = slice(h * d, (h + 1) * d)
Wq, Wk, Wv = (W[part * c.d_model:(part + 1) * c.d_model][cols].T for part in range(3))  # each [D, d]
bq, bk, bv = (b[part * c.d_model:(part + 1) * c.d_model][cols] for part in range(3))
q, k, v = x @ Wq + bq, x @ Wk + bk, x @ Wv + bv  # each [T, d_head]
print("W_q of one head:", list(Wq.shape), " q:", list(q.shape))
print("q matches the trace:", torch.allclose(q, trace["blocks.0.attn.q"][h], atol=1e-5))

# %% [markdown]
# ## Scores: dot products, scaled
#
# "For each token, compute the dot product of its query vector with the key vectors of all previous
# tokens, scale by 1/sqrt of the vector dimension." `q @ k.T` holds every query-key dot product at
# once; row `i` is token `i`'s query.

# %%
import math

scores = (q @ k.T) / math.sqrt(d)  # [T, T]
print("d_head =", d, " scale = 1/sqrt(d_head) =", round(1 / math.sqrt(d), 4))
print("token 3's scores over tokens 0..3:", [round(s, 3) for s in scores[3, :4].tolist()])

# %% [markdown]
# > **Aside: why divide by sqrt(d)?** For vectors with independent entries of variance 1, the dot
# > product has variance `d`: the wider the head, the larger the scores, and a softmax of large
# > scores puts nearly all the weight on one token. Dividing by `sqrt(d)` brings the variance back
# > to 1. Computed on random vectors:

# %%
from gptviz.compare import dot_product_variance

for width in (32, 64, 128):
    r = dot_product_variance(width)
    print(f"d = {width:3}: variance of q.k {r['unscaled']:7.1f}, after / sqrt(d) {r['scaled']:.2f}")

# %% [markdown]
# ## The causal mask, then softmax
#
# "Previous tokens": a token may not look at tokens after it (when generating, they do not exist
# yet). The scores above the diagonal are set to minus infinity, so the softmax gives them weight 0.
# The diagonal itself is kept: "all previous tokens" includes the token itself.
# The softmax, `e^x` divided by the sum, makes each row positive and sum to 1: these are the
# *attention coefficients*.
#
# ### Check your work
#
# Write `my_pattern(q, k)`: one head's coefficients (`[T, T]`) from its queries and keys (each
# `[T, d_head]`): the scaled scores, the mask, the softmax. The test runs it on random queries and
# keys of another width, which you have not seen, with torch's fused attention switched off.
#
# **Predict before you run.** What weight does token 0 put on itself, in every head of every
# block? Write `predicted_first_weight` (a number) in the same cell.

# %% [solution] id=ex03_pattern
def my_pattern(q, k):
    ### BEGIN SOLUTION
    T, d_head = q.shape
    scores = (q @ k.T) / math.sqrt(d_head)
    future = torch.ones(T, T, dtype=torch.bool).triu(1)  # True above the diagonal
    return torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
    ### END SOLUTION

### BEGIN SOLUTION
predicted_first_weight = 1.0
### END SOLUTION

# %% [test] id=test03_pattern points=3
from gptviz.exercises import forbid, random_tensor, require

T = len(trace.ids)
for seed, (n, width) in enumerate([(6, 4), (9, 25)]):
    q_test, k_test = random_tensor(n, width, seed=seed, scale=3.0), random_tensor(n, width, seed=seed + 10, scale=3.0)
    future = torch.ones(n, n, dtype=torch.bool).triu(1)
    expected = torch.softmax(((q_test @ k_test.T) / math.sqrt(width)).masked_fill(future, float("-inf")), -1)
    with forbid(torch.nn.functional.scaled_dot_product_attention):
        require(my_pattern(q_test, k_test), expected, what=f"my_pattern on random [{n}, {width}] queries "
                "and keys you have not seen",
                hint="three steps: the scale uses the width of these vectors (q.shape[-1]); the future "
                     "(above the diagonal) must get weight 0, so what must its score be before the softmax?")
require(my_pattern(q, k), trace["blocks.0.attn.pattern"][0], what="my_pattern on head 0's q and k")

# %% [test] id=test03_predict_first_weight points=1
first = torch.stack([trace[f"blocks.{i}.attn.pattern"][:, 0, 0] for i in range(c.n_layer)])  # [layer, head]
require(torch.full_like(first, float(predicted_first_weight)), first, what="your prediction, in every head,",
        hint="which positions may token 0 attend to, and what must the weights of one row add up to?")

# %% [markdown]
# The model's own coefficients show both halves of the mask: nothing above the diagonal, and a
# weight on the diagonal, the token itself, in every row of every head.

# %%
p = trace["blocks.0.attn.pattern"]  # [n_head, T, T]
self_weight = p.diagonal(dim1=-2, dim2=-1)  # [n_head, T]: each token's weight on itself
print("every row sums to 1:", torch.allclose(p.sum(-1), torch.ones(c.n_head, T)))
print("nothing above the diagonal:", bool((p.triu(1) == 0).all()))
print("a weight on the token itself in every row:", bool((self_weight > 0).all()),
      f"(on average {self_weight.mean():.2f})")
claim(bool((p.triu(1) == 0).all()) and bool((self_weight > 0).all()),
      "nothing above the diagonal, and a weight on the diagonal in every row of every head")

# %% [markdown]
# ## The weighted sum of values
#
# The head's output for token `i` is the sum of the value vectors of tokens `0..i`, each weighted by
# its coefficient: `z = pattern @ v`.

# Write `my_z(pattern, v)`, one head's output (`[T, d_head]`) from its coefficients (`[T, T]`) and
# value vectors (`[T, d_head]`). The test runs it on a random pattern and values you have not seen.

# %% [solution] id=ex03_z
def my_z(pattern, v):
    ### BEGIN SOLUTION
    return pattern @ v  # [T, T] @ [T, d_head]
    ### END SOLUTION

# %% [test] id=test03_z points=2
v_test = random_tensor(7, 5, seed=3)
p_test = torch.softmax(random_tensor(7, 7, seed=4).masked_fill(torch.ones(7, 7, dtype=torch.bool).triu(1),
                                                                float("-inf")), -1)
with forbid(torch.nn.functional.scaled_dot_product_attention):
    require(my_z(p_test, v_test), torch.einsum("ij,jd->id", p_test, v_test),
            what="my_z on a random pattern and values you have not seen",
            hint="row i of the output mixes the value vectors, each weighted by row i's coefficient for it: "
                 "which matrix operation does that for every row at once?")
require(my_z(my_pattern(q, k), v), trace["blocks.0.attn.z"][0], what="my_z on head 0")

# %% [markdown]
# ## All heads: concatenate, project, add
#
# Every head does the same with its own matrices. "For each token, glue the outputs for all
# attention
# heads in the layer": the `n_head` outputs of `d_head` numbers sit side by side, making `d_model`
# numbers again; one more matrix (`attn.c_proj`) mixes them. The result is *added* to the token's
# vector: the residual connection (chapter 5).
#
# > **Aside: the step the comment leaves out.** The comment goes straight from "glue the outputs"
# > to "add the input and normalize". GPT-2 (and GPT-3) multiply the glued vector by the output
# > projection `c_proj` first, a `d_model x d_model` matrix and a bias in every block; the glued
# > vector itself is never added. The cell after the exercise measures the difference.

# ### Check your work
#
# Write `my_attn_out(z, c_proj)`: glue the heads' outputs `z` (`[n_head, T, d_head]`) side by side
# (`[T, d_model]`) and apply the projection `c_proj` (an `nn.Linear`: its `weight` and `bias`) by
# hand. The test runs it on random head outputs and another model's `c_proj`, with `nn.Linear`'s own
# computation switched off; the stream after attention is then `embed.sum + my_attn_out(z, c_proj)`.

# %% [solution] id=ex03_out
z = trace["blocks.0.attn.z"]  # [n_head, T, d_head]
proj = model.h[0].attn.c_proj


def my_attn_out(z, c_proj):
    ### BEGIN SOLUTION
    n_head, T, d_head = z.shape
    glued = z.transpose(0, 1).reshape(T, n_head * d_head)  # [T, d_model]
    return glued @ c_proj.weight.detach().T + c_proj.bias.detach()
    ### END SOLUTION

# %% [test] id=test03_out points=2
from gptviz.exercises import random_model

other_proj = random_model(seed=3, n_head=4, d_model=24).h[0].attn.c_proj
z_test = random_tensor(4, 5, 6, seed=5)  # 4 heads, 5 tokens, d_head 6
expected = other_proj(z_test.transpose(0, 1).reshape(5, 24)).detach()
with forbid(torch.nn.Linear.forward, torch.nn.functional.linear, torch.addmm):
    require(my_attn_out(z_test, other_proj), expected, what="my_attn_out on random heads and weights you have not seen",
            hint="for one token, the glued vector is head 0's d_head numbers, then head 1's, ...: put the "
                 "token axis first before you reshape; then a Linear computes x @ weight.T + bias.")
require(trace["embed.sum"] + my_attn_out(z, proj), trace["blocks.0.resid_mid"], what="embed.sum + my_attn_out(z, proj)")

# %% [markdown]
# ## All the heads of a block
#
# Each small map is one head's pattern: row = the token attending, column = the token attended
# to, brighter = more weight; grey cells are the masked future.

# %%
from gptviz.viz import head_grid

head_grid(trace, layer=2)

# %% [markdown]
# ## A head that looks back at a name
#
# The stories name their characters early and use the names again later, from a list of over two
# hundred names, so the model cannot guess a name: it has to *look back* at it. For every place in a
# few validation stories where the next token is a name already used, we measure how much attention
# each head pays to the earlier mentions of that name. (Spread evenly, a head would give those one
# or two tokens only a few percent.)

# %%
from gptviz.corpus import generate_stories, name_positions
from gptviz.evaluate import name_head_scores  # open gptviz/evaluate.py to read the loop

tok = model.tokenizer
stories = generate_stories(6, seed=1)  # each read after <|endoftext|>, as the model met its stories
score, count = name_head_scores(model, stories)  # [n_layer, n_head], and how many places
print(f"{count} places; attention on the earlier name, by layer (rows) and head (columns):")
print(score.round(decimals=2))

# %%
layer, head = divmod(int(score.argmax()), c.n_head)
print(f"most attention on the earlier name: layer {layer}, head {head} ({score[layer, head]:.0%} on average)")
claim(layer == 2, "it is in block 2, the block of the grid above")
claim(head == 3, "this chapter's first picture followed the same head, block 2, head 3")

# %% [markdown]
# The head is in block 2, whose four heads the grid above shows. Here it is on our story. Read a
# row as "where does this token look?". The outlined cells are where the copying happens: the row
# of each token just before a name comes back, at the column of that name's earlier mention.

# %%
from gptviz.viz import head_heatmap

names = {tok.encode(name)[0] for name in [" Doug"]}  # the story's characters
places = name_positions(trace.ids, names)  # positions t where token t + 1 is a name seen before
earlier = {t: [s for s in range(t) if trace.ids[s] == trace.ids[t + 1]] for t in places}
cells = [(t, s) for t in places for s in earlier[t]]
figure = head_heatmap(trace, layer, head, highlight=cells)
figure

# %% [markdown]
# At each of those places, the head's weight on the name's earlier mentions, and the model's own
# prediction for the next token: the head puts at least half of its weight on the name, and the
# model's top guess is that name.

# %%
pattern, probs = trace[f"blocks.{layer}.attn.pattern"][head], trace["logits"].softmax(-1)  # [T, T], [T, V]
for t in places:
    name, weight, guess = trace.ids[t + 1], float(pattern[t, earlier[t]].sum()), int(probs[t].argmax())
    print(f"after {trace.tokens[t]!r} at {t}: weight {weight:.2f} on {tok.decode([name])!r} at "
          f"{earlier[t]}; top guess {tok.decode([guess])!r} ({probs[t, guess]:.2f})")
    claim(weight >= 0.5, "the head puts at least half of its weight on the name's earlier mentions")
    claim(guess == name, "the model's top guess is that name")

# %% [markdown]
# The same head as lines: each token on the left is joined to the two tokens it attends to most,
# when they get at least 0.1, darker and thicker for a larger coefficient; the copying links are
# orange.

# %%
from gptviz.viz import head_lines

head_lines(trace, layer, head, highlight=cells)

# %% [markdown]
# ## Export a picture
#
# Every view can be saved for slides or a handout; the suffix picks the format (`.png`, `.svg`,
# `.pdf`, `.html`).

# %%
from gptviz.export import export

path = export(figure, "exports/name-copying-head.png")
print("saved", path.as_posix(), "| written:", path.is_file())

# %% [markdown]
# ## Explore
#
# Pick a layer and a head, and a token to follow (needs a running notebook).

# %%
# NBVAL_IGNORE_OUTPUT
from gptviz.widgets import AttentionExplorer

AttentionExplorer(model, trace.text)

# %% [markdown]
# ## Switch heads off
#
# A picture of a head shows what it looks at, not whether the model needs it. To test that, switch
# the head off: its output `z` becomes zeros (the same as zeroing its rows of `c_proj`), and the
# model
# runs again (`gptviz.interventions.ablate`). Each toggle below switches one head or one MLP, runs
# the
# model once, and shows the loss on the text and the next-token distribution, before and after
# (needs
# a running notebook).

# %%
# NBVAL_IGNORE_OUTPUT
from gptviz.widgets import AblationExplorer

AblationExplorer(model, trace.text)
