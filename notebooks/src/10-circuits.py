# %% [markdown]
# # 10 · Circuits: asking the model "what if?"
#
# Chapters 3 to 5 looked at what each head attends to. A picture of attention shows where a head
# *looks*; it does not show whether the model *needs* what the head finds. This chapter runs
# experiments instead, on the model itself:
#
# | experiment | the question | gptviz |
# |---|---|---|
# | **ablation** | does the model still work with this head switched off? | `ablate` |
# | **activation patching** | where, in which layer and at which token, does the information travel? | `patch_sweep` |
# | **logit attribution** | which heads push the answer's score up? | `logit_attribution` |
#
# Each of them is an *edit* of the one forward pass: `model.trace(text, edits={name: fn})` hands the
# activation called `name` to `fn` and carries on with what `fn` returns. Nothing else changes: the
# code is the forward pass of every other chapter (`gptviz/model.py`), and the experiments live in
# `gptviz/interventions/`.

# %%
import torch

from gptviz.notebook import claim, setup

model = setup()  # online: setup("gpt2") for the real GPT-2
c, tok = model.config, model.tokenizer

# %% [markdown]
# ## One edit
#
# A head's output `z` has the shape `[n_head, T, d_head]`. Replacing head 2's slice by zeros switches
# that head off at every position: the same as zeroing its rows of the output projection `c_proj`.

# %%
text = "One day Lily and Tom went to the park."

def head_2_off(z):  # z: [n_head, T, d_head], the output of every head of layer 1
    z = z.clone()
    z[2] = 0
    return z

edited = model.trace(text, edits={"blocks.1.attn.z": head_2_off})
plain = model.trace(text)
print("head 2 of layer 1 now outputs", edited["blocks.1.attn.z"][2].abs().max().item())
print("layer 0 is untouched:", torch.equal(edited["blocks.0.resid_post"], plain["blocks.0.resid_post"]))
print("the logits moved by up to", round((edited["logits"] - plain["logits"]).abs().max().item(), 2))

# %% [markdown]
# `gptviz.interventions.ablate(model, text, heads=[(1, 2)])` makes the same edit for you.
#
# ## The attention sink
#
# A head's weights are a softmax: none is negative, and each row sums to 1. So a head that has
# nothing useful to read at some position must still put its weight *somewhere*. Trained models
# learn a place to park it: the **first token**, which every position can see. In large models many
# heads put most of their weight there; the name *attention sink* comes from a study of them (Xiao
# et al., 2023). The grid gives, for every head of our model, the mean weight its queries put on
# position 0.

# %%
from gptviz.interventions import first_token_scores
from gptviz.viz import head_score_grid

story = ("<|endoftext|>Once upon a time, there was a girl named Lily. Lily had a red ball. "
         "One day, Lily went to the park with her friend Tom.")
with_eot = model.trace(story, allow_special=True)
sink = first_token_scores(with_eot)
head_score_grid(sink, title="Attention on the first token (<|endoftext|>)", label="mean weight on position 0")

# %%
T = with_eot.n_tokens
even = sum(1 / (q + 1) for q in range(1, T)) / (T - 1)  # query q sees q + 1 tokens
above = int((sink > even).sum())
print(f"{T} tokens: spread evenly, the queries would give position 0 {even:.3f} on average")
print(f"heads that give it more: {above} of {c.n_layer * c.n_head}; the most: {sink.max():.2f}")
claim(above > c.n_layer * c.n_head / 2, "most heads give the first token more than an even share")
claim(sink.max() < 0.5, "no head of this small model puts most of its weight there")

# %% [markdown]
# ### Check your work
#
# Write `my_sink(trace, layer)`: for each head of that layer, the mean weight its queries put on
# position 0. Leave out query 0, which can see only position 0 and so always gives it all its
# weight. `trace[f"blocks.{layer}.attn.pattern"]` is `[n_head, T, T]` (query rows, key columns).

# %% [solution] id=ex10_sink
def my_sink(trace, layer):
    pattern = trace[f"blocks.{layer}.attn.pattern"]  # [n_head, T, T]
    ### BEGIN SOLUTION
    return pattern[:, 1:, 0].mean(-1)
    ### END SOLUTION

# %% [test] id=test10_sink points=2
from gptviz.exercises import require

