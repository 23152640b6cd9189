# %% [markdown]
# # 9 · Scale: from GPT-2 small to GPT-3 175B
#
# GPT-3 is GPT-2's design, made bigger: more layers, wider vectors, more heads, a longer context.
# Nothing in the code of the previous chapters changes; only the numbers in the configuration do.
# This chapter counts every parameter from those numbers and checks the famous 175 billion.
#
# **Runs offline**: nothing here needs weights. Online, `setup("gpt2")` (the same as
# `gptviz.load("gpt2")`) would load the real GPT-2.

# %%
from gptviz.notebook import setup

model = setup()  # online: setup("gpt2") for the real GPT-2

# %% [markdown]
# ## Where the parameters are
#
# One bar per published model, split into its parts. As models grow, the embeddings (which grow
# with `d_model`) shrink to almost nothing, and the blocks (which grow with `n_layer x d_model²`)
# take over; in the blocks, the MLPs hold twice as much as attention.

# %%
from gptviz.viz import param_breakdown

param_breakdown()

# %% [markdown]
# ## The configurations
#
# "96 layers and 96 heads per layer in GPT-3", vectors 12,288 wide, a context of 2,048 tokens:

# %%
from gptviz import PRESETS

print(f"{'model':12} {'layers':>6} {'heads':>5} {'d_model':>7} {'d_head':>6} {'context':>7} {'parameters':>16}")
for name in ["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3-small", "gpt3-xl", "gpt3-13b", "gpt3-175b"]:
    c = PRESETS[name]
    print(f"{name:12} {c.n_layer:6} {c.n_head:5} {c.d_model:7,} {c.d_head:6} {c.n_ctx:7,} {c.n_params:16,}")
c = model.config
print(f"{'bundled':12} {c.n_layer:6} {c.n_head:5} {c.d_model:7,} {c.d_head:6} {c.n_ctx:7,} {c.n_params:16,}")

# %% [markdown]
# ## Count every parameter
#
# For one configuration (`V` vocabulary, `n` context, `D = d_model`, `L` layers):
#
# * token embedding `V x D` and position embedding `n x D`;
# * per block, attention: q, k, v for all heads (`D x 3D` and `3D` biases), the output projection
#   (`D x D` and `D`); the MLP: `D x 4D` + `4D`, and `4D x D` + `D`; two LayerNorms of `2D` each;
# * a final LayerNorm, `2D`. The output uses the token embedding again (tied): no extra weights.
#
# ### Check your work
#
# Write `my_param_count(cfg)`, the total for a configuration `cfg` (its `vocab_size`, `n_ctx`,
# `d_model` and `n_layer`). The test counts the weights of real models (the bundled one and two
# small ones built on the spot) and compares GPT-3 175B with gptviz's count.

# %% [solution] id=ex09_param_count
def my_param_count(cfg):
    V, n, D, L = cfg.vocab_size, cfg.n_ctx, cfg.d_model, cfg.n_layer
    ### BEGIN SOLUTION
    per_block = (D * 3 * D + 3 * D) + (D * D + D) + (D * 4 * D + 4 * D) + (4 * D * D + D) + 2 * 2 * D
    return V * D + n * D + L * per_block + 2 * D
    ### END SOLUTION

# %% [test] id=test09_param_count points=3
from gptviz import GPT, GPTConfig
from gptviz.exercises import require

hint = ("per block: c_attn D x 3D + 3D, c_proj D x D + D, c_fc D x 4D + 4D, the MLP's c_proj 4D x D + D, "
        "two LayerNorms 2D each; then V x D + n x D for the embeddings and 2D for ln_f (the output is tied).")
small = [GPTConfig(n_layer=1, n_head=2, d_model=16, n_ctx=32), GPTConfig(n_layer=3, n_head=4, d_model=64, n_ctx=128)]
for cfg, m in [(model.config, model)] + [(cfg, GPT(cfg)) for cfg in small]:
    require(my_param_count(cfg), sum(p.numel() for p in m.parameters()),
            what=f"my_param_count for {cfg.n_layer} layers, d_model {cfg.d_model}", hint=hint)
g = PRESETS["gpt3-175b"]
require(my_param_count(g), g.param_counts()["total"], what="my_param_count for GPT-3 175B", hint=hint)
print(f"GPT-3: {my_param_count(g):,} parameters = {my_param_count(g) / 1e9:.1f} billion")

# %%
for part, count in g.param_counts().items():
    print(f"{part:20} {count:18,}  {count / g.n_params:6.1%}")

# %% [markdown]
# "These actually account for around 70% of the parameters in GPT-3": the MLPs are 66.4%, and attention,
# the rest of the blocks' weights, 33.2%.
#
# ## The matrices the comment names
#
# "A learned embedding matrix (50257x12288 in GPT-3)", "query, key and value matrices (12288x128
# in GPT-3)", "12288x49152 and 49152x12288 matrices": computed from the configuration, and beside
# them the same matrices in the bundled model.

# %%
from gptviz.compare import matrix_shapes

gpt3, ours = matrix_shapes(PRESETS["gpt3-175b"]), matrix_shapes(model.config)
for name in gpt3:
    print(f"{name:20} GPT-3 {gpt3[name][0]:>6} x {gpt3[name][1]:<6}   bundled {ours[name][0]:>6} x {ours[name][1]}")
print("the bundled model's own matrices:", list(model.wte.weight.shape), list(model.h[0].mlp.c_fc.weight.T.shape))

# %% [markdown]
# ## What changes and what does not
#
# Everything that changes is in the configuration; every name, shape rule and line of code is the
# same. The trace of a GPT-3-sized model would have exactly the names of the bundled model's, with
# bigger shapes, and gptviz can say how big before running anything:

# %%
from gptviz.trace import activation_shapes, trace_nbytes

for name in ["embed.sum", "blocks.0.attn.pattern", "blocks.0.mlp.pre", "logits"]:
    print(f"{name:22} bundled {str(list(activation_shapes(model.config, 10)[name])):16} "
          f"GPT-3 {list(activation_shapes(g, 2048)[name])}")
print(f"a full trace of 2,048 tokens on GPT-3: {trace_nbytes(g, 2048) / 2**30:,.0f} GiB of activations")
print(f"GPT-3's weights in 16-bit floats: {2 * g.n_params / 2**30:,.0f} GiB")

# %% [markdown]
# What does not change: tokens and their embeddings (chapters 1–2), attention with its scale and
# mask (3), the MLP with GELU (4), pre-LayerNorm blocks added to a residual stream (5), scoring
# against the tied embedding (6), generation one token at a time (7), and next-token training (8).
# GPT-3 also alternates dense attention with a *locally banded sparse* kind in some layers, which
# changes no parameter count.
#
# How much bigger is each step? The ratio of parameters to the bundled model's:

# %%
for name in ["gpt2", "gpt2-xl", "gpt3-175b"]:
    print(f"{name:10} {PRESETS[name].n_params / model.config.n_params:10,.0f} x the bundled model")
