# %% [markdown]
# # 5 · The layer stack: normalise, attend, think, add, repeat
#
# A GPT is a stack of identical blocks, each with its own weights. Each token's vector runs up the
# stack as the *residual stream*: every block reads it, computes an attention output and an MLP
# output, and *adds* both to it. Nothing is overwritten. Before each reading, the vector is
# normalised. This chapter shows the normalisation, the stream, and what the model "thinks" at
# each height of the stack.
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
# ## One block, drawn from the model
#
# Every block has the same parts, in the same order. Here is block 0 of the loaded model, drawn
# from the trace of the story above: each arrow is labelled with the shape of the tensor that
# really flowed along it, `T` tokens by so many numbers.

# %%
from gptviz.viz import block_diagram

block_diagram(trace, layer=0)

# %% [markdown]
# Read it from the bottom. The stream enters as one vector of `d_model` numbers per token. `ln_1`
# normalises it, and each head makes its own queries, keys and values from it, `d_head` numbers per
# token, and its own pattern, one weight for every pair of tokens. The heads' outputs, glued side
# by side, are `d_model` wide again, so `c_proj` can mix them and the result can be *added* to the
# stream. Then the same again for the MLP, which is four times as wide inside as the stream.

# %%
from gptviz.viz.diagram import ARROW_SITES

c = model.config
fig = block_diagram(trace, layer=0)
H, d = c.n_head, c.d_head
for site in ARROW_SITES:
    print(f"blocks.0.{site:13} {list(trace[f'blocks.0.{site}'].shape)}")
claim(all(fig.arrow_shapes[name] == tuple(trace[name].shape) for name in fig.arrow_shapes),
      "each arrow is labelled with the shape of the tensor that really flowed along it")
claim(H * d == c.d_model, "the heads' outputs, glued side by side, are d_model wide again")
claim(trace["blocks.0.mlp.pre"].shape[-1] == 4 * c.d_model, "the MLP is four times as wide inside as the stream")

# %% [markdown]
# ### Check your work
#
# Write `my_shapes(cfg, T)`: for a model of configuration `cfg` (its `d_model`, `n_head`, `d_head`)
# reading `T` tokens, the shape of every tensor on the diagram's arrows, as a dict from the names in
# `ARROW_SITES` (`"ln_1"`, `"attn.q"`, `"attn.pattern"`, ...) to tuples. The test compares it with
# what models you have not seen record on texts of other lengths, with gptviz's own table of shapes
# switched off.

# %% [solution] id=ex05_shapes
def my_shapes(cfg, T):
    D, H, d = cfg.d_model, cfg.n_head, cfg.d_head
    ### BEGIN SOLUTION
    per_head, pattern, mlp = (H, T, d), (H, T, T), (T, 4 * D)
    return {"ln_1": (T, D), "attn.q": per_head, "attn.pattern": pattern, "attn.z": per_head,
            "attn.out": (T, D), "resid_mid": (T, D), "ln_2": (T, D), "mlp.pre": mlp, "mlp.post": mlp,
            "mlp.out": (T, D), "resid_post": (T, D)}
    ### END SOLUTION

# %% [test] id=test05_shapes points=2
from gptviz.exercises import forbid, random_model, require
from gptviz.model import GPT
from gptviz.trace import activation_shapes, site_names, trace_nbytes

others = [(random_model(seed=4, n_layer=1, n_head=3, d_model=24), 9), (random_model(seed=5, n_head=6, d_model=48), 13),
          (model, trace.n_tokens)]
for other, length in others:
    recorded = other.trace(list(range(7, 7 + length)))
    with forbid(GPT.trace, GPT.run, GPT, activation_shapes, site_names, trace_nbytes, block_diagram):
        answer = my_shapes(other.config, length)
    for site in ARROW_SITES:
        require(list(answer[site]), list(recorded[f"blocks.0.{site}"].shape),
                what=f"my_shapes(...)['{site}'] for {other.config.n_head} heads, d_model {other.config.d_model}, "
                     f"{length} tokens", hint="follow one arrow of the diagram at a time: which of the numbers "
                                              "T, H, d_head and d_model does it carry, and how wide is the MLP inside?")

# %% [markdown]
# ## What each layer adds
#
# The residual stream is a sum: the embeddings, then each block's attention output and MLP output.
# The picture shows how large each added vector is, for every token.

# %%
from gptviz.viz import residual_norms

residual_norms(trace)