for layer in range(c.n_layer):
    require(my_sink(with_eot, layer), sink[layer], what=f"my_sink(with_eot, {layer})",
            hint="column 0 of the pattern, rows 1 onwards, averaged over the rows: pattern[:, 1:, 0].mean(-1)")

# %% [markdown]
# Our small model uses the sink less than large ones do: its stories are short, and its heads
# usually find something to read. Still, most heads give the first token more than its even share.
#
# Parking is harmless only if what the sink *sends* is small. A head passes on its weights times
# the value vectors, so compare the size of the value vector at position 0 with the others', for
# the head that uses the sink most:

# %%
layer, head = divmod(int(sink.argmax()), c.n_head)
v = with_eot[f"blocks.{layer}.attn.v"][head]  # [T, d_head]
norms = v.norm(dim=-1)
print(f"layer {layer}, head {head}: |v| at the sink {norms[0]:.2f}, at the other tokens {norms[1:].mean():.2f} on average")
claim(norms[0] < norms[1:].mean(), "the sink's value vector is smaller than the other tokens'")

# %% [markdown]
# **An experiment.** The model always met its stories after an `<|endoftext|>`. Without it, where
# does the weight go? Same story, with the first token left out:

# %%
without = model.trace(story.removeprefix("<|endoftext|>"))
sink_without = first_token_scores(without)
print(f"first token now: {without.tokens[0]!r}")
print(f"mean weight on position 0, over all heads: {sink.mean():.2f} with <|endoftext|>, {sink_without.mean():.2f} without")
print(f"layer 0 alone: {sink[0].mean():.2f} with, {sink_without[0].mean():.2f} without")
claim(sink_without.mean() > sink.mean() and sink_without[0].mean() > 2 * sink[0].mean(),
      "without <|endoftext|>, the first word takes the weight, most of all in layer 0")

# %% [markdown]
# The weight does not spread out: it moves to whatever token is first, here the word `Once`, and
# position 0 gets *more* of it than the `<|endoftext|>` did, most of all in layer 0, whose heads more
# than double their share. A head cannot tell "first" from "nothing to read" unless the first token
# carries no meaning of its own, which is why the model meets every story after an
# `<|endoftext|>`, and why `gptviz` does the same when it scores a story.
#
# ## Induction: copying what came next last time
#
# Here is a text no story contains: 50 tokens drawn at random from those the model knows, then
# the same 50 again. On the first copy the model can only guess. On the second it *could* do
# better, by a rule that works for any text: find the earlier place where the current token
# occurred, and predict the token that followed it. Heads that do this are **induction heads**.

# %%
import math

from gptviz.interventions import learned_tokens, position_losses, repeated_tokens
from gptviz.viz import head_heatmap, loss_by_position

n = 50
ids = repeated_tokens(model, n, seed=0)  # [<|endoftext|>] + r + r
rep = model.trace(ids)
losses = position_losses(rep)  # [2n]: the loss of predicting each token from the ones before it
print(tok.decode(ids[1:13]), "...")
loss_by_position({"the model": losses}, period=n)

# %%
first, second = losses[:n].mean().item(), losses[n:].mean().item()
print(f"mean loss: first copy {first:.2f} nats, second copy {second:.2f} nats")
print(f"guessing uniformly among the {len(learned_tokens(model)):,} tokens it knows: {math.log(len(learned_tokens(model))):.2f} nats")
claim(second < first - 4, "the second copy costs the model at least 4 nats a token less than the first")

# %% [markdown]
# **The model passes.** On the first copy its loss is about that of a uniform guess among the
# tokens it knows: nothing there can be predicted. A few tokens into the second copy the loss falls
# close to zero, and stays there. The model has never seen these 50 tokens in this order; it has
# learned the rule, not the sequence. Its training data made that worth learning: some documents
# repeat a span of random tokens (a made-up song, a list read back), which only copying predicts
# (the model card, `assets/models/gptviz-stories/README.md`, says how).

# %% [markdown]
# Which heads do it? An induction head needs a helper: at each token, something must have written
# down *which token came before it*. That is a **previous-token head**. Two scores per head, on
# this sequence:
#
# * previous-token: the mean weight each query puts on the token just before it;
# * induction: in the second copy, the mean weight on the token *after* the earlier occurrence of
#   the current token.

