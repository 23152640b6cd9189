# %% [markdown]
# # 2 · Embeddings: from ids to vectors
#
# A token id is just a number. The model turns it into a vector of `d_model` numbers (128 in the
# bundled model, 768 in GPT-2 small, 12,288 in GPT-3) by looking up a row of the *token embedding*
# matrix, and adds a second vector that says *where* in the text the token is. The sum is what
# enters the first block.
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
# ## Token + position = input
#
# Each strip is one vector, each cell one of its numbers (blue negative, red positive). The token
# embedding of `␣Doug` plus the embedding of its position, 8, gives the input vector.

# %%
from gptviz.viz import embedding_sum

position = 8
claim(trace.tokens[position] == "␣Doug", "the token at position 8 is ␣Doug")
embedding_sum(trace, position)

# %% [markdown]
# ## One-hot times the embedding matrix is a row lookup
#
# The comment this series follows describes the first step as: make "a vector with 1 at the token
# index and 0 elsewhere", and "transform it with a learned embedding matrix (50257x12288 in
# GPT-3)". Multiplying a one-hot vector by a matrix picks out one row, so the model simply reads
# row `id` of `wte`. Both ways, computed:

# %%
import torch

W = model.wte.weight.detach()  # [vocab_size, d_model]
token_id = trace.ids[position]
one_hot = torch.zeros(model.config.vocab_size)
one_hot[token_id] = 1.0
by_product = one_hot @ W  # [50257] @ [50257, d_model] -> [d_model]
by_lookup = W[token_id]  # row token_id
print("embedding matrix:", list(W.shape), " one-hot:", list(one_hot.shape), " result:", list(by_product.shape))
print("product == lookup:", torch.equal(by_product, by_lookup))
print("== the trace's embed.token:", torch.equal(by_lookup, trace["embed.token"][position]))

# %% [markdown]
# ### Check your work
#
# Write `my_token_embeddings(ids, W)`: the embeddings of *all* the tokens of `ids` at once
# (`[T, d_model]`), as the product of a one-hot matrix (`[T, vocab_size]`, one row per token) with an
# embedding matrix `W` (`[vocab_size, d_model]`). The test runs it on a random `W` and ids you have not
# seen, with torch's embedding lookup switched off.

# %% [solution] id=ex02_token_embeddings
def my_token_embeddings(ids, W):
    ### BEGIN SOLUTION
    one_hots = torch.nn.functional.one_hot(torch.tensor(ids), W.shape[0]).to(W.dtype)  # [T, vocab_size]
    return one_hots @ W
    ### END SOLUTION

# %% [test] id=test02_token_embeddings points=2
from gptviz.exercises import forbid, random_tensor, require

W_test = random_tensor(40, 6, seed=2)  # a vocabulary of 40 tokens, 6 numbers each
ids_test = [7, 0, 39, 7, 12]
with forbid(torch.nn.functional.embedding, torch.embedding):
    require(my_token_embeddings(ids_test, W_test), W_test[ids_test],
            what="my_token_embeddings on a random W you have not seen",
            hint="row t of the one-hot matrix is all zeros except a 1 in column ids[t]; "
                 "which row of W does that row pick out of the product?")

# %% [markdown]
# ## Tokens that play the same part point the same way
#
# The embedding rows are learned. Here are some names, animals, colours and places, projected onto
# the plane that shows the most of their spread. A plane keeps only two of the `d_model`
# directions (the axes say how much of the spread each keeps), so the map can hint at groups but
# cannot show them.

# %%
from gptviz.viz import embedding_map

words = [" Lily", " Tom", " Anna", " Ben", " Mia", " dog", " cat", " bird", " frog",
         " red", " blue", " green", " park", " garden", " lake"]
embedding_map(model, words)

# %% [markdown]
# The test is in all `d_model` dimensions: the tokens whose rows point most nearly the same way
# (the largest cosine similarity, `gptviz.embeddings.nearest_tokens`).
# About half of these neighbours play the same part as the token itself, but not evenly across the
# groups: animals sit next to animals 15 times out of 20, names next to names only 8 times out of 25
# (most of the names' neighbours are unrelated words such as `␣desk` or `␣breakfast`). Even that is
# far more than chance: a token drawn at random from the 3,773 the model knows is a name less than
# six times in a hundred, and in any other of these groups less than two.