# %% [markdown]
# The stream really is that sum, term by term:

# %%
import torch

c = model.config
total = trace["embed.sum"].clone()
for i in range(c.n_layer):
    total += trace[f"blocks.{i}.attn.out"] + trace[f"blocks.{i}.mlp.out"]
summed = torch.allclose(total, trace[f"blocks.{c.n_layer - 1}.resid_post"], atol=1e-4)
print("embeddings + every attn.out + every mlp.out == last resid_post:", summed)
claim(summed, "the stream really is that sum, term by term")

# %% [markdown]
# ## LayerNorm: mean 0, variance 1, then a learned scale and bias
#
# "Normalizing means that the vector values are biased and scaled so they have mean 0 and variance
# 1." For each token, subtract the mean of its `d_model` numbers and divide by their standard
# deviation. Then each dimension is multiplied by a learned *scale* (`ln.weight`) and shifted by a
# learned *bias* (`ln.bias`), so the model can undo the normalisation where it helps.
#
# ### Check your work
#
# Write `my_layer_norm(x, ln)`: normalise each row of `x` (`[T, d_model]`), then apply the scale
# `ln.weight` and bias `ln.bias` of the LayerNorm `ln`. (LayerNorm uses the variance without
# Bessel's correction, plus a small `eps` = `ln.eps`.) The test applies it to random vectors and a
# LayerNorm with random weights, which you have not seen, with torch's LayerNorm switched off; then
# to the stream entering every block, and to the last one before `ln_f`.

# %% [solution] id=ex05_layer_norm
def my_layer_norm(x, ln):
    ### BEGIN SOLUTION
    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, unbiased=False, keepdim=True)
    normalised = (x - mean) / torch.sqrt(var + ln.eps)
    return normalised * ln.weight.detach() + ln.bias.detach()
    ### END SOLUTION

# %% [test] id=test05_layer_norm points=3
from gptviz.exercises import forbid, random_model, random_tensor, require

hint = ("each token (row) on its own: which dimension do you average over? Compare torch's x.var() "
        "options with the definition above, and where eps goes.")
other_ln = random_model(seed=6, d_model=20).h[1].ln_2  # random scales and biases
x_test = random_tensor(6, 20, seed=9, scale=4.0) + 3.0
expected = other_ln(x_test).detach()
with forbid(torch.nn.functional.layer_norm, torch.layer_norm, torch.nn.LayerNorm.forward, torch.native_layer_norm):
    require(my_layer_norm(x_test, other_ln), expected, what="my_layer_norm on random vectors and weights you have "
            "not seen", hint=hint)
    for i in range(c.n_layer):
        stream = trace["embed.sum"] if i == 0 else trace[f"blocks.{i - 1}.resid_post"]
        require(my_layer_norm(stream, model.h[i].ln_1), trace[f"blocks.{i}.ln_1"],
                what=f"my_layer_norm before block {i}", hint=hint)
    require(my_layer_norm(trace[f"blocks.{c.n_layer - 1}.resid_post"], model.ln_f), trace["ln_f"],
            what="my_layer_norm with ln_f", hint=hint)

# %% [markdown]
# Training moved the scale and bias away from their starting values (all ones and all zeros): in
# block 2's `ln_1` every scale is now above 1 and no bias is 0. So what attention reads is "mean 0,
# variance 1", then stretched and shifted dimension by dimension:

# %%
ln = model.h[2].ln_1
w, b = ln.weight.detach(), ln.bias.detach()
print(f"scale: min {w.min():.2f}, mean {w.mean():.2f}, max {w.max():.2f}")
print(f"bias:  min {b.min():.2f}, mean {b.mean():.2f}, max {b.max():.2f}")
out = trace["blocks.2.ln_1"][0]
print(f"token 0 after ln_1: mean {out.mean():.2f}, variance {out.var(unbiased=False):.2f}")
claim(bool((w > 1).all() and (b != 0).all()), "in block 2's ln_1 every scale is now above 1 and no bias is 0")

