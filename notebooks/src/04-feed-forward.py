# %% [markdown]
# # 4 · The feed-forward layer: each token on its own
#
# After attention has mixed information between tokens, every block passes each token's vector,
# separately, through a small two-layer neural network: widen it four times, apply a non-linear
# function, bring it back to `d_model`, and add the result to the token's vector. This is the
# *MLP* (multi-layer perceptron), and it holds most of a large GPT's parameters.
#
# **Runs offline** on the bundled model; online, `setup("gpt2")` (the same as `gptviz.load("gpt2")`)
# loads the real GPT-2.

# %%
from gptviz.notebook import claim, setup

model = setup()  # online: setup("gpt2") for the real GPT-2
text = ("In a village lived a happy boy named Doug. He had an orange blanket. One afternoon, Doug "
        "went to the market to skip and hop. A soft wind moved the leaves. Doug heard a small sound "
        "on a high branch.")  # the first 46 tokens of a validation story
trace = model.trace(text)  # (generate_stories(200, seed=1)[92])

# %% [markdown]
# ## The neurons of one layer
#
# One row per token, one column per neuron of the wide layer, before and after the non-linearity.
# After it, most neurons are near zero for any one token; a few *fire*.

# %%
from gptviz.viz import mlp_activations

mlp_activations(trace, layer=1)

# %% [markdown]
# ## Expand four times
#
# "Apply a learned matrix, add a learned vector": `mlp.c_fc` takes the normalised vector (`ln_2`)
# from `d_model` to `d_mlp = 4 x d_model` numbers.
#
# ### Check your work
#
# Write `my_pre(x, c_fc)`, a block's neurons before the non-linearity (`[T, d_mlp]`), from the
# normalised vectors `x` (`[T, d_model]`) and the layer `c_fc` (an `nn.Linear`: its `weight` is
# `[d_mlp, d_model]`, its `bias` `[d_mlp]`), by hand. The test runs it on another model's weights and
# random inputs you have not seen, with `nn.Linear`'s own computation switched off.

# %%
import torch

mlp = model.h[1].mlp
x = trace["blocks.1.ln_2"]  # [T, d_model]
W_in, b_in = mlp.c_fc.weight.detach().T, mlp.c_fc.bias.detach()  # [d_model, d_mlp], [d_mlp]
print("d_model:", model.config.d_model, " d_mlp:", model.config.d_mlp, " W_in:", list(W_in.shape))

# %% [solution] id=ex04_pre
def my_pre(x, c_fc):
    ### BEGIN SOLUTION
    return x @ c_fc.weight.detach().T + c_fc.bias.detach()
    ### END SOLUTION

# %% [test] id=test04_pre points=2
from gptviz.exercises import forbid, random_model, random_tensor, require

other_fc = random_model(seed=4, d_model=12).h[0].mlp.c_fc  # 12 -> 48 neurons
x_test = random_tensor(5, 12, seed=6)
expected = other_fc(x_test).detach()
with forbid(torch.nn.Linear.forward, torch.nn.functional.linear, torch.addmm):
    require(my_pre(x_test, other_fc), expected, what="my_pre on another model and inputs you have not seen",
            hint="the weight is stored [out, in]: which way round must it be to multiply [T, d_model] into "
                 "[T, d_mlp]? And every neuron has its own bias.")
require(my_pre(x, mlp.c_fc), trace["blocks.1.mlp.pre"], what="my_pre on block 1")

# %% [markdown]
# ## GELU
#
# GPT-2's non-linearity is the GELU, `x * Φ(x)` (computed with a tanh approximation): large positive
# inputs pass almost unchanged, large negative ones become 0, and small negative ones dip slightly
# below zero.
#
# ### Check your work
#
# Write GELU's tanh form, `0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))`, as `my_gelu(x)` for a
# tensor `x`, with torch functions (`torch.tanh`, ...). The test applies it to random numbers you have
# not seen and to the recorded inputs, with torch's GELU switched off.
#
# **Predict before you run.** The curve dips below zero for small negative inputs. How low does it
# go? Write `predicted_gelu_min` (to two decimals, within 0.01) in the same cell, before you look at
# the plot.

# %% [solution] id=ex04_gelu
import math

def my_gelu(x):
    ### BEGIN SOLUTION
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    ### END SOLUTION