# %% [markdown]
# **Predict before you run.** In the second copy, query position `q` holds the same token as
# position `q - n`. Which position should an induction head look at from `q`? Write it as an
# expression in `q` and `n`, as the function `where_to_look(q, n)`.

# %% [solution] id=ex10_predict_where
def where_to_look(q, n):
    ### BEGIN SOLUTION
    return q - n + 1
    ### END SOLUTION

# %% [test] id=test10_predict_where points=1
# right when, from every query of the second copy, it points into the first copy at the token that comes next
right = [0 < where_to_look(q, n) <= n and ids[where_to_look(q, n)] == ids[q + 1] for q in range(n + 1, 2 * n)]
require(all(right), True, what="where_to_look points at the token that comes next",
        hint="the earlier occurrence of the token at q is at q - n; the induction head wants the token after it.")

# %%
from gptviz.interventions import induction_scores, previous_token_scores

previous = previous_token_scores(rep)
head_score_grid(previous, title="Previous-token heads", label="mean weight on the previous token")

# %%
induction = induction_scores(rep, period=n)
head_score_grid(induction, title="Induction heads", label="weight on the token after the earlier occurrence")

# %%
ind_layer, ind_head = divmod(int(induction.argmax()), c.n_head)
prev_layer, prev_head = divmod(int(previous.argmax()), c.n_head)
print(f"induction head: layer {ind_layer}, head {ind_head} ({induction.max():.2f}); "
      f"previous-token head: layer {prev_layer}, head {prev_head} ({previous.max():.2f})")
claim(induction.max() >= 0.5, "one head puts at least half its weight on the token after the earlier occurrence")
claim(prev_layer < ind_layer, "the best previous-token head comes in an earlier layer than the induction head")

# %% [markdown]
# One head stands out in each grid, and the order is the circuit's: the previous-token head works
# in an earlier layer, so that by the time the induction head looks, each token's vector already
# says which token came before it. Here is the induction head on a shorter repetition (r of 12
# tokens), with the cells the rule predicts outlined: in the second copy, each row's brightest cell
# is one step to the right of the matching token of the first copy, a stripe.

# %%
m = 12
short = model.trace(repeated_tokens(model, m, seed=1))
stripe = [(q, q - m + 1) for q in range(m + 1, 2 * m + 1)]
head_heatmap(short, ind_layer, ind_head, highlight=stripe)

# %% [markdown]
# A picture shows where a head looks, not that the model needs it. Switch the induction head off
# and read the same sequence again:

# %%
from gptviz.interventions import ablate

without_ind = position_losses(ablate(model, ids, heads=[(ind_layer, ind_head)]))
without_prev = position_losses(ablate(model, ids, heads=[(prev_layer, prev_head)]))
loss_by_position({"the model": losses, f"induction head L{ind_layer}H{ind_head} off": without_ind,
                  f"previous-token head L{prev_layer}H{prev_head} off": without_prev}, period=n)

# %%
gap = {label: (run[:n].mean() - run[n:].mean()).item()
       for label, run in [("the model", losses), ("induction head off", without_ind),
                          ("previous-token head off", without_prev)]}
for label, g in gap.items():
    print(f"{label:24} second copy cheaper by {g:5.2f} nats")
claim(gap["induction head off"] < 1 < 4 < gap["the model"], "with the induction head off, the second copy is no easier than the first")

# %% [markdown]
# With the induction head off, the drop is gone: the second copy costs as much as the first. One
# head carries the rule. Switching the previous-token head off hurts too, but less: the printed
# gaps say how much. The model has other heads that also look one token back (the grid above),
# and they fill in part of what it wrote.

# %% [markdown]
# **Check your work.** Write `my_induction(trace, layer, n)`: for each head of that layer, the mean
# over the second copy's queries `q = n + 1 .. 2n` of the weight on `where_to_look(q, n)`.

# %% [solution] id=ex10_induction
def my_induction(trace, layer, n):
    pattern = trace[f"blocks.{layer}.attn.pattern"]  # [n_head, T, T], T = 2n + 1
    ### BEGIN SOLUTION
    q = torch.arange(n + 1, 2 * n + 1)
    return pattern[:, q, q - n + 1].mean(-1)
    ### END SOLUTION