# %% [markdown]
# ## Pre-LN: normalise before, not after
#
# GPT-2 normalises the *input* of each sub-layer and adds the sub-layer's output to the
# un-normalised stream:
#
#     x = x + attn(ln_1(x))
#     x = x + mlp(ln_2(x))
#
# and one last LayerNorm, `ln_f`, comes after the final block.
#
# > **Aside: what the comment describes, and what GPT-2 does.** The comment says: "glue the outputs
# > for all attention heads ..., add the input and normalize", and the same after the feed-forward
# > layer. That is the *post-LN* order of the original Transformer, `x = LN(x + attn(x))` (Vaswani
# > et al. 2017). GPT-2 moved the normalisation to the front (*pre-LN*: Radford et al. 2019,
# > section 2.3), which trains more stably in deep stacks (Xiong et al. 2020, *On Layer
# > Normalization in the Transformer Architecture*), and GPT-3 kept it (Brown et al. 2020, section
# > 2.1, "pre-normalization"). Run both orders with the same weights, the loaded model's (here the bundled
# > model's, trained pre-LN: not GPT-2's). In pre-LN the stream grows as the blocks add to it. In
# > post-LN it leaves every block freshly normalised, so it no longer builds up block by block: its
# > size is set anew by each block's last LayerNorm, near the length of that LayerNorm's scale
# > `ln_2.weight` (the last column): within 5% of it after blocks 1 to 3, and about a fifth short
# > of it after block 0. And weights trained pre-LN do not survive the change: the loss rises, and
# > most top guesses change.

# %%
from gptviz.compare import agreement, run_variant
from gptviz.corpus import generate_stories
from gptviz.inputs import keep_last

story, _ = keep_last(model.tokenizer.encode(generate_stories(1, seed=1)[0].text), c.n_ctx)  # a story it never saw
pre_ln, post_ln = run_variant(model, story, norm="pre"), run_variant(model, story, norm="post")
pre_size, post_size = (run.stream.norm(dim=-1).mean(-1) for run in (pre_ln, post_ln))  # [n_layer + 1] each
scale = torch.stack([block.ln_2.weight.detach().norm() for block in model.h])  # [n_layer]
print("mean norm of the stream:   pre-LN (GPT-2)   post-LN   |ln_2.weight|")
for i in range(c.n_layer + 1):
    label = "embeddings" if i == 0 else f"after block {i - 1}"
    print(f"{label:24} {pre_size[i]:10.2f} {post_size[i]:10.2f}" + (f" {scale[i - 1]:10.2f}" if i else ""))
claim(bool((pre_size.diff() > 0).all()), "in pre-LN the stream grows as the blocks add to it")
ratio = post_size[1:] / scale  # [n_layer]
claim(bool(((ratio[1:] - 1).abs() < 0.05).all()) and 0.15 < 1 - ratio[0] < 0.25,
      "in post-LN its size is within 5% of the length of ln_2.weight after blocks 1 to 3, about a fifth short after block 0")
r = agreement(pre_ln.logits, post_ln.logits, story[1:])
print(f"post-LN with the same weights: same top token at {r['top1']:.0%} of positions, "
      f"loss {r['loss_reference']:.2f} -> {r['loss_other']:.2f}")
claim(r["loss_other"] > r["loss_reference"] and r["top1"] < 0.5,
      "the loss rises, and most top guesses change")

# %% [markdown]
# ### Check your work
#
# Write `my_block(x, block)`: one pre-LN block on the stream `x` (`[T, d_model]`), from the block's
# parts `block.ln_1`, `block.attn`, `block.ln_2` and `block.mlp`. The attention and MLP modules take
# a batch, `[1, T, d_model]` (`h[None]`), and return one (`[0]` takes it off again). The test runs it
# on a block of another model, with random vectors you have not seen, with the block's own forward
# pass switched off.

# %% [solution] id=ex05_block
def my_block(x, block):
    ### BEGIN SOLUTION
    x = x + block.attn(block.ln_1(x)[None])[0]
    return (x + block.mlp(block.ln_2(x)[None])[0]).detach()
    ### END SOLUTION

# %% [test] id=test05_block points=3
from gptviz.model import GPT, Block

other_block = random_model(seed=7, d_model=20, n_head=4).h[1]
x_test = random_tensor(5, 20, seed=15, scale=2.0)
with torch.no_grad():
    expected = other_block(x_test[None])[0]
with forbid(Block.forward, GPT.forward, GPT.trace):
    require(my_block(x_test, other_block), expected, what="my_block on another model's block and vectors you have not seen",
            hint="the two lines at the top of this section, in order: which of them reads the stream that the "
                 "other has already changed?")
    stream = trace["blocks.0.resid_post"].clone()  # a recorded tensor is read-only for autograd; a clone is not
    require(my_block(stream, model.h[1]), trace["blocks.1.resid_post"],
            what="my_block on block 1 of the story")

