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
# Compute `my_pre` (`[T, d_mlp]`), block 1's neurons before the non-linearity, from `x`, `W_in`
# and `b_in`.

# %%
import torch

mlp = model.h[1].mlp
x = trace["blocks.1.ln_2"]  # [T, d_model]
W_in, b_in = mlp.c_fc.weight.detach().T, mlp.c_fc.bias.detach()  # [d_model, d_mlp], [d_mlp]
print("d_model:", model.config.d_model, " d_mlp:", model.config.d_mlp, " W_in:", list(W_in.shape))

# %% [solution] id=ex04_pre
### BEGIN SOLUTION
my_pre = x @ W_in + b_in
### END SOLUTION

# %% [test] id=test04_pre points=2
from gptviz.exercises import require

require(my_pre, trace["blocks.1.mlp.pre"], what="my_pre",
        hint="[T, d_model] @ [d_model, d_mlp], plus the bias b_in on every row.")

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
# tensor `x`. The test applies it to the recorded inputs and to numbers from -6 to 6.
#
# **Predict before you run.** The curve dips below zero for small negative inputs. How low does it
# go? Write `predicted_gelu_min` (to two decimals) in the same cell, before you look at the plot.

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
require(my_gelu(trace["blocks.1.mlp.pre"]), trace["blocks.1.mlp.post"], what="my_gelu on the recorded inputs",
        hint="check the cube (x**3), the square root of 2/π inside the tanh, and the 0.5 * x in front.")
require(my_gelu(grid), torch.nn.functional.gelu(grid, approximate="tanh"), what="my_gelu on -6 .. 6",
        hint="use torch functions so it works element by element on a tensor.")

# %% [test] id=test04_predict_gelu_min points=1
require(predicted_gelu_min, torch.nn.functional.gelu(grid, approximate="tanh").min(), atol=0.01, rtol=0,
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
# Compute `my_out` (`[T, d_model]`) from the neurons after GELU, `trace["blocks.1.mlp.post"]`.

# %% [solution] id=ex04_out
W_out, b_out = mlp.c_proj.weight.detach().T, mlp.c_proj.bias.detach()  # [d_mlp, d_model], [d_model]
### BEGIN SOLUTION
my_out = trace["blocks.1.mlp.post"] @ W_out + b_out
### END SOLUTION

# %% [test] id=test04_out points=2
require(my_out, trace["blocks.1.mlp.out"], what="my_out",
        hint="[T, d_mlp] @ [d_mlp, d_model], plus b_out.")
require(trace["blocks.1.resid_mid"] + my_out, trace["blocks.1.resid_post"], what="resid_mid + my_out")

# %% [markdown]
# ## Neurons that fire
#
# For each token, the neurons of block 0's MLP with the largest outputs after GELU. Block 0 reads
# little more than the token and its position, so some of its neurons respond to the same token
# wherever it appears: one of the five strongest neurons of `␣Doug` is the same at each of its
# mentions.

# %%
from gptviz.viz import top_neurons

top_neurons(trace, layer=0, k=5)

# %%
post = trace["blocks.0.mlp.post"]  # [T, d_mlp]
top5 = post.topk(5, dim=-1).indices  # [T, 5]: each token's five strongest neurons
mentions = [t for t, i in enumerate(trace.ids) if i == model.tokenizer.encode(" Doug")[0]]
shared = set.intersection(*(set(top5[t].tolist()) for t in mentions))
print(f"'␣Doug' at {mentions}: neurons among its five strongest at every mention: {sorted(shared)}")
claim(len(mentions) > 1 and len(shared) > 0,
      "one of the five strongest neurons of ␣Doug is the same at each of its mentions")

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