### BEGIN SOLUTION
predicted_gelu_min = -0.17
### END SOLUTION

# %% [test] id=test04_gelu points=3
grid = torch.linspace(-6, 6, 1201)
x_test = random_tensor(3, 50, seed=7, scale=3.0)
expected = [torch.nn.functional.gelu(t, approximate="tanh") for t in (x_test, grid)]
with forbid(torch.nn.functional.gelu, torch.nn.GELU):
    require(my_gelu(x_test), expected[0], what="my_gelu on random numbers you have not seen",
            hint="check the cube, the constant inside the square root, and the factor in front.")
    require(my_gelu(grid), expected[1], what="my_gelu on -6 .. 6",
            hint="use torch functions so it works element by element on a tensor.")
    require(my_gelu(trace["blocks.1.mlp.pre"]), trace["blocks.1.mlp.post"], what="my_gelu on block 1's inputs")

# %% [test] id=test04_predict_gelu_min points=1
require(predicted_gelu_min, expected[1].min(), atol=0.01, rtol=0,
        what="your predicted minimum", hint="the lowest point of the curve in the plot below.")

# %% [markdown]
# > **Aside: ReLU, as the comment describes, and GELU, as GPT-2 does.** The comment says the layer
# > applies "a ReLU (which is f(x) = x for positive x and f(x) = kx with k near 0 for negative x)"
# > (strictly, that is a *leaky* ReLU; a plain ReLU has k = 0). The original Transformer used ReLU;
# > GPT-2 and GPT-3 use GELU. The curves, and what the difference does to this layer's real inputs:

# %%
import matplotlib.pyplot as plt
from gptviz.compare import ACTIVATIONS

xs = torch.linspace(-4, 3, 300)
fig, ax = plt.subplots(figsize=(6.5, 3.6))
for name, style in [("relu", "--"), ("leaky_relu", ":"), ("gelu", "-")]:
    ax.plot(xs, ACTIVATIONS[name](xs), style, label=name, lw=2)
ax.axhline(0, color="grey", lw=0.5)
ax.set(xlabel="input", ylabel="output", title="GELU (GPT-2) beside ReLU and leaky ReLU")
ax.legend()
plt.show()

# %%
pre = trace["blocks.1.mlp.pre"]
gelu, relu = ACTIVATIONS["gelu"](pre), ACTIVATIONS["relu"](pre)
print(f"inputs below 0: {(pre < 0).float().mean():.0%}")
print(f"lowest GELU output: {gelu.min():.3f} (ReLU: {relu.min():.1f})")
print(f"mean |GELU - ReLU| over the inputs: {(gelu - relu).abs().mean():.3f}")

# %% [markdown]
# Swapping ReLU in everywhere, on weights that were trained with GELU, changes the model's
# predictions on a story it never saw: how often its top guess for the next token stays the same,
# and its loss.

# %%
from gptviz.compare import agreement, run_variant
from gptviz.corpus import generate_stories
from gptviz.inputs import keep_last

story, _ = keep_last(model.tokenizer.encode(generate_stories(1, seed=1)[0].text), model.config.n_ctx)  # its last tokens that fit
real = run_variant(model, story).logits
for name in ("relu", "leaky_relu"):
    r = agreement(real, run_variant(model, story, activation=name).logits, story[1:])
    print(f"{name:10}: same top token at {r['top1']:.0%} of positions; loss {r['loss_reference']:.2f} "
          f"-> {r['loss_other']:.2f} nats/token")

# %% [markdown]
# ## Project back, and add
#
# "And do that again": `mlp.c_proj` takes the `d_mlp` numbers back to `d_model`. "Then add the input
# before the feedforward layer": the result is added to the residual stream.

#
# ### Check your work
#
# Write `my_mlp_out(post, c_proj)`, the MLP's output (`[T, d_model]`) from the neurons after GELU
# (`[T, d_mlp]`) and the layer `mlp.c_proj`, by hand. The test runs it on another model's weights
# and random neurons you have not seen, with `nn.Linear`'s own computation switched off.

# %% [solution] id=ex04_out
def my_mlp_out(post, c_proj):
    ### BEGIN SOLUTION
    return post @ c_proj.weight.detach().T + c_proj.bias.detach()
    ### END SOLUTION