# %% [markdown]
# ## Each block has its own matrices
#
# "Repeat the process for each layer, each with their own matrices." The blocks have the same
# shapes and different weights:

# %%
W0, W1 = model.h[0].attn.c_attn.weight, model.h[1].attn.c_attn.weight
print("same shape:", W0.shape == W1.shape, " same numbers:", torch.equal(W0, W1))
print("parameters per block:", sum(p.numel() for p in model.h[0].parameters()))
weights = [dict(block.named_parameters()) for block in model.h]
claim(all(a.keys() == b.keys() and all(a[k].shape == b[k].shape and not torch.equal(a[k], b[k]) for k in a)
          for a, b in zip(weights, weights[1:])), "the blocks have the same shapes and different weights")

# %% [markdown]
# ## The logit lens: what the stream says at every height
#
# The model reads its stream only once, at the top: `ln_f`, then a score for every vocabulary entry
# (chapter 6). Nothing stops us from applying that same reading to the stream after *each* block.
# Each row is a position in the text, each column the stream read after one more block, left to
# right; the last column is the model's output. Each cell shows the top guess for the next token,
# and its probability, if the model stopped there. The rows are the tokens around each place where a
# name comes back (chapter 3's copying places): the row of the token just before the name holds the
# guesses for the name. This text is all prompt, so generation would use only the last row's output:
# the other outputs are greyed. They still count in training, where every position is scored
# against the token that follows it.

# %%
from gptviz.corpus import name_positions
from gptviz.viz import logit_lens_view

names = {model.tokenizer.encode(name)[0] for name in [" Doug"]}  # the story's characters
places = name_positions(trace.ids, names)  # positions t where token t + 1 is a name seen before
logit_lens_view(model, trace, positions=sorted({t + d for t in places for d in (-1, 0, 1)}))

# %% [markdown]
# The lens reads over the tokens the model learned, as the legend says. The tokens the stories never
# use share one embedding row, so they all get one and the same score. Low in the stack, where the
# stream says little yet, those many equal scores add up: after block 0 they hold nearly all of the
# full softmax, one of them is the single top entry in every row shown, and which one is an
# arbitrary tie-break. Higher up they fade, and at the output they hold under 1% of it in every row
# shown. `lens.unseen` keeps that mass apart:

# %%
from gptviz.lens import lens_logits, logit_lens, unseen_mask

lens = logit_lens(model, trace)  # lens.ids: [n_layer + 1, T, 1], the top guess after each layer
shown = sorted({t + d for t in places for d in (-1, 0, 1)})
for row, label in enumerate(lens.row_labels):
    print(f"{label:14} the {lens.n_masked:,} unseen tokens hold over 90% of the full softmax in "
          f"{int((lens.unseen[row, shown] > 0.9).sum())} of the {len(shown)} rows shown")
unseen = unseen_mask(model)  # [vocab] True for the tokens that share the one unseen row
top_full = lens_logits(model, trace["blocks.0.resid_post"])[shown].argmax(-1)  # the full softmax's top entry
print(f"after block 0 the top entry is an unseen token in {int(unseen[top_full].sum())} of {len(shown)} rows; "
      f"at the output they hold at most {lens.unseen[-1, shown].max():.2%}")
claim(bool((lens.unseen[1, shown] > 0.9).all()) and bool(unseen[top_full].all()),
      "after block 0 they hold nearly all of the full softmax, one of them is the single top entry in every row shown")
claim(bool((lens.unseen[-1, shown] < 0.01).all()), "at the output they hold under 1% of it in every row shown")

# %% [markdown]
# In the picture's rows where a name comes back, the last column, the model's final guess, is the
# name; the columns before it show how far up the stack the stream starts to say it: here after
# block 2 at the first place, and only at the output at the second.

# %%
for t in places:
    guesses = [model.tokenizer.decode([int(i)]) for i in lens.ids[:, t, 0]]
    print(f"after {trace.tokens[t]!r} at {t} (next {trace.tokens[t + 1]!r}), embeddings to top: {guesses}")
    claim(int(lens.ids[-1, t, 0]) == trace.ids[t + 1], "the last column, the model's final guess, is the name")
first = [next((label for row, label in enumerate(lens.row_labels) if lens.ids[row, t, 0] == trace.ids[t + 1]), "nowhere")
         for t in places]  # the first column that names the next token ("nowhere": none does)
claim(first == ["after block 2", "after block 3"],
      "here after block 2 at the first place, and only at the output at the second")

