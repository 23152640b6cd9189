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
# learn a place to park it: the **first token**, which every position can see. The grid gives, for
# every head, the mean weight its queries put on position 0.

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
print(f"{T} tokens: spread evenly, a query would give position 0 about {1 / (T / 2):.0%} on average")
print(f"heads that put more than half their weight on it: {int((sink > 0.5).sum())} of {c.n_layer * c.n_head}")
claim((sink > 0.5).sum() >= 2, "several heads put most of their weight on the first token")

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
print(f"the sink head, layer {layer} head {head}: {sink[layer, head]:.2f} -> {sink_without[layer, head]:.2f}")

# %% [markdown]
# SINK_WITHOUT_PROSE
#
# ## Induction: copying what came next last time
#
# Here is a text no story contains: 50 tokens drawn at random from those the model knows, then
# the same 50 again. On the first copy the model can only guess. On the second it *could* do
# better, by a rule that works for any text: find the earlier place where the current token
# occurred, and predict the token that followed it. Heads that do this are **induction heads**.

# %%
from gptviz.interventions import position_losses, repeated_tokens
from gptviz.viz import loss_by_position

n = 50
ids = repeated_tokens(model, n, seed=0)  # [<|endoftext|>] + r + r
rep = model.trace(ids)
losses = position_losses(rep)  # [2n]: the loss of predicting each token from the ones before it
print(tok.decode(ids[1:13]), "...")
loss_by_position({"the model": losses}, period=n)

# %%
first, second = losses[:n].mean().item(), losses[n:].mean().item()
print(f"mean loss: first copy {first:.2f} nats, second copy {second:.2f} nats")
claim(first - second >= 4, "the loss drops by more than 4 nats on the second copy")

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
prev_head = divmod(int(previous.argmax()), c.n_head)
ind_head = divmod(int(induction.argmax()), c.n_head)
print(f"previous-token head: layer {prev_head[0]}, head {prev_head[1]} ({previous.max():.2f})")
print(f"induction head: layer {ind_head[0]}, head {ind_head[1]} ({induction.max():.2f})")
claim(previous.max() >= 0.5 and induction.max() >= 0.5, "one head looks at the previous token, another does induction")
claim(prev_head[0] < ind_head[0], "the previous-token head sits in an earlier layer than the induction head")

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
# The induction head's pattern shows the rule as a stripe: in the second copy, each row's brightest
# cell is one step to the right of the matching token of the first copy.

# %%
from gptviz.viz import head_heatmap

head_heatmap(rep, *ind_head)

# %% [markdown]
# ### Switch the circuit off
#
# If these heads are the circuit, switching them off should take the second copy's advantage away.
# We switch off every head whose induction score is over 0.3, and, separately, the previous-token
# head: the induction head reads what that head wrote, so without it induction should fail too.

# %%
from gptviz.interventions import ablate

ind_heads = [divmod(int(i), c.n_head) for i in (induction.flatten() > 0.3).nonzero().flatten()]
runs = {
    "the model": losses,
    f"induction heads off {ind_heads}": position_losses(ablate(model, ids, heads=ind_heads, names=["logits"])),
    f"previous-token head {prev_head} off": position_losses(ablate(model, ids, heads=[prev_head], names=["logits"])),
}
loss_by_position(runs, period=n)

# %%
for label, run in runs.items():
    print(f"{label:40} first copy {run[:n].mean():5.2f}, second copy {run[n:].mean():5.2f} nats")
drop = {label: (run[:n].mean() - run[n:].mean()).item() for label, run in runs.items()}
claim(all(d < 1 for label, d in drop.items() if label != "the model"),
      "with either part of the circuit switched off, the second copy is no easier than the first")

# %% [markdown]
# ## Copying names
#
# Stories are the model's home ground: characters are named, then named again. Chapter 3 found
# heads that look back at a name before the model writes it again. Do they matter? We score the
# model on 200 validation stories (it never saw them) and count how often its top prediction is
# the right name, wherever the next token is a name the story already used. Then again with the
# three heads that look at earlier names most switched off, and, as a control, with three heads
# that do not.

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
copy_heads = [divmod(int(i), c.n_head) for i in order[:3]]
control = [divmod(int(i), c.n_head) for i in order[-3:]]
recall = {}
for label, heads in [("the model", []), (f"copy heads {copy_heads} off", copy_heads),
                     (f"control {control} off", control)]:
    s = score_stories(model, val, edits=ablation_edits(model, heads=heads) if heads else None)
    recall[label] = s.name_hits / s.name_positions
    print(f"{label:36} name recall {recall[label]:.1%}, loss {s.loss_sum / s.tokens:.3f}")