# %% [test] id=test10_induction points=2
for layer in range(c.n_layer):
    require(my_induction(rep, layer, n), induction[layer], what=f"my_induction(rep, {layer}, n)",
            hint="index the pattern with two tensors at once: pattern[:, q, q - n + 1] picks one cell per query.")

# %% [markdown]
# ## Copying names
#
# Stories are the model's home ground: characters are named, then named again. Chapter 3 found
# heads that look back at a name before the model writes it again. Do they matter? We score the
# model on 200 validation stories (it never saw them) and count how often its top prediction is
# the right name, wherever the next token is a name the story already used. Then again with the
# two heads that look at earlier names most switched off, and, as a control, with the two heads
# that look at them least.

# %%
from gptviz.corpus import generate_stories
from gptviz.evaluate import name_head_scores, score_stories
from gptviz.interventions import ablation_edits
from gptviz.train import VAL_SEED

val = generate_stories(200, VAL_SEED)
copying, places = name_head_scores(model, val[:40])
head_score_grid(copying, title=f"Attention on the earlier name ({places} places in 40 stories)",
                label="weight on the earlier mentions")

# %%
order = copying.flatten().argsort(descending=True)
copy_heads = [divmod(int(i), c.n_head) for i in order[:2]]
control = [divmod(int(i), c.n_head) for i in order[-2:]]
recall = {}
for label, heads in [("the model", []), (f"copy heads {copy_heads} off", copy_heads),
                     (f"control {control} off", control)]:
    s = score_stories(model, val, edits=ablation_edits(model, heads=heads) if heads else None)
    recall[label] = s.name_hits / s.name_positions
    print(f"{label:36} name recall {recall[label]:.1%}, loss {s.loss_sum / s.tokens:.3f}")

# %%
base, without_copy, without_control = recall.values()
claim(without_copy < 0.1 < 0.9 < base, "with the two copy heads off, the model almost never names the right character")
claim(base - without_control < 0.02, "switching the two other heads off leaves name recall almost unchanged")

# %% [markdown]
# Two heads carry the skill: with both off, the model almost never writes the right name, while
# two other heads can go with little change in recall (the loss still rises: they do other work).

# %% [markdown]
# ## Where does the name travel? Activation patching
#
# Two stories that differ only in who is who:

# %%
clean = ("There was once a cheerful boy called Walter. Walter lived next door to a girl named Jane. "
         "Jane was a lot of fun. One day, Dad gave Walter and")
corrupt = clean.replace("Walter", "@").replace("Jane", "Walter").replace("@", "Jane")
print(corrupt)

# %%
from gptviz.viz import distribution_change

clean_run, corrupt_run = model.trace(clean), model.trace(corrupt)
p_clean = torch.softmax(clean_run["logits"][-1], -1)
p_corrupt = torch.softmax(corrupt_run["logits"][-1], -1)
distribution_change(p_clean, p_corrupt, tok, k=5, names=("clean", "names swapped"))

# %%
jane, walter = tok.encode(" Jane")[0], tok.encode(" Walter")[0]
print(f"clean: p(Jane) {p_clean[jane]:.3f};  names swapped: p(Walter) {p_corrupt[walter]:.3f}")
claim(p_clean[jane] > 0.9 and p_corrupt[walter] > 0.9, "the model names the other child in both stories")

# %% [markdown]
# The model has to name the child who is *not* the last one mentioned. Now run the swapped story, but
# paste in the clean run's residual stream at one layer and one position, and see how far the
# answer moves back to `␣Jane`. The score is the *normalised logit difference*: with
# `d = logit(␣Jane) - logit(␣Walter)` at the last position,
# `(d_patched - d_corrupt) / (d_clean - d_corrupt)`: 0 when the paste changes nothing, 1 when it
# brings the clean answer back. `patch_sweep` does every layer and position at once.

# %%
from gptviz.interventions import patch_sweep
from gptviz.viz import patch_heatmap

scores = patch_sweep(model, clean, corrupt, " Jane", " Walter", what="resid")  # [n_layer, T]
patch_heatmap(scores, clean_run.tokens)

# %%
at_jane = [t for t, i in enumerate(clean_run.ids) if i == jane]
last = clean_run.n_tokens - 1
print("positions of ␣Jane:", at_jane)
for layer in range(c.n_layer):
    print(f"after block {layer}: at the Janes {scores[layer, at_jane].sum():.2f}, at the last token {scores[layer, last]:.2f}")
