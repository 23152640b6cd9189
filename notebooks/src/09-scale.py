# %% [markdown]
# # 9 · Scale: from GPT-2 small to GPT-3 175B
#
# GPT-3 is GPT-2's design, made bigger: more layers, wider vectors, more heads, a longer context.
# Nothing in the code of the previous chapters changes; only the numbers in the configuration do.
# This chapter puts the GPT-3 paper's own table beside gptviz's presets, counts every parameter from
# those numbers, checks the famous 175 billion, and works out what the size costs: the compute to
# train it and the memory to run it.
#
# The last section turns from size to what size bought: GPT-3 learns a task from examples in its
# prompt, and the bundled model shows the mechanism that copying from the prompt runs on.
#
# **Runs offline**: only the last section needs weights, the bundled model's. Online,
# `setup("gpt2")` (the same as `gptviz.load("gpt2")`) would load the real GPT-2.

# %%
from gptviz.notebook import claim, setup

model = setup()  # online: setup("gpt2") for the real GPT-2

# %% [markdown]
# ## How big, on a log scale
#
# One dot per model, the bundled one included. On an ordinary axis every model but the largest
# would sit at zero, so the axis is logarithmic: each gridline is ten times the one before, and
# equal steps along it are equal ratios.

# %%
from gptviz import PRESETS
from gptviz.viz import param_scale

param_scale(dict(PRESETS, bundled=model.config))

# %% [markdown]
# GPT-3 175B is more than a thousand times GPT-2 small, and the largest GPT-2 (XL) is smaller than
# GPT-3's 2.7B, the fifth of its eight sizes. The ratios:

# %%
n = {name: c.n_params for name, c in PRESETS.items()}
print(f"GPT-3 175B / GPT-2 small: {n['gpt3-175b'] / n['gpt2']:,.0f}")
print(f"GPT-2 small / the bundled model: {n['gpt2'] / model.config.n_params:,.1f}")
print(f"GPT-2 XL: {n['gpt2-xl']:,}; GPT-3 2.7B: {n['gpt3-2.7b']:,}")
claim(n["gpt3-175b"] / n["gpt2"] > 1000, "GPT-3 175B is more than a thousand times GPT-2 small")
claim(n["gpt3-xl"] < n["gpt2-xl"] < n["gpt3-2.7b"], "the largest GPT-2 is smaller than GPT-3's 2.7B, the fifth size")

# %% [markdown]
# ## Where the parameters are
#
# One bar per published model, split into its parts. As models grow, the embeddings (which grow
# with `d_model`) shrink from about a third of GPT-2 small to under one percent of GPT-3 175B, and
# the blocks (which grow with `n_layer x d_model²`) take over; in the blocks, the MLPs hold twice as
# much as attention.

# %%
from gptviz.viz import param_breakdown

param_breakdown()

# %%
def embedding_share(c):
    p = c.param_counts()
    return (p["token_embedding"] + p["position_embedding"]) / p["total"]

print(f"embeddings: {embedding_share(PRESETS['gpt2']):.1%} of GPT-2 small, {embedding_share(PRESETS['gpt3-175b']):.2%} of GPT-3 175B")
mlp_vs_attention = [c.param_counts()["mlp"] / c.param_counts()["attention"] for c in PRESETS.values()]
print(f"MLP / attention, every preset: {min(mlp_vs_attention):.3f} to {max(mlp_vs_attention):.3f}")
claim(0.25 < embedding_share(PRESETS["gpt2"]) < 0.4, "the embeddings are about a third of GPT-2 small")
claim(embedding_share(PRESETS["gpt3-175b"]) < 0.01, "the embeddings are under one percent of GPT-3 175B")
claim(all(abs(r - 2) < 0.01 for r in mlp_vs_attention), "the MLPs hold twice as much as attention")

# %% [markdown]
# ## The paper's table beside the presets
#
# The GPT-3 paper (Brown et al. 2020, "Language Models are Few-Shot Learners", Table 2.1) lists
# eight sizes, all with a context of 2,048 tokens. Below, each printed row, and under it, wherever
# they differ, gptviz's preset. Three parameter counts: Table 2.1's (rounded), the one the paper's
# compute table (Table D.1) uses, in millions, and the preset's, counted from its shape. The batch size is in tokens per optimiser step.

# %%
from gptviz.scale import GPT3_TABLE, paper_vs_preset
from gptviz.viz.scale import human