# %%
base, without_copy, without_control = recall.values()
claim(base - without_copy > 0.3, "switching the copy heads off costs more than 30 points of name recall")
claim(base - without_control < 0.05, "switching three other heads off costs almost nothing")

# %% [markdown]
# ## Where does the name travel? Activation patching
#
# Two stories that differ only in who is who:

# %%
clean = ("Once upon a time, there was a girl named Lily and a boy named Tom. Lily had a red ball. "
         "One day, Tom took the ball. Lily was sad. Tom said sorry and gave the ball back to")
corrupt = clean.replace("Lily", "@").replace("Tom", "Lily").replace("@", "Tom")
print(corrupt)

# %%
from gptviz.viz import distribution_change

clean_run, corrupt_run = model.trace(clean), model.trace(corrupt)
p_clean = torch.softmax(clean_run["logits"][-1], -1)
p_corrupt = torch.softmax(corrupt_run["logits"][-1], -1)
distribution_change(p_clean, p_corrupt, tok, k=5, names=("clean", "names swapped"))

# %%
lily, tom = tok.encode(" Lily")[0], tok.encode(" Tom")[0]
print(f"clean: p(Lily) {p_clean[lily]:.2f}, p(Tom) {p_clean[tom]:.2f};  swapped: p(Lily) {p_corrupt[lily]:.2f}, p(Tom) {p_corrupt[tom]:.2f}")
claim(p_clean.argmax() == lily and p_corrupt.argmax() == tom, "the model gives the ball back to the right child in both")

# %% [markdown]
# Now run the swapped story, but paste in the clean run's residual stream at one layer and one
# position, and see how far the answer moves back to `␣Lily`. The score is the *normalised logit
# difference*: with `d = logit(␣Lily) - logit(␣Tom)` at the last position,
# `(d_patched - d_corrupt) / (d_clean - d_corrupt)`: 0 when the paste changes nothing, 1 when it
# brings the clean answer back. `patch_sweep` does every layer and position at once.

# %%
from gptviz.interventions import patch_sweep
from gptviz.viz import patch_heatmap

scores = patch_sweep(model, clean, corrupt, " Lily", " Tom", what="resid")  # [n_layer, T]
patch_heatmap(scores, clean_run.tokens)

# %%
PATCH_CLAIMS = None

# %% [markdown]
# ### Check your work
#
# Compute one cell of the sweep yourself. `patch(model, clean, corrupt, names, positions)` returns
# the swapped story's trace with the clean run's activations pasted at those names and positions.
# Paste the residual stream after block 0 at the position of the first name, and compute the score
# `my_score` from the three runs' logits at the last position.

# %% [solution] id=ex10_patch_score
from gptviz.interventions import patch

position = clean_run.ids.index(lily)  # the first " Lily" of the clean story
patched = patch(model, clean, corrupt, ["blocks.0.resid_post"], positions=[position])
### BEGIN SOLUTION
diff = lambda run: (run["logits"][-1, lily] - run["logits"][-1, tom]).item()  # noqa: E731
my_score = (diff(patched) - diff(corrupt_run)) / (diff(clean_run) - diff(corrupt_run))
### END SOLUTION

# %% [test] id=test10_patch_score points=2
require(my_score, scores[0, position].item(), what="my_score", atol=1e-4,
        hint="d = logit(Lily) - logit(Tom) at the last position (logits[-1]) of each run; then "
             "(d_patched - d_corrupt) / (d_clean - d_corrupt).")

# %% [markdown]
# PATCH_PROSE
#
# Which heads carry it? The same sweep, pasting one head's output at every position:

# %%
head_scores = patch_sweep(model, clean, corrupt, " Lily", " Tom", what="heads")  # [n_layer, n_head]
patch_heatmap(head_scores, what="heads")

# %% [markdown]
# ## Who votes for the name? Logit attribution
#
# The final logit of `␣Lily` is a sum: the residual stream at the last position is the embeddings
# plus every head's and every MLP's output, and the unembedding is linear. Freezing the final
# LayerNorm's scale at its recorded value, each part's *direct* contribution to the logit can be read
# off, and they add up to the logit (plus ln_f's bias term).

# %%
from gptviz.interventions import logit_attribution
from gptviz.viz import attribution_bars

attribution = logit_attribution(model, clean_run, " Lily")
attribution_bars(attribution, k=8)

# %%
ATTRIBUTION_CLAIMS = None

# %% [markdown]
# ## Explore
#
# Switch heads and MLPs off yourself, on the clean story (needs a running notebook).

# %%
# NBVAL_IGNORE_OUTPUT
from gptviz.widgets import AblationExplorer

AblationExplorer(model, clean)