# %% [markdown]
# Is that the model's way, or this text's? On 100 validation stories it never trained on (each read
# after `<|endoftext|>`), at every place where a name comes back, the lens names it in no column
# before block 2, and after block 2 in most places: the name forms in block 2. The control, every
# other position of the same stories: the next token is already named a quarter of the time after
# block 1, and the share climbs more evenly.

# %%
from gptviz.corpus import generate_stories
from gptviz.lens import lens_guesses
from gptviz.notebook import budget

lens_stories = generate_stories(budget(model).lens_stories, seed=1)  # 100 on the bundled model, fewer on a larger one
right = {"name": [], "other": [], "own": []}  # per story: [rows, positions] of lens hits
for story in lens_stories:
    tr = model.trace(model.tokenizer.encode(story.text), bos=True, truncate=True, names=["embed.sum", "blocks.*.resid_post"])
    top = lens_guesses(model, tr)  # [rows, T]: the lens's top guess after each layer
    ids, is_name = torch.tensor(tr.ids), torch.zeros(len(tr.ids) - 1, dtype=torch.bool)
    is_name[name_positions(tr.ids, story.name_ids(model.tokenizer))] = True
    hit = top[:, :-1] == ids[1:]  # [rows, T - 1]: the lens names the next token
    right["name"].append(hit[:, is_name]), right["other"].append(hit[:, ~is_name]), right["own"].append(top == ids)
share = {k: torch.cat(v, dim=1).float().mean(1) for k, v in right.items()}  # [rows] each
for k, label in [("name", "a name that comes back"), ("other", "every other next token (control)")]:
    print(f"{label:34} named by the lens (embeddings, after blocks 0 to 3): " + "  ".join(f"{x:.0%}" for x in share[k]), f"({torch.cat(right[k], 1).shape[1]:,} places)")
claim(share["name"][:3].max() < 0.01 and share["name"][3] > 0.7, "the lens names it in no column before block 2, after block 2 in most places")
claim(0.2 < share["other"][2] < 0.3 and share["other"][1] > 0.01, "the next token is already named a quarter of the time after block 1")

# %% [markdown]
# Why does the first column name the input token itself? At the bottom, the stream holds only
# `wte[t] + wpe[p]`. The lens reads it with `ln_f` and then a dot product with every row of `wte`,
# because GPT-2's unembedding *is* the token embedding transposed (tied weights, chapter 6). A row's
# dot product with itself is its squared length, and another row beats it only if it points almost
# the same way and is longer. So before any block has run, the best "next-token guess" is the same
# token again: the lens shows the input, not a prediction, and the blocks' work is to move the
# stream from its own token toward the next one. On the 100 validation stories above, the lens
# names the input token at every position before any block and at almost none at the output,
# while the next token goes from none to most of them.

# %%
ids = torch.tensor(trace.ids)
own = (lens_logits(model, trace["embed.sum"]).argmax(-1) == ids).float().mean().item()
W = model.wte.weight.detach()
raw = ((W[ids] @ W.T).argmax(-1) == ids).float().mean().item()
print(f"the embeddings column names the input token itself at {own:.0%} of positions")
print(f"wte[t] . wte[s] alone is largest for s = t at {raw:.0%} of positions")
claim(own >= 0.8, "before any block has run, the lens names the input token itself")
share["next"] = torch.cat(right["name"] + right["other"], dim=1).float().mean(1)  # [rows]: every position
print(f"{len(lens_stories)} validation stories, after each layer: the input token " + "  ".join(f"{x:.0%}" for x in share["own"])
      + "; the next token " + "  ".join(f"{x:.0%}" for x in share["next"]))
claim(share["own"][0] > 0.99 and share["own"][-1] < 0.01 and share["next"][0] < 0.01 and share["next"][-1] > 0.8,
      "the lens names the input token at every position before any block and almost none at the output; the next token from none to most")

# %% [markdown]
# At the top of the stack, the lens *is* the model's output:

# %%
from gptviz.exercises import check_trace
from gptviz.lens import lens_logits

last = lens_logits(model, trace[f"blocks.{c.n_layer - 1}.resid_post"])
check_trace(last, trace, "logits")

# %% [markdown]
# ## Explore
#
# Move through positions and layers: what would the model predict if it stopped there? (needs a
# running notebook)

# %%
# NBVAL_IGNORE_OUTPUT
from gptviz.widgets import LogitLensExplorer

LogitLensExplorer(model, trace.text)
