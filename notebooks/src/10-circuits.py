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
claim((sink > even).sum(-1).tolist() == [4, 1, 1, 1],
      "seven of the sixteen heads give the first token more than an even share: all four of layer 0, one in each later layer")

# %% [markdown]
# ### Check your work
#
# Write `my_sink(trace, layer)`: for each head of that layer, the mean weight its queries put on
# position 0. Leave out query 0, which can see only position 0 and so always gives it all its
# weight. `trace[f"blocks.{layer}.attn.pattern"]` is `[n_head, T, T]` (query rows, key columns). The
# test runs it on another model's trace of a text you have not seen, with gptviz's head scores
# switched off.

# %% [solution] id=ex10_sink
def my_sink(trace, layer):
    pattern = trace[f"blocks.{layer}.attn.pattern"]  # [n_head, T, T]
    ### BEGIN SOLUTION
    return pattern[:, 1:, 0].mean(-1)
    ### END SOLUTION

# %% [test] id=test10_sink points=2
from gptviz.exercises import forbid, random_model, require
from gptviz.interventions import induction_scores, previous_token_scores

detectors = [first_token_scores, previous_token_scores, induction_scores]
other = random_model(seed=10)
other_run = other.trace("Mia had a kite. Sam took it to the hill.")
for run, name, expected in [(other_run, "a random model", first_token_scores(other_run)), (with_eot, "with_eot", sink)]:
    for layer in range(expected.shape[0]):
        with forbid(*detectors):
            answer = my_sink(run, layer)
        require(answer, expected[layer], what=f"my_sink on {name}, layer {layer}",
                hint="which column holds the weight on position 0, and which rows are the queries that had a "
                     "choice? The answer has one number per head.")

# %% [markdown]
# Seven of the sixteen heads give the first token more than its even share: all four of layer 0,
# and one in each layer after it. None gives it most of its weight; the one that uses it most gives
# it about two fifths. We will meet that head again: it is the head that copies names (the section
# *Copying names* below checks it). That fits: a name comes next at only a few positions of a story,
# and everywhere else this head has nothing to read, so it parks.

# %%
layer, head = divmod(int(sink.argmax()), c.n_head)
sink_head = (layer, head)
print(f"most weight on the first token: layer {layer}, head {head} ({sink.max():.2f})")
claim(0.3 < sink.max() < 0.5, "none gives it most of its weight; the one that uses it most gives it about two fifths")

# %% [markdown]
# Parking is harmless only if what the sink *sends* is small. A head passes on its weights times
# the value vectors, so compare the size of the value vector at position 0 with the others', for
# the head that uses the sink most:

# %%
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
claim(sink_without.mean() < sink.mean(), "position 0 gets less of the weight without it")

# %% [markdown]
# Position 0 now gets less: a word such as `Once` is no place to park. Where does the name head's
# parked weight go? The two patterns, one above the other (without the `<|endoftext|>`, every
# position is one lower), and the *entropy* of each row, in nats: 0 when a row puts all its weight
# on one token, higher the more it spreads.

# %%
from gptviz.viz import head_heatmap

def row_entropy(pattern):  # [T, T] -> [T]
    return -(pattern * pattern.clamp_min(1e-12).log()).sum(-1)

p_with, p_without = with_eot[f"blocks.{layer}.attn.pattern"][head], without[f"blocks.{layer}.attn.pattern"][head]
spread_with, spread_without = row_entropy(p_with)[1:].mean().item(), row_entropy(p_without)[1:].mean().item()
print(f"layer {layer}, head {head}: mean row entropy {spread_with:.2f} nats with <|endoftext|>, {spread_without:.2f} without")
head_heatmap(with_eot, layer, head)

# %%
head_heatmap(without, layer, head)

# %%
from gptviz.corpus import name_positions

lily = tok.encode(" Lily")[0]
copies = name_positions(without.ids, {lily})  # rows t (without <|endoftext|>) where ␣Lily comes back next
for t in copies:
    earlier = [k for k in range(t + 1) if without.ids[k] == lily]
    w_without, w_with = p_without[t, earlier].sum().item(), p_with[t + 1, [k + 1 for k in earlier]].sum().item()
    print(f"row {without.tokens[t]!r} before ␣Lily comes back: weight on the earlier ␣Lily {w_with:.2f} with, {w_without:.2f} without")
    claim(min(w_with, w_without) > 0.9, "where the name comes back, the head finds it either way")
claim(spread_without > spread_with, "without it, the other rows spread their weight more")

# %% [markdown]
# With the `<|endoftext|>`, many rows park a good part of their weight in column 0, and where a
# name comes back the head looks straight at the earlier `␣Lily`. Without it, those rows still find
# the name, and the other rows spread their weight more over the tokens near them: the mean row
# entropy rises. What the head sends from those rows is no longer mostly the small value of the
# sink, and the next layers must cope with it. That is why the model meets every story after an
# `<|endoftext|>`, and why `gptviz` does the same when it scores a story.