# %% [test] id=test04_out points=2
other_proj = random_model(seed=5, d_model=12).h[0].mlp.c_proj  # 48 -> 12
post_test = random_tensor(4, 48, seed=8)
expected = other_proj(post_test).detach()
with forbid(torch.nn.Linear.forward, torch.nn.functional.linear, torch.addmm):
    require(my_mlp_out(post_test, other_proj), expected, what="my_mlp_out on another model and neurons you have not seen",
            hint="the same shape of computation as c_fc, now from d_mlp numbers back to d_model.")
require(trace["blocks.1.resid_mid"] + my_mlp_out(trace["blocks.1.mlp.post"], mlp.c_proj), trace["blocks.1.resid_post"],
        what="resid_mid + my_mlp_out on block 1")

# %% [markdown]
# ## Neurons that fire
#
# For each token, the neurons of block 0's MLP with the largest outputs after GELU. Block 0 reads
# little more than the token and its position, so some of its neurons respond to one token
# wherever it appears: neuron 232 is the strongest neuron at every full stop of this text.

# %%
from gptviz.viz import top_neurons

top_neurons(trace, layer=0, k=5)

# %%
post = trace["blocks.0.mlp.post"]  # [T, d_mlp]
stops = [t for t, token in enumerate(trace.tokens) if token == "."]
print(f"full stops at {stops}; the strongest neuron there: {sorted(set(post[stops].argmax(-1).tolist()))}")
claim(len(stops) > 1 and set(post[stops].argmax(-1).tolist()) == {232},
      "neuron 232 is the strongest neuron at every full stop of this text")

# %% [markdown]
# Is that neuron 232's job, or a coincidence of one text? On 50 validation stories the model never
# trained on, it is the strongest neuron at every full stop, and its 200 largest activations are
# all on full stops, though full stops are only 8 tokens in a hundred. The control: for the median
# neuron of the layer, none of its 200 largest activations is on a full stop.

# %%
from gptviz.corpus import generate_stories
from gptviz.notebook import budget

stories = generate_stories(budget(model).neuron_stories, seed=1)  # 50 on the bundled model, fewer on a larger one
held_out = [model.trace(s.text, names=["blocks.0.mlp.post"]) for s in stories]
acts = torch.cat([t["blocks.0.mlp.post"] for t in held_out])  # [all tokens, d_mlp]
is_stop = torch.tensor([token == "." for t in held_out for token in t.tokens])
on_stops = is_stop[acts.topk(200, dim=0).indices].float().mean(0)  # [d_mlp]: share of each neuron's top 200
print(f"{len(is_stop):,} tokens, {int(is_stop.sum())} full stops ({is_stop.float().mean():.0%});"
      f" neuron 232 strongest at {(acts[is_stop].argmax(-1) == 232).float().mean():.0%} of them")
print(f"share of the 200 largest activations on a full stop: neuron 232 {on_stops[232]:.0%}, "
      f"median neuron {on_stops.median():.0%}")
claim((acts[is_stop].argmax(-1) == 232).all() and on_stops[232] == 1 and is_stop.float().mean() < 0.085,
      "on 50 held-out stories neuron 232 is strongest at every full stop; its top 200 are all full stops (8%)")
claim(on_stops.median() == 0, "for the median neuron, none of its 200 largest activations is on a full stop")

# %% [markdown]
# ## The share of parameters in the MLPs
#
# Each MLP has two `d_model x 4 d_model` matrices: `8 d_model²` weights, twice attention's four
# `d_model x d_model` matrices. The comment says the MLPs "account for around 70% of the parameters
# in GPT-3". Counted from the configurations:

# %%
from gptviz import PRESETS

for name, config in [("bundled", model.config), ("gpt2", PRESETS["gpt2"]), ("gpt3-175b", PRESETS["gpt3-175b"])]:
    counts = config.param_counts()
    print(f"{name:10} MLPs {counts['mlp'] / counts['total']:5.1%}  attention "
          f"{counts['attention'] / counts['total']:5.1%}  embeddings "
          f"{(counts['token_embedding'] + counts['position_embedding']) / counts['total']:5.1%}")

# %% [markdown]
# ## Explore
#
# Choose a layer and a token: its strongest neurons, and GELU beside ReLU on the same input (needs a
# running notebook).

# %%
# NBVAL_IGNORE_OUTPUT
from gptviz.widgets import FeedForwardExplorer

FeedForwardExplorer(model, trace.text)