claim(scores[0, at_jane].sum() > 0.9 and scores[0].abs().sum() - scores[0, at_jane].sum() < 0.05,
      "after block 0, the answer lives only at the two positions of the name Jane")
claim(scores[2, last] > 0.95 and scores[2, :last].abs().max() < 0.05, "from block 2 on, it lives only at the last token")

# %% [markdown]
# ### Check your work
#
# Compute one cell of the sweep yourself. `patch(model, clean, corrupt, names, positions)` returns
# the swapped story's trace with the clean run's activations pasted at those names and positions.
# Paste the residual stream after block 0 at the position of the first name, and compute the score
# `my_score` from the three runs' logits at the last position.

# %% [solution] id=ex10_patch_score
from gptviz.interventions import patch

position = clean_run.ids.index(jane)  # the first " Jane" of the clean story
patched = patch(model, clean, corrupt, ["blocks.0.resid_post"], positions=[position])
### BEGIN SOLUTION
diff = lambda run: (run["logits"][-1, jane] - run["logits"][-1, walter]).item()  # noqa: E731
my_score = (diff(patched) - diff(corrupt_run)) / (diff(clean_run) - diff(corrupt_run))
### END SOLUTION

# %% [test] id=test10_patch_score points=2
require(my_score, scores[0, position].item(), what="my_score", atol=1e-4,
        hint="d = logit(Jane) - logit(Walter) at the last position (logits[-1]) of each run; then "
             "(d_patched - d_corrupt) / (d_clean - d_corrupt).")

# %% [markdown]
# Read the heatmap from the bottom up. After block 0, pasting the clean stream brings the answer back
# only at the two tokens `␣Jane`, nowhere else: not even at the `␣Walter`s, which the swap changed
# too. After block 1, part of it has reached the last token; from block 2 on, all of it is there.
# Somewhere in blocks 1 and 2, heads *moved* the name from where it was written to where it is needed.
#
# Which heads carry it? The same sweep, pasting one head's output at every position:

# %%
head_scores = patch_sweep(model, clean, corrupt, " Jane", " Walter", what="heads")  # [n_layer, n_head]
patch_heatmap(head_scores, what="heads")

# %%
movers = [divmod(int(i), c.n_head) for i in head_scores.flatten().argsort(descending=True)[:2]]
print("the two heads that carry most:", movers, [round(head_scores[h].item(), 2) for h in movers])
claim(set(movers) == set(copy_heads) and sum(head_scores[h] for h in movers) > 0.9,
      "the two copy heads carry the name to the last token")

# %% [markdown]
# The two heads that carry it are the two copy heads of the last section: patching finds, in one
# story, the heads that ablation found over many.
#
# ## Who votes for the name? Logit attribution
#
# The final logit of `␣Jane` is a sum: the residual stream at the last position is the embeddings
# plus every head's and every MLP's output, and the unembedding is linear. Freezing the final
# LayerNorm's scale at its recorded value, each part's *direct* contribution to the logit can be read
# off, and they add up to the logit (plus ln_f's bias term).

# %%
from gptviz.interventions import logit_attribution
from gptviz.viz import attribution_bars

attribution = logit_attribution(model, clean_run, " Jane")
attribution_bars(attribution, k=8)

# %%
top = attribution.top(4)
print([(name, round(value, 2)) for name, value in top])
claim({name for name, _ in top[:3]} == {"L3 MLP"} | {f"L{l}H{h}" for l, h in copy_heads},
      "the last MLP and the two copy heads push the name's logit up most")

# %% [markdown]
# Three parts write most of `␣Jane`'s logit: the two copy heads, and the last layer's MLP. A direct
# contribution counts only what a part adds to the final stream; the copy heads also *feed* that
# MLP, which attribution does not see and ablation does. Try it below: switch the copy heads off and
# watch the next-token distribution change.

# %% [markdown]
# ## Explore
#
# Switch heads and MLPs off yourself, on the clean story (needs a running notebook).

# %%
# NBVAL_IGNORE_OUTPUT
from gptviz.widgets import AblationExplorer

AblationExplorer(model, clean)