# %% [markdown]
# ## Induction: copying what came next last time
#
# Here is a text no story contains: 50 tokens drawn at random from those the model knows, then
# the same 50 again. On the first copy the model can only guess. On the second it *could* do
# better, by a rule that works for any text: find the earlier place where the current token
# occurred, and predict the token that followed it. Heads that do this are **induction heads**.

# %%
import math

from gptviz.interventions import learned_tokens, position_losses, repeated_tokens
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
def points_ahead(ids, n):
    """From every query of the second copy, where_to_look lands in the first copy on the token that comes next."""
    return all(0 < where_to_look(q, n) <= n and ids[where_to_look(q, n)] == ids[q + 1] for q in range(n + 1, 2 * n))


small = [50256] + [11, 22, 33, 44, 55, 66, 77] * 2  # another sequence, n = 7
require(points_ahead(small, 7) and points_ahead(ids, n), True, what="where_to_look points at the token that comes next",
        hint="write out <|endoftext|> A B C A B C with positions 0 to 6: from the second B, where is the "
             "token that comes next in the first copy?")

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
inductors = [divmod(int(i), c.n_head) for i in (induction.flatten() >= 0.5).nonzero().flatten()]
print("induction heads (at least 0.5):", inductors)
claim(int((previous >= 0.5).sum()) == 1, "the previous-token grid has one bright cell")
claim(len(inductors) == 3 and {layer for layer, _ in inductors} == {prev_layer + 1},
      "the induction grid has three, all in the next layer")

# %% [markdown]
# The previous-token grid has one bright cell; the induction grid has three, all in the next
# layer. That order is the circuit's: the previous-token head works in an earlier layer, so that by
# the time the induction heads look, each token's vector already says which token came before it.
# Here is the strongest induction head on a shorter repetition (r of 12 tokens), with the cells the
# rule predicts outlined: in the second copy, each row's brightest cell is one step to the right of
# the matching token of the first copy, a stripe.

# %%
m = 12
short = model.trace(repeated_tokens(model, m, seed=1))
stripe = [(q, q - m + 1) for q in range(m + 1, 2 * m + 1)]
head_heatmap(short, ind_layer, ind_head, highlight=stripe)

# %% [markdown]
# A picture shows where a head looks, not that the model needs it. Switch heads off and read the
# same sequence again: the strongest induction head alone, all three, and the previous-token head.

# %%
from gptviz.interventions import ablate

runs = {"the model": losses,
        f"induction head L{ind_layer}H{ind_head} off": position_losses(ablate(model, ids, heads=[(ind_layer, ind_head)])),
        "all three induction heads off": position_losses(ablate(model, ids, heads=inductors)),
        f"previous-token head L{prev_layer}H{prev_head} off": position_losses(ablate(model, ids, heads=[(prev_layer, prev_head)]))}
loss_by_position(runs, period=n)

# %%
gap = {label: (run[:n].mean() - run[n:].mean()).item() for label, run in runs.items()}
for label, g in gap.items():
    print(f"{label:32} second copy cheaper by {g:5.2f} nats")
one, three, prev = list(gap.values())[1:]
claim(1 < one < gap["the model"] / 4, "with the strongest induction head off, most of the drop is gone")
claim(three < 0.5, "with all three off, the second copy is hardly easier than the first")
claim(prev < min(one, 1), "the previous-token head off takes more of the drop than the strongest induction head")

# %% [markdown]
# With the strongest induction head off, most of the drop is gone, but not all: the other two
# induction heads still copy a little. With all three off, the second copy is hardly easier than the
# first. And switching off the *one* previous-token head takes away more than switching off the
# strongest induction head: less than a nat of the drop is left, because the three induction heads
# all read what it wrote. A circuit is only as strong as the part every path goes through.

# %% [markdown]
# **Check your work.** Write `my_induction(trace, layer, n)`: for each head of that layer, the mean
# over the second copy's queries `q = n + 1 .. 2n` of the weight on `where_to_look(q, n)`. The test
# runs it on another model and another repeated sequence, which you have not seen, with gptviz's
# head scores switched off.

# %% [solution] id=ex10_induction
def my_induction(trace, layer, n):
    pattern = trace[f"blocks.{layer}.attn.pattern"]  # [n_head, T, T], T = 2n + 1
    ### BEGIN SOLUTION
    q = torch.arange(n + 1, 2 * n + 1)
    return pattern[:, q, q - n + 1].mean(-1)
    ### END SOLUTION

# %% [test] id=test10_induction points=3
other_rep = other.trace(repeated_tokens(other, 9, seed=3))
for run, period, name in [(other_rep, 9, "a random model's repeated tokens"), (rep, n, "rep")]:
    expected = induction_scores(run, period=period)
    for layer in range(expected.shape[0]):
        with forbid(*detectors):
            answer = my_induction(run, layer, period)
        require(answer, expected[layer], what=f"my_induction on {name}, layer {layer}",
                hint="build the list of queries as a tensor, and the list of keys they should look at from it; "
                     "a pattern indexed with two such tensors picks one cell per query.")

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
claim(0.03 < base - without_control < 0.15 and without_control > 0.5,
      "with the control pair off, recall falls by some points, but the model still names the right character most of the time")