print(f"{'paper':13} {'params':>7} {'layers':>6} {'d_model':>7} {'heads':>5} {'d_head':>6} {'batch':>6} {'lr':>7}"
      f" {'Table D.1':>10}   {'preset':11} {'counted':>15}")
for r in GPT3_TABLE:
    c = PRESETS[r.preset]
    print(f"{r.name:13} {human(int(r.n_params)):>7} {r.n_layers:6} {r.d_model:7,} {r.n_heads:5} {r.d_head:6} "
          f"{r.batch_tokens / 1e6:5.1f}M {r.learning_rate:7.1e} {r.compute_params / 1e6:9,.0f}M   {r.preset:11} {c.n_params:15,}")
    for column, (printed, ours) in paper_vs_preset(r).items():
        print(f"{'':13} {column} printed {printed}, preset {ours}")

# %% [markdown]
# Six rows are the presets exactly. Every counted total is within 2% of Table 2.1's rounded one,
# and within 0.5% of Table D.1's. Two rows cannot be built as printed, because their heads times
# head width is not their width:

# %%
exact = [r.name for r in GPT3_TABLE if not paper_vs_preset(r)]
off = max(abs(PRESETS[r.preset].n_params / r.n_params - 1) for r in GPT3_TABLE)
print(len(exact), "rows equal to their preset; largest gap between counted and printed totals:", f"{off:.1%}")
for r in GPT3_TABLE:
    if not r.tiles:
        print(f"{r.name}: {r.n_heads} heads x {r.d_head} = {r.n_heads * r.d_head:,}, but d_model is printed as {r.d_model:,}")
d1_gap = lambda n, row: abs(n / row.compute_params - 1)  # noqa: E731  (a count beside Table D.1's)
print("largest gap to Table D.1:", f"{max(d1_gap(PRESETS[r.preset].n_params, r) for r in GPT3_TABLE):.2%}")
claim(len(GPT3_TABLE) == 8 and all(PRESETS[r.preset].n_ctx == 2048 for r in GPT3_TABLE),
      "eight sizes, all with a context of 2,048 tokens")
claim(len(exact) == 6 and off < 0.02, "six rows are the presets exactly; every count is within 2%")
claim(all(d1_gap(PRESETS[r.preset].n_params, r) < 0.005 for r in GPT3_TABLE), "within 0.5% of Table D.1's")
claim([r.name for r in GPT3_TABLE if not r.tiles] == ["GPT-3 XL", "GPT-3 13B"], "two rows cannot be built as printed")

# %% [markdown]
# ## Why GPT-3 XL has 16 heads here
#
# The XL row says 24 heads of 128 dimensions, which would make vectors 3,072 wide, not the printed
# 2,048. Which column is wrong? The parameter counts decide: at width 2,048 the model has 1.3
# billion parameters, as Table 2.1 prints, and 1,316 million beside Table D.1's 1,320 million; at
# 3,072 it would have 2.9 billion. So the width is right, and 2,048 split into heads of 128 is 16 heads.
# (The number of heads changes no parameter count: only how the width is cut.)

# %%
from gptviz.scale import paper_row, with_shape

xl, row = PRESETS["gpt3-xl"], paper_row("gpt3-xl")
wide = with_shape(xl, row.n_heads * row.d_head)
print(f"width {xl.d_model:,}: {xl.n_params / 1e6:,.0f}M parameters; width {wide.d_model:,}: {wide.n_params / 1e6:,.0f}M; "
      f"Table 2.1: {row.n_params / 1e9:.1f}B; Table D.1: {row.compute_params / 1e6:,.0f}M")
print(f"{xl.d_model:,} / {row.d_head} = {xl.d_model // row.d_head} heads; the preset has {xl.n_head} of {xl.d_head}")
claim(round(xl.n_params / 1e9, 1) == 1.3 and round(xl.n_params / 1e6) == 1316 and row.compute_params == 1320e6
      and round(wide.n_params / 1e9, 1) == 2.9, "at width 2,048: 1.3 billion, 1,316 million beside Table D.1's "
      "1,320 million; at 3,072: 2.9 billion")