# %%
from gptviz.corpus import ANIMALS, BOYS, COLORS, GIRLS, PETS, PLACES
from gptviz.embeddings import nearest_tokens
from gptviz.interventions import learned_tokens

groups = {"name": GIRLS + BOYS, "animal": PETS + ANIMALS, "colour": COLORS, "place": PLACES}
pieces = {w: model.tokenizer.encode(" " + w) for ws in groups.values() for w in ws}
group_of = {pieces[w][0]: g for g, ws in groups.items() for w in ws if len(pieces[w]) == 1}
ids = [model.tokenizer.encode(w)[0] for w in words]
neighbours, cosines = nearest_tokens(model, W[ids], k=5, exclude=ids)  # [n, 5] each
same = [[group_of.get(int(j)) == group_of[i] for j in row] for i, row in zip(ids, neighbours)]
for w, row, cos in zip(words, neighbours, cosines):
    print(f"{w!r:9} ({group_of[model.tokenizer.encode(w)[0]]:6}) ->",
          ", ".join(f"{model.tokenizer.decode([int(j)])!r} {x:.2f}" for j, x in zip(row, cos)))
share = sum(map(sum, same)) / sum(map(len, same))
known = learned_tokens(model).tolist()
chance = sum(sum(group_of.get(j) == group_of[i] for j in known) / len(known) for i in ids) / len(ids)
print(f"neighbours in the same group: {share:.0%}; a random known token: {chance:.0%}")
hits = {g: [sum(s) for i, s in zip(ids, same) if group_of[i] == g] for g in groups}  # per word
print("same-group neighbours per group:", {g: f"{sum(h)} of {5 * len(h)}" for g, h in hits.items()})
at_random = {g: sum(group_of.get(j) == g for j in known) / len(known) for g in groups}
claim(0.4 <= share <= 0.6, "about half of these neighbours play the token's own part")
claim(sum(hits["animal"]) == 15 and sum(hits["name"]) == 8 and len(hits["name"]) == 5,
      "animals sit next to animals 15 times out of 20, names next to names only 8 times out of 25")
claim(len(known) == 3773 and at_random["name"] < 0.06 and max(at_random.values()) == at_random["name"]
      and sorted(at_random.values())[-2] < 0.02,
      "a random known token is a name less than six times in a hundred, in any other group less than two")

# %% [markdown]
# ## Learned position embeddings
#
# The order of the tokens matters, but attention (chapter 3) by itself cannot see it. So every
# position `0, 1, 2, ...` has its own vector, a row of `wpe`, added to the token's vector. GPT-2
# *learns* these rows like any other weight; there is one per position the context can hold, which
# is why the context has a fixed length (1,024 tokens in GPT-2, 256 in the bundled model).

# %%
from gptviz import PRESETS

print("wpe:", list(model.wpe.weight.shape), "= [context length, d_model]")
print("GPT-2's context:", PRESETS["gpt2"].n_ctx, " GPT-3's:", PRESETS["gpt3-175b"].n_ctx)
print("embed.pos is row t of wpe:", torch.equal(trace["embed.pos"], model.wpe.weight.detach()[: len(trace.ids)]))

# %% [markdown]
# > **Aside: what the comment describes, and what GPT-2 does.** The comment says the token vector
# > is summed "with a vector of sine and cosine functions with several different periodicities".
# > That is the original Transformer of 2017 (*Attention Is All You Need*): fixed vectors, computed,
# > not learned. GPT-2 and GPT-3 learn theirs instead. Below, both kinds for the first 64 positions:
# > each picture shows how similar (cosine similarity) position `i`'s vector is to position `j`'s.
# > The two differ. In the sinusoids, neighbours are alike (cosine 0.97 between positions one apart)
# > and the likeness fades slowly with distance. The learned positions make a checkerboard: a
# > position is unlike its neighbours (0.14 on average) and like the positions two away (0.78), so
# > the learned vectors first of all tell even positions from odd ones; within one parity, too, the
# > likeness fades with distance (0.60 four apart).

# %%
import matplotlib.pyplot as plt
from gptviz.compare import cosine_similarity_matrix, sinusoidal_positions