claim(copy_heads[0] == (ind_layer, ind_head), "the first copy head is the induction head of the section above")
claim(copy_heads[0] == sink_head, "it is also the head that uses the sink most")

# %% [markdown]
# Two heads carry the skill: with both off, the model almost never writes the right name. The
# control pair is not idle either (no head of a four-layer model is): with it off, recall falls by
# some points and the loss rises, but the model still names the right character most of the time.
# The first copy head is the induction head of the section above, and the head that parks most on
# the sink: one head copies names and repeated tokens alike, with the same rule, "find the earlier
# occurrence and look just after it", and rests on the first token when there is nothing to copy.

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
elsewhere = [t for t in range(last + 1) if t not in at_jane]
claim(all(scores[layer, at_jane].sum() > 0.6 and scores[layer, elsewhere].abs().sum() < 0.05 for layer in (0, 1)),
      "after blocks 0 and 1, most of the answer comes back only at the positions of the name Jane")
claim(scores[2, last] > 0.95 and scores[2, :last].abs().max() < 0.05, "from block 2 on, it lives only at the last token")

# %% [markdown]
# ### Check your work
#
# Write `my_patch_score(clean_run, corrupt_run, patched_run, good, bad)`: the normalised logit
# difference of a patched run, from the logits at the last position of the three runs (traces, or
# anything with a `["logits"]` of `[T, vocab_size]`) and the ids of the right answer `good` and the
# wrong one `bad`. The test compares it with `patch_sweep` on another model and stories you have
# not seen, with `patch_sweep` switched off. (`patch(model, clean, corrupt, names, positions)` returns
# the corrupt run with the clean run's activations pasted at those names and positions.)

# %% [solution] id=ex10_patch_score
def my_patch_score(clean_run, corrupt_run, patched_run, good, bad):
    ### BEGIN SOLUTION
    def d(run):
        return (run["logits"][-1, good] - run["logits"][-1, bad]).item()
    return (d(patched_run) - d(corrupt_run)) / (d(clean_run) - d(corrupt_run))
    ### END SOLUTION

# %% [test] id=test10_patch_score points=2
from gptviz.interventions import patch

clean_t, corrupt_t = "Once Tom and Sam went out. Tom gave the cup to", "Once Sam and Tom went out. Sam gave the cup to"
good, bad = tok.encode(" Sam")[0], tok.encode(" Tom")[0]
sweep = patch_sweep(other, clean_t, corrupt_t, " Sam", " Tom", what="resid")  # [n_layer, T]
runs = other.trace(clean_t), other.trace(corrupt_t)
for layer, position in [(0, 1), (0, 5), (1, len(runs[0].ids) - 1)]:
    patched_run = patch(other, clean_t, corrupt_t, [f"blocks.{layer}.resid_post"], positions=[position])
    with forbid(patch_sweep):
        answer = my_patch_score(*runs, patched_run, good, bad)
    require(answer, sweep[layer, position].item(), what=f"my_patch_score after block {layer} at position {position}",
            atol=1e-4, hint="first one difference d per run, at the last position only; then how far the patched "
                            "run's d has moved from the corrupt run's, as a share of the whole way to the clean run's.")

# %% [markdown]
# Read the heatmap from the bottom up. After blocks 0 and 1, pasting the clean stream brings most of
# the answer back only at the tokens `␣Jane`, nowhere else: not even at the `␣Walter`s, which the
# swap changed too. (Each cell pastes one position, and the first `␣Jane` matters most.) From block 2
# on, all of it is at the last token. Block 2 *moved* the name from where it was written to where
# it is needed.
#
# Which heads carry it? The same sweep, pasting one head's output at every position:

# %%
head_scores = patch_sweep(model, clean, corrupt, " Jane", " Walter", what="heads")  # [n_layer, n_head]
patch_heatmap(head_scores, what="heads")

# %%
mover = divmod(int(head_scores.argmax()), c.n_head)
others = head_scores.flatten().sort(descending=True).values[1:]
print(f"the head that carries most: {mover} ({head_scores[mover]:.2f}); the next: {others[0]:.2f}")
claim(mover == copy_heads[0] and head_scores[mover] > 0.9 and others[0] < 0.15,
      "one head carries the name to the last token, the first copy head")

# %% [markdown]
# One head carries it: the first copy head of the last section, which is also the induction head.
# Patching finds, in one story, the head that ablation found over many.
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
claim({name for name, _ in top[:2]} == {"L3 MLP", "L{}H{}".format(*copy_heads[0])},
      "the copy head and the last MLP push the name's logit up most")

# %% [markdown]
# Two parts write most of `␣Jane`'s logit: the copy head, and the last layer's MLP. A direct
# contribution counts only what a part adds to the final stream; the copy head also *feeds* that
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