claim(xl.n_head == xl.d_model // row.d_head == 16 and xl.d_head == row.d_head, "2,048 split into heads of 128 is 16 heads")

# %% [markdown]
# ## Why 13B has d_model 5120
#
# The 13B row prints a width of 5,140 with 40 heads of 128. But 5,140 cannot be split into 40 equal
# heads at all (it is 128.5 each), and 40 x 128 = 5,120. Table 2.1's rounded count cannot decide
# between them: width 5,140 would give 12.95 billion parameters and 5,120 gives 12.85 billion, and
# both round to 13 billion. Table D.1 decides: it counts 13B's training compute with 12,850 million
# parameters; width 5,120 gives 12,853 million, and 5,140 would give 12,953 million. So the printed
# 5,140 is a misprint for 40 x 128 = 5,120, the width gptviz uses.

# %%
b13, row = PRESETS["gpt3-13b"], paper_row("gpt3-13b")
printed = with_shape(b13, row.d_model)  # one head: 5,140 cannot be split into 40
print(f"{row.d_model:,} / {row.n_heads} = {row.d_model / row.n_heads}; {row.n_heads} x {row.d_head} = {row.n_heads * row.d_head:,}")
print(f"width {b13.d_model:,}: {b13.n_params / 1e6:,.0f}M; width {row.d_model:,}: {printed.n_params / 1e6:,.0f}M; "
      f"Table 2.1: {row.n_params / 1e9:.1f}B; Table D.1: {row.compute_params / 1e6:,.0f}M")
claim(row.d_model % row.n_heads != 0 and b13.d_model == row.n_heads * row.d_head == 5120,
      "5,140 cannot be split into 40 equal heads, and 40 x 128 = 5,120")
claim(f"{printed.n_params / 1e9:.2f} {b13.n_params / 1e9:.2f}" == "12.95 12.85" and round(printed.n_params / 1e9) == 13,
      "width 5,140 would give 12.95 billion, 5,120 gives 12.85 billion, both round to 13 billion")
print(f"beside Table D.1: width {b13.d_model:,} is {d1_gap(b13.n_params, row):.2%} off, {row.d_model:,} {d1_gap(printed.n_params, row):.2%}")
claim((row.compute_params, round(b13.n_params / 1e6), round(printed.n_params / 1e6)) == (12_850e6, 12_853, 12_953),
      "Table D.1: 12,850 million; width 5,120 gives 12,853 million, and 5,140 would give 12,953 million")
claim(d1_gap(b13.n_params, row) < 0.001 < 0.005 < d1_gap(printed.n_params, row), "Table D.1 decides")

# %% [markdown]
# ## GPT-2 beside GPT-3
#
# The comment this series follows says "96 layers and 96 heads per layer in GPT-3", with vectors
# 12,288 wide and a context of 2,048 tokens; GPT-2's sizes and the bundled model beside it:

# %%
print(f"{'model':12} {'layers':>6} {'heads':>5} {'d_model':>7} {'d_head':>6} {'context':>7} {'parameters':>16}")
for name, c in [(name, PRESETS[name]) for name in ["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3-175b"]] + [
        ("bundled", model.config)]:
    print(f"{name:12} {c.n_layer:6} {c.n_head:5} {c.d_model:7,} {c.d_head:6} {c.n_ctx:7,} {c.n_params:16,}")
g = PRESETS["gpt3-175b"]
claim((g.n_layer, g.n_head, g.d_model, g.n_ctx) == (96, 96, 12288, 2048), "96 layers, 96 heads, 12,288 wide, 2,048 tokens")

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
# `d_model` and `n_layer`), from the list above. The test counts the weights of real models (the
# bundled one and two small ones built on the spot, which you have not seen) and compares GPT-3 175B
# with gptviz's count, with gptviz's own counts and model builder switched off while your function runs.

# %% [solution] id=ex09_param_count
def my_param_count(cfg):
    V, n, D, L = cfg.vocab_size, cfg.n_ctx, cfg.d_model, cfg.n_layer
    ### BEGIN SOLUTION
    per_block = (D * 3 * D + 3 * D) + (D * D + D) + (D * 4 * D + 4 * D) + (4 * D * D + D) + 2 * 2 * D
    return V * D + n * D + L * per_block + 2 * D
    ### END SOLUTION

# %% [test] id=test09_param_count points=3
from gptviz import GPT, GPTConfig
from gptviz.compare import matrix_shapes
from gptviz.exercises import forbid, require

hint = ("go through the list above one matrix and one bias at a time: which of them are counted once, "
        "and which once per block? Is the output layer a matrix of its own?")
small = [GPTConfig(n_layer=1, n_head=2, d_model=16, n_ctx=32), GPTConfig(n_layer=3, n_head=4, d_model=64, n_ctx=128)]
g = PRESETS["gpt3-175b"]
cases = [(cfg, sum(p.numel() for p in m.parameters())) for cfg, m in [(model.config, model)] + [(cfg, GPT(cfg)) for cfg in small]]
cases.append((g, g.param_counts()["total"]))
for cfg, expected in cases:
    with forbid(GPTConfig.n_params, GPTConfig.param_counts, GPT, matrix_shapes):
        answer = my_param_count(cfg)
    require(answer, expected, what=f"my_param_count for {cfg.n_layer} layers, d_model {cfg.d_model}", hint=hint)
print(f"GPT-3: {my_param_count(g):,} parameters = {my_param_count(g) / 1e9:.1f} billion")

# %%
for part, count in g.param_counts().items():
    print(f"{part:20} {count:18,}  {count / g.n_params:6.1%}")
share = {part: count / g.n_params for part, count in g.param_counts().items()}
claim(f"{share['mlp']:.1%}" == "66.4%" and f"{share['attention']:.1%}" == "33.2%",
      "the MLPs are 66.4%, and attention 33.2%")

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
claim((gpt3["token embedding"], gpt3["query, one head"], gpt3["MLP in"], gpt3["MLP out"]) ==
      ((50257, 12288), (12288, 128), (12288, 49152), (49152, 12288)), "the matrices the comment names")

# %% [markdown]
# ## Training compute: C ≈ 6·N·D
#
# How much arithmetic does training take? Each weight takes part in one multiply and one add per
# token on the way forward (2 operations), and the way back costs twice that (the gradient for the
# inputs and the one for the weights): 6 floating-point operations (FLOPs) per parameter per token.
# For `N` parameters and `D` training tokens, `C ≈ 6·N·D`. GPT-3 175B read 300 billion tokens; the
# paper gives its compute as 3.14e23 FLOPs (3,640 petaflop/s-days: a machine doing 10^15
# operations a second, for 3,640 days), and 6·N·D, computed below, agrees to 0.1%.

# %%
from gptviz.scale import GPT3_TRAINING_FLOPS, GPT3_TRAINING_TOKENS, pf_days, training_flops

C = training_flops(g.n_params, GPT3_TRAINING_TOKENS)
print(f"6 x {g.n_params:,} x {GPT3_TRAINING_TOKENS:,.0f} = {C:.3e} FLOPs = {pf_days(C):,.0f} petaflop/s-days")
print(f"the paper: {GPT3_TRAINING_FLOPS:.2e} FLOPs; ratio {C / GPT3_TRAINING_FLOPS:.4f}")
claim(f"{C:.2e}" == "3.14e+23" and abs(C / GPT3_TRAINING_FLOPS - 1) < 0.001, "6·N·D agrees with 3.14e23 to 0.1%")
claim(round(pf_days(C), -1) == 3640, "3,640 petaflop/s-days")

# %% [markdown]
# The count leaves out attention's own products (scores and weighted sums use no weights): at
# GPT-3's full context they add under 3% to the blocks' work. By the same estimate, the bundled
# model's training, whose token count its training record gives, took the fraction of GPT-3's
# compute printed below.

# %%
from gptviz.scale import attention_flops_share, trained_tokens

print(f"attention's T x T products at 2,048 tokens: {attention_flops_share(g):.1%} of the blocks' FLOPs")
claim(attention_flops_share(g) < 0.03, "at GPT-3's full context they add under 3%")
D_ours = trained_tokens(model)
if D_ours:  # gptviz's own models keep a training record; GPT-2 has none
    ours = training_flops(model.config.n_params, D_ours)
    print(f"the bundled model: 6 x {model.config.n_params:,} x {D_ours:,} = {ours:.2e} FLOPs, "
          f"1 / {C / ours:,.0f} of GPT-3's")

# %% [markdown]
# ## The KV cache at 2,048 tokens
#
# Generation keeps every earlier token's keys and values (chapter 7): 2 vectors of `d_model`
# numbers per token per layer. For one sequence filling GPT-3's context of 2,048 tokens, in 16-bit
# numbers, GPT-3 175B's cache is 9 GiB, under 3% of its 325 GiB of weights, but it is needed once
# per sequence being written: a few dozen sequences at once hold as much as the weights. The
# smaller the model, the bigger its cache beside its weights: for GPT-3 Small, over a quarter.

# %%
from gptviz.kvcache import kv_cache_bytes

print(f"{'model':11} {'per token':>10} {'2,048 tokens':>13} {'weights':>10} {'cache / weights':>15}")
for name in [r.preset for r in GPT3_TABLE]:
    c = PRESETS[name]
    kv, weights = kv_cache_bytes(c, 2048, bytes_per_number=2), 2 * c.n_params
    print(f"{name:11} {kv / 2048 / 2**20:7.2f} MiB {kv / 2**30:9.2f} GiB {weights / 2**30:7.1f} GiB {kv / weights:15.1%}")
kv175 = kv_cache_bytes(g, 2048, bytes_per_number=2)
print(f"sequences whose caches hold as much as GPT-3's weights: {2 * g.n_params / kv175:.0f}")
claim(kv175 == 9 * 2**30 and round(2 * g.n_params / 2**30) == 325, "9 GiB, beside its 325 GiB of weights")
claim(kv175 / (2 * g.n_params) < 0.03, "under 3% of its weights")
claim(20 < 2 * g.n_params / kv175 < 50, "a few dozen sequences at once hold as much as the weights")
ratios = [kv_cache_bytes(PRESETS[r.preset], 2048, 2) / (2 * PRESETS[r.preset].n_params) for r in GPT3_TABLE]
claim(ratios == sorted(ratios, reverse=True) and ratios[0] > 0.25, "the smaller the model, the bigger its "
      "cache beside its weights: for GPT-3 Small, over a quarter")

# %% [markdown]
# GPT-2 small's context is 1,024 tokens, so its cache is never bigger than
# `kv_cache_bytes(PRESETS["gpt2"], 1024)`: in 32-bit floats, the docstring's 72 MiB.

# %%
print(kv_cache_bytes(PRESETS["gpt2"], PRESETS["gpt2"].n_ctx) // 2**20, "MiB")
claim(kv_cache_bytes(PRESETS["gpt2"], 1024) == 72 * 2**20, "72 MiB")

# %% [markdown]
# ## In-context learning: a task learned from the prompt
#
# The GPT-3 paper's title is its claim: "Language Models are Few-Shot Learners". Show the model a
# task in its prompt and it does the task, with **no weight updated**: the examples are just tokens
# in its context, read by the same forward pass as any other text.
#
# * **zero-shot**: the prompt describes the task, with no example;
# * **one-shot**: one solved example, then the case to solve;
# * **few-shot**: as many solved examples as fit in the context (typically 10 to 100 for GPT-3:
#   Brown et al. 2020, section 2).
#
# Table 3.2 of the paper gives GPT-3 175B's accuracy on LAMBADA, predicting the last word of a
# passage: 76.2% zero-shot, 72.5% one-shot and 86.4% few-shot.

# %%
import matplotlib.pyplot as plt
from gptviz.scale import GPT3_LAMBADA_ACCURACY

fig, ax = plt.subplots(figsize=(6, 2.6))
ax.bar(list(GPT3_LAMBADA_ACCURACY), list(GPT3_LAMBADA_ACCURACY.values()), color=["#999999", "#e69f00", "#0072b2"])
for x, accuracy in enumerate(GPT3_LAMBADA_ACCURACY.values()):
    ax.text(x, accuracy + 1, f"{accuracy}%", ha="center", fontsize=10)
ax.set(ylim=(0, 100), ylabel="accuracy (%)", title="GPT-3 175B on LAMBADA (Brown et al. 2020, Table 3.2)")
plt.show()

# %% [markdown]
# One example in the prompt did *worse* than none here; several did much better. The paper's guess
# (section 3.1.2): its examples were written in a fill-in-the-blank format, and one example is not
# enough to recognise the pattern; several are.
#
# **How can reading change what a model does, with its weights fixed?** Part of the answer is a
# circuit chapter 10 takes apart: the **induction heads**. At each token they look back for an
# earlier occurrence of that token and copy what came next, which is the simplest way to use an
# example in the context. The bundled model was trained on stories, not tasks, but it has the
# circuit, and the test of chapter 10 shows it at work: 50 tokens drawn at random, then the same 50
# again, 16 such sequences (fewer on a model larger than the bundled one). The first copy cannot
# be predicted (the model's loss on it is that of a blind guess among the tokens it knows, measured
# below); the second is a one-shot task, "go on as the example did". First, find the induction
# heads (the ones that put at least half of their weight on the token after the earlier
# occurrence) and the previous-token head they need:

# %%
import torch
from gptviz.interventions import ablate, measure_induction, position_losses, repeated_tokens
from gptviz.notebook import budget

n, c = 50, model.config
plan = budget(model)  # 16 sequences on the bundled model, fewer on a larger one
report = measure_induction(model, n=n, seeds=range(plan.repeats))  # scores and losses, mean of the sequences
inductors = [divmod(int(i), c.n_head) for i in (report.induction.flatten() >= 0.5).nonzero().flatten()]
prev_head = divmod(int(report.previous.argmax()), c.n_head)
others = [(l, h) for l in range(c.n_layer) for h in range(c.n_head) if (l, h) not in inductors + [prev_head]]
pick = torch.randperm(len(others), generator=torch.Generator().manual_seed(0))[: len(inductors)]
controls = [others[i] for i in pick.tolist()]  # as many heads, drawn at random from the rest
print(f"induction heads {inductors}; previous-token head {prev_head}; control heads {controls}")
claim(len(inductors) == 3 and len(controls) == 3, "three induction heads, and three control heads")

# %% [markdown]
# Now switch heads off (zero ablation, chapter 10) and read the 16 sequences again: once with the
# three induction heads off, once with the three control heads off instead.

# %%
seqs = [repeated_tokens(model, n, seed=s) for s in range(plan.repeats)]  # the same as measure_induction's
def mean_losses(heads):  # [2n]: the loss at each position, mean of the sequences
    return torch.stack([position_losses(ablate(model, s, heads=heads, names=["logits"])) for s in seqs]).mean(0)
runs = {"the model": report.losses, "induction heads off": mean_losses(inductors),  # report.losses: nothing off
        "control heads off": mean_losses(controls)}

# %% [markdown]
# **Predict before you run.** With the three induction heads off, what becomes of the second copy?
# Write `predicted_second_copy` as one letter:
#
# * `"A"`: still at least 4 nats a token cheaper than the first copy, as in the model;
# * `"B"`: cheaper than the first copy by between 1 and 4 nats;
# * `"C"`: within 1 nat of the first copy: the second copy is no easier;
# * `"D"`: more than 1 nat dearer than the first copy.

# %% [solution] id=ex09_predict_second_copy
### BEGIN SOLUTION
predicted_second_copy = "C"
### END SOLUTION

# %%
from gptviz.viz import loss_by_position

loss_by_position(runs, period=n)

# %% [test] id=test09_predict_second_copy points=1
from gptviz.exercises import require

drop = {label: (run[:n].mean() - run[n:].mean()).item() for label, run in runs.items()}  # first minus second
band = lambda gap: "A" if gap >= 4 else "B" if gap > 1 else "C" if gap >= -1 else "D"  # noqa: E731
require(predicted_second_copy, band(drop["induction heads off"]), what="your prediction",
        hint="the induction heads are what copies from the first copy; what is left to predict the second with?")

# %% [markdown]
# The model reads the first copy as a blind guess: its loss is within half a nat of ln 3,773, an
# even spread over the tokens it learned. It reads the second copy almost for free: one worked
# example in its context was enough, and no weight changed. With the three induction heads off, the second copy costs as much as the
# first: the model can no longer use the example. With three other heads off, the second copy stays
# nearly free. The copying from the context runs through the induction heads.

# %%
print(f"{f'mean loss, nats per token ({plan.repeats} sequences)':42} {'first copy':>10} {'second copy':>11}")
for label, run in runs.items():
    print(f"{label:42} {run[:n].mean():10.2f} {run[n:].mean():11.2f}")
import math
from gptviz.interventions import learned_tokens

blind = math.log(len(learned_tokens(model)))  # an even guess over the tokens the model learned
print(f"a blind guess among the {len(learned_tokens(model)):,} learned tokens: ln = {blind:.2f} nats")
claim(abs(runs["the model"][:n].mean() - blind) < 0.5, "the first copy: within half a nat of ln 3,773, a blind guess")
claim(runs["the model"][:n].mean() > 7 and runs["the model"][n:].mean() < 0.5,
      "the model reads the second copy almost for free")
claim(abs(drop["induction heads off"]) < 0.5, "with the three induction heads off, the second copy costs as much as the first")
claim(runs["control heads off"][n:].mean() < 0.5 and abs(drop["control heads off"] - drop["the model"]) < 0.5,
      "with three other heads off, the second copy stays nearly free")

# %% [markdown]
# ### Check your work
#
# Write `my_copy_gain(model, ids, n)`: on `ids` = `<|endoftext|>` + r + r (r of `n` tokens), how many
# nats per token cheaper the second copy is than the first for `model`: the mean loss of the tokens
# of the first copy minus that of the second, each token predicted from the ones before it. The test
# runs it on a random-weight model and on the bundled model, on sequences you have not seen, with
# torch's losses and gptviz's switched off.

# %% [solution] id=ex09_copy_gain
import torch.nn.functional as F


def my_copy_gain(model, ids, n):
    logits = model.trace(ids)["logits"]  # [2n + 1, vocab_size]
    ### BEGIN SOLUTION
    log_probs = torch.log_softmax(logits[:-1], dim=-1)  # row t predicts ids[t + 1]
    loss = -log_probs[torch.arange(2 * n), torch.tensor(ids[1:])]  # [2n]: tokens 1 .. 2n
    return (loss[:n].mean() - loss[n:].mean()).item()
    ### END SOLUTION

# %% [test] id=test09_copy_gain points=2
from gptviz.exercises import forbid, random_model
from gptviz.interventions import InductionReport

losses = [F.cross_entropy, F.nll_loss, torch.nn.CrossEntropyLoss, torch.nn.NLLLoss, position_losses, measure_induction]
cases = [("a random-weight model", random_model(seed=8, n_head=2, d_model=16), 12, 5), ("the bundled model", model, 40, 99)]
for name, m, length, seed in cases:
    ids = repeated_tokens(m, length, seed=seed)
    per_position = position_losses(m.trace(ids))
    expected = (per_position[:length].mean() - per_position[length:].mean()).item()
    with forbid(*losses, InductionReport.first_copy, InductionReport.second_copy):
        answer = my_copy_gain(m, ids, length)
    require(answer, expected, what=f"my_copy_gain on {name}, r of {length} tokens", rtol=1e-4,
            hint="logits row t scores the token at t + 1: which rows predict the first copy (tokens 1 .. n), "
                 "and which the second? First minus second.")

# %% [markdown]
# ## What changes and what does not
#
# Everything that changes is in the configuration; every name, shape rule and line of code is the
# same. The trace of a GPT-3-sized model would have the bundled model's names, block for block (96
# blocks instead of 4), with bigger shapes, and gptviz can say how big before running anything:

# %%
import re
from gptviz.trace import activation_shapes, trace_nbytes

for name in ["embed.sum", "blocks.0.attn.pattern", "blocks.0.mlp.pre", "logits"]:
    print(f"{name:22} bundled {str(list(activation_shapes(model.config, 10)[name])):16} "
          f"GPT-3 {list(activation_shapes(g, 2048)[name])}")
print(f"a full trace of 2,048 tokens on GPT-3: {trace_nbytes(g, 2048) / 2**30:,.0f} GiB of activations")
print(f"GPT-3's weights in 16-bit floats: {2 * g.n_params / 2**30:,.0f} GiB")
pattern = lambda config: [re.sub(r"blocks\.\d+\.", "blocks.{i}.", name) for name in activation_shapes(config, 1)]  # noqa: E731
ours, theirs = pattern(model.config), pattern(g)
claim((model.config.n_layer, g.n_layer) == (4, 96) and list(dict.fromkeys(ours)) == list(dict.fromkeys(theirs)),
      "the bundled model's names, block for block, with bigger shapes")

# %% [markdown]
# What does not change: tokens and their embeddings (chapters 1–2), attention with its scale and
# mask (3), the MLP with GELU (4), pre-LayerNorm blocks added to a residual stream (5), scoring
# against the tied embedding (6), generation one token at a time (7), and next-token training (8).
# GPT-3 also alternates dense attention with a *locally banded sparse* kind in some layers (Brown et
# al. 2020, section 2.1, after the Sparse Transformer), which changes no parameter count: it only
# masks more of the scores.