n, d = 64, model.config.d_model
learned = cosine_similarity_matrix(model.wpe.weight.detach()[:n])
sines = cosine_similarity_matrix(sinusoidal_positions(n, d))
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), layout="constrained")
for ax, sim, title in zip(axes, [learned, sines], ["learned (wpe), as in GPT-2", "sinusoidal, as in 2017"]):
    image = ax.imshow(sim, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set(title=title, xlabel="position j")
axes[0].set_ylabel("position i")
fig.colorbar(image, ax=axes, label="cosine similarity")
plt.show()
apart = {k: (learned.diagonal(k).mean().item(), sines.diagonal(k).mean().item()) for k in (1, 2, 4)}
print("mean cosine, positions k apart (learned, sinusoidal):",
      {k: (round(a, 2), round(b, 2)) for k, (a, b) in apart.items()})
near = lambda x, y: abs(x - y) < 0.01  # the prose's two decimals
claim(near(apart[1][1], 0.97) and apart[4][1] < apart[2][1] < apart[1][1],
      "in the sinusoids, positions one apart have cosine 0.97, fading slowly with distance")
claim(near(apart[1][0], 0.14) and near(apart[2][0], 0.78) and near(apart[4][0], 0.60),
      "learned: neighbours 0.14 on average, two apart 0.78, four apart 0.60")

# %% [markdown]
# The sinusoidal vectors follow the formula `sin(pos / 10000^(2i/d))` in even dimensions and the
# cosine in odd ones; position 0 is all zeros and ones:

# %%
P = sinusoidal_positions(n, d)
print("position 0, first 6 dims:", P[0, :6].tolist())
print("position 5, first 6 dims:", [round(x, 4) for x in P[5, :6].tolist()])

# %% [markdown]
# ## Run the model on sinusoids
#
# Could the model use sinusoidal positions instead of its own? Its other weights were trained to
# read `wpe`. `gptviz.compare.run_variant` runs the model with `embed.pos` replaced by the
# sinusoidal vectors (an edit of its own forward pass, nothing else changed), on a story it never
# saw:
# the loss rises by more than two nats per token, and the top guess changes at most positions. These
# weights were trained with learned positions, and do not work with sinusoidal ones.

# %%
from gptviz.compare import agreement, run_variant
from gptviz.corpus import generate_stories
from gptviz.inputs import keep_last

story, _ = keep_last(model.tokenizer.encode(generate_stories(1, seed=1)[0].text), model.config.n_ctx)  # its last tokens that fit
learned_run, sine_run = run_variant(model, story), run_variant(model, story, positions="sinusoidal")
r = agreement(learned_run.logits, sine_run.logits, story[1:])
print(f"{len(story)} tokens; loss with learned positions {r['loss_reference']:.2f} nats/token, "
      f"with sinusoids {r['loss_other']:.2f}; same top token at {r['top1']:.0%} of positions")
claim(r["loss_other"] > r["loss_reference"] + 2 and r["top1"] < 0.5,
      "with sinusoids the loss rises by more than two nats per token and most top guesses change")

# %% [markdown]
# ## Token + position
#
# The input to block 0 is the sum, `embed.sum = embed.token + embed.pos`.
#
# ### Check your work
#
# Write `my_embed(model, ids)`, the input to block 0 for a list of ids (`[T, d_model]`), from the
# rows of `model.wte.weight` and `model.wpe.weight`. The test runs it on a small random model and a
# sentence you have not seen, with the model's own forward pass switched off.

# %% [solution] id=ex02_embed
def my_embed(model, ids):
    ### BEGIN SOLUTION
    positions = torch.arange(len(ids))
    return model.wte.weight.detach()[ids] + model.wpe.weight.detach()[positions]
    ### END SOLUTION

# %% [test] id=test02_embed points=2
from gptviz import GPT
from gptviz.exercises import random_model

other_model = random_model(seed=2)
for text in ["Tom saw a big dog in the park. The dog ran to Tom.", "Mia hid the red box."]:
    other = other_model.trace(text)
    with forbid(GPT.forward, GPT.trace, torch.nn.functional.embedding, torch.embedding):
        require(my_embed(other_model, other.ids), other["embed.sum"],
                what=f"my_embed on a random model and {text!r}, which you have not seen,",
                hint="token t adds two rows: one picked by its id, one picked by where it stands.")

# %% [markdown]
# ## Explore
#
# Pick tokens and see their vectors, their positions' vectors, the sums, and the nearest tokens
# (needs a running notebook).

# %%
# NBVAL_IGNORE_OUTPUT
from gptviz.widgets import EmbeddingExplorer

EmbeddingExplorer(model, trace.text)
