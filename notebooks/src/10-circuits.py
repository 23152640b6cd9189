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
# With the `<|endoftext|>`, most rows of the head park a good part of their weight in column 0
# (seven in ten put more than 0.3 there), and where a name comes back the head looks straight at the earlier `␣Lily`. Without it, those
# rows still find the name, and the other rows spread their weight more over the tokens near them:
# the mean row entropy rises.
#
# Cause and effect run this way: attention does not need an `<|endoftext|>`; the model learned to
# rest spare weight on one because one was always there. The trainer starts every window at a
# story's `<|endoftext|>` (`gptviz.train.story_starts`), so in training position 0 held that token
# before every story. Take it away and the model reads its stories worse. On 30 validation stories,
# the loss on the same tokens is higher without it, for every one of the 30; and another token in
# its place, a full stop, does no better than none. That is why a story is best read the way
# training showed it, after an `<|endoftext|>`, and why the cells of this chapter put one first
# themselves (text that starts with it and `allow_special=True`, or its id).

# %%
from gptviz.corpus import generate_stories, training_stream
from gptviz.interventions import position_losses
from gptviz.tokenizer import EOT_ID
from gptviz.notebook import budget
from gptviz.train import VAL_SEED, story_starts

parked = (p_with[1:, 0] > 0.3).float().mean().item()  # the rows that park, with <|endoftext|>
print(f"rows of layer {layer}, head {head} with more than 0.3 in column 0: {parked:.0%}")
claim(abs(parked - 0.7) < 0.05, "seven in ten rows of the head put more than 0.3 in column 0")
stream = training_stream(generate_stories(40, seed=0), tok)  # the shape of the training stream
starts = story_starts(stream)[1:]  # offset 0 is the stream's own start
claim(all(stream[s] == EOT_ID for s in starts), "the trainer starts every window at a story's <|endoftext|>")
first = {"<|endoftext|>": [EOT_ID], "nothing": [], "a full stop": tok.encode(".")}
reads = {k: [] for k in first}
plan = budget(model)  # this chapter's counts of stories and sequences: fewer on a model larger than the bundled one
for val_story in generate_stories(plan.sink_stories, VAL_SEED):
    body = tok.encode(val_story.text)[:200]
    for k, before in first.items():  # the loss of body[1:], whatever comes first
        reads[k].append(position_losses(model.trace(before + body))[len(before):].mean().item())
print({k: f"{sum(v) / len(v):.3f} nats per token" for k, v in reads.items()})
claim(all(a < b for a, b in zip(reads["<|endoftext|>"], reads["nothing"])), "higher without it, for every one of the 30")
claim(sum(reads["a full stop"]) >= sum(reads["nothing"]) - 0.01 * plan.sink_stories, "a full stop in its place does no better than none")

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
#
# One spike in the first copy stands far above the rest. It is the rule at work too, misfiring:

# %%
spike = int(losses[:n].argmax())  # losses[t] is the loss of ids[t + 1], read at position t
seen = [s for s in range(1, spike) if ids[s] == ids[spike]]  # where this token occurred before
before = seen[0] if seen else spike - 1  # a model without the rule may spike on a token new to the text
guess = int(rep["logits"][spike].argmax())
print(f"at position {spike}, {rep.tokens[spike]!r}: it occurred before at {seen}, followed by {rep.tokens[before + 1]!r}")
print(f"the model predicts {tok.token_str(guess)!r} with p = {rep['logits'][spike].softmax(-1)[guess]:.2f}; "
      f"the next token is {rep.tokens[spike + 1]!r}: a loss of {losses[spike]:.1f} nats")
claim(len(seen) == 1 and guess == ids[before + 1] and losses[spike] > 15,
      "the token occurred once before, and the model confidently predicts what followed it then")
on_next = torch.stack([rep[f"blocks.{l}.attn.pattern"][:, spike, before + 1] for l in range(c.n_layer)])  # [L, H]
spike_heads = [divmod(int(i), c.n_head) for i in (on_next.flatten() > 0.9).nonzero().flatten()]
print(f"heads that put more than 0.9 of this row's weight on {rep.tokens[before + 1]!r} at {before + 1}: {spike_heads}")
claim(seen == [1] and spike == 19 and rep.tokens[spike] == "␣hive" and rep.tokens[2] == "␣sky"
      and abs(losses[spike].item() - 19.7) < 0.05, "␣hive at positions 1 and 19, then ␣sky; 19.7 nats")
claim(len(spike_heads) == 3 and {layer for layer, _ in spike_heads} == {2},
      "three heads of layer 2 put more than 0.9 of their weight on the token after the first occurrence")

# %% [markdown]
# The random draw happened to put the same token twice in the first copy: `␣hive`, at positions 1
# and 19. At its second occurrence the model does exactly what the second copy rewards: three heads
# of layer 2 look from there at `␣sky`, the token after the first `␣hive`, each with more than 0.9
# of its weight, and the model predicts `␣sky` with near certainty. Here that is wrong, and a
# confident wrong guess costs more than any uniform guess could: 19.7 nats, against 8.2 for a
# uniform guess. The spike is an induction example, inside the copy where induction cannot help;
# the three heads are the induction heads found below.

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
if ind_layer <= prev_layer:  # the two strongest the wrong way round (a random model): the strongest pair in order
    ind_layer, ind_head = divmod(int(induction[1:].argmax()) + c.n_head, c.n_head)
    prev_layer, prev_head = divmod(int(previous[:ind_layer].argmax()), c.n_head)
inductors = [divmod(int(i), c.n_head) for i in (induction.flatten() >= 0.5).nonzero().flatten()] or [(ind_layer, ind_head)]
print("induction heads (at least 0.5):", inductors)
claim(int((previous >= 0.5).sum()) == 1, "the previous-token grid has one bright cell")
claim(len(inductors) == 3 and {layer for layer, _ in inductors} == {prev_layer + 1},
      "the induction grid has three, all in the next layer")
claim(set(inductors) == set(spike_heads), "the heads behind the first copy's spike are the induction heads")

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
# In the first copy there is nothing to copy yet, and the head parks its weight. On these random
# tokens it parks on position 1, the first token after `<|endoftext|>`, not on the `<|endoftext|>`
# itself (column 0), as it does in stories:

# %%
first_rows = short[f"blocks.{ind_layer}.attn.pattern"][ind_head, 2:m + 1]  # queries 2 .. m: the first copy
print(f"first copy, mean weight: on position 0 {first_rows[:, 0].mean():.2f}, on position 1 {first_rows[:, 1].mean():.2f}")
claim(first_rows[:, 1].mean() > 0.5 > 0.1 > first_rows[:, 0].mean(), "on these random tokens it parks on position 1, not on the <|endoftext|>")

# %% [markdown]
# A picture shows where a head looks, not that the model needs it. Switch heads off and read
# repeated sequences again, 16 of them (the first is the one above), averaged: the strongest
# induction head alone, all three, the previous-token head, and as controls a head drawn at random
# from the others of each of those layers. Each switch two ways: *zero* ablation (the head outputs
# nothing) and *mean* ablation (the head outputs its average over the sequence's positions, so it
# still adds its usual offset but no longer depends on the tokens).

# %%
from gptviz.interventions import ablation_edits

seqs = [repeated_tokens(model, n, seed=s) for s in range(plan.repeats)]
unedited = [model.trace(s) for s in seqs]  # each sequence once, whole: "the model", and the means "mean" fills in
draw = torch.Generator().manual_seed(0)
def random_other(layer, skip):  # a control: a head of the same layer, drawn at random among the others
    others = [h for h in range(c.n_head) if (layer, h) not in skip]
    return (layer, others[int(torch.randint(len(others), (1,), generator=draw))])
def mean_losses(heads, how):  # [2n]: the loss at each position, averaged over the sequences
    edited = lambda s, u: model.trace(s, names=["logits"], edits=ablation_edits(model, heads, how=how, reference=u))  # noqa: E731
    return torch.stack([position_losses(edited(s, u) if heads else u) for s, u in zip(seqs, unedited)]).mean(0)
switches = {"the model": [], f"induction head L{ind_layer}H{ind_head} off": [(ind_layer, ind_head)],
            "all three induction heads off": inductors, f"previous-token head L{prev_layer}H{prev_head} off": [(prev_layer, prev_head)]}
switches.update({f"control L{l}H{h} off": [(l, h)] for l, h in (random_other(ind_layer, inductors), random_other(prev_layer, [(prev_layer, prev_head)]))})
runs = {how: {label: mean_losses(heads, how) for label, heads in switches.items()} for how in ("zero", "mean")}
loss_by_position({label: run for label, run in runs["zero"].items() if "control" not in label}, period=n)

# %%
gap = {how: {label: (run[:n].mean() - run[n:].mean()).item() for label, run in r.items()} for how, r in runs.items()}
print(f"{f'second copy cheaper by (nats, mean of {plan.repeats})':44} {'zero':>6} {'mean':>6}")
for label in switches:
    print(f"{label:44} {gap['zero'][label]:6.2f} {gap['mean'][label]:6.2f}")
model_gap, one, three, prev, *controls = gap["zero"].values()
claim(one < model_gap / 2, "with the strongest induction head off, more than half of the drop is gone")
claim(three < 0.5, "with all three off, the second copy is hardly easier than the first")
claim(prev < min(one, 1), "the previous-token head off takes more of the drop than the strongest induction head")
claim(all(abs(g - model_gap) < 0.3 for g in controls), "the control heads off change the drop by less than a third of a nat")
claim(all(abs(gap["zero"][k] - gap["mean"][k]) < 0.5 for k in switches), "mean ablation tells the same story, within half a nat")

# %% [markdown]
# With the strongest induction head off, more than half of the drop is gone, but not all: the other
# two induction heads still copy some. With all three off, the second copy is hardly easier than the
# first. And switching off the *one* previous-token head takes away more than switching off the
# strongest induction head: less than a nat of the drop is left. The controls, a head of the same
# layer switched off instead, leave the drop as it was. Mean ablation gives the same picture as
# zero ablation, so what the heads carry is their dependence on the tokens, not a constant offset.
#
# ## Do the induction heads read the previous-token head?
#
# That the previous-token head matters does not yet say *how*: it could feed the induction heads'
# queries, keys or values, or something else downstream. The induction rule needs it in the
# **keys**: the key at position `k` must say which token came *before* `k`, so that a query holding
# that token finds `k`. Test exactly that path (*K-composition*, path patching): recompute the
# induction layer's keys from the residual stream *minus* the previous-token head's output, and
# leave the queries, the values and every other layer as they were. As controls, remove each other
# head of the previous-token head's layer from the keys instead. `without_key_path` in
# `gptviz/interventions/composition.py` does it, on the same 16 sequences.

# %%
from gptviz.interventions.composition import without_key_path

def induction_with(source=None):  # [n_head]: the induction layer's scores, mean of the sequences
    run = lambda s, p: (p if source is None else  # noqa: E731  (p: the sequence's unedited run, which the edit reuses)
                        without_key_path(model, s, source, ind_layer, names="blocks.*.attn.pattern", clean=p))
    return torch.stack([induction_scores(run(s, p), n)[ind_layer] for s, p in zip(seqs, unedited)]).mean(0)

heads_in = [h for _, h in inductors]
keys = {"nothing removed": induction_with()}
keys.update({f"L{prev_layer}H{h} removed from the keys": induction_with((prev_layer, h)) for h in range(c.n_head)})
for label, score in keys.items():
    print(f"{label:34} induction scores of heads {heads_in}: {[round(x, 2) for x in score[heads_in].tolist()]}")
removed = keys.pop(f"L{prev_layer}H{prev_head} removed from the keys")[heads_in]
kept = torch.stack([v[heads_in] for k, v in keys.items() if k != "nothing removed"])
claim(removed.max() < 0.4 and kept.min() > 0.75,
      "without the previous-token head in their keys, the induction heads lose most of their score; without any other head of its layer, they keep it")

# %% [markdown]
# Without the previous-token head's output in their keys alone, the three induction heads lose
# most of their score; removing any other head of that layer from the keys instead leaves them
# near their usual score. The induction heads read the previous-token head, and through their keys.

# %% [markdown]
# ## The same heads, read from their weights
#
# Everything so far ran the model on text. A head's weights can be read directly, too
# (Elhage et al., 2021). Its **OV circuit** `W_V W_O` says what the head writes, given the token it
# attends to: multiply a token's embedding by it and then by the unembedding, and a *copying* head
# gives that same token the highest logit. Its **QK circuit** `W_Q W_K^T` says which keys a query
# prefers. For an induction head the key to prefer is one whose *previous* token matches the query;
# that token reaches the key through the previous-token head's OV circuit, so the QK circuit to read
# is the composed one, query embedding times `W_Q W_K^T` times the previous-token head's OV output.
# Both scores below count, over the 3,773 tokens the model learned, how often the right token wins
# (chance is 1 in 3,773). They leave out the biases and treat each LayerNorm as its scale alone.

# %%
from gptviz.interventions.composition import induction_qk_scores, ov_copying_scores

pool = learned_tokens(model)[torch.randperm(len(learned_tokens(model)), generator=torch.Generator().manual_seed(0))
                             [:plan.circuit_tokens].sort().values]  # all of them on the bundled model
ov = ov_copying_scores(model, tokens=pool)  # [n_layer, n_head]
head_score_grid(ov, title="OV circuit: share of learned tokens a head copies (from its weights)",
                label="share mapped to themselves")

# %%
qk = {h: induction_qk_scores(model, (prev_layer, h), ind_layer, tokens=pool) for h in range(c.n_head)}  # source head -> [n_head]
print(f"{'head':8} {'induction (attention)':>22} {'OV copying (weights)':>21} {'QK via the prev.-token head':>28}")
for _, h in inductors:
    print(f"L{ind_layer}H{h}:   {induction[ind_layer, h]:22.2f} {ov[ind_layer, h]:21.3f} {qk[prev_head][h]:28.3f}")
chance = 1 / len(pool)
others_ov = torch.cat([ov.flatten()[: ind_layer * c.n_head + ind_head], ov.flatten()[ind_layer * c.n_head + ind_head + 1:]])
claim(ov[ind_layer, ind_head] > 0.1 and others_ov.max() < 0.02,
      "the strongest induction head copies by its weights; no other head does by this measure")
claim(all(qk[prev_head][h] > 30 * chance and qk[prev_head][h] > max(qk[o][h] for o in range(c.n_head) if o != prev_head)
          for _, h in inductors), "the composed QK circuit finds the right key far above chance, and more through the previous-token head than through any other")
claim(0.15 < ov[ind_layer, ind_head] < 0.3 and all(0.03 < qk[prev_head][h] < 0.1 for _, h in inductors),
      "about a fifth of the learned tokens; about one token in twenty")

# %% [markdown]
# The weights agree with the experiments, more faintly. The strongest induction head copies by its
# OV circuit: it maps about a fifth of the learned tokens back to themselves, where chance is 1 in
# 3,773. The other two induction heads do not copy by this direct measure; what they write reaches
# the output some other way, which this score cannot show. The composed QK circuit picks the right
# key for about one token in twenty: far above chance, and more through the previous-token head than
# through any other head of its layer, but dim beside the attention scores of about 0.9. The weights
# alone, read with these simplifications (no positions, no biases, LayerNorms as scales), show the
# circuit only in outline; running the model shows it whole.

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

val = generate_stories(plan.recall_stories, VAL_SEED)
copying, places = name_head_scores(model, val[:40])
head_score_grid(copying, title=f"Attention on the earlier name ({places} places in {len(val[:40])} stories)",
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
# the sink: one head copies names and repeated tokens alike, and rests on the first token when
# there is nothing to copy. But it does not find a name by the induction rule. On repeated tokens it
# looks just *after* the earlier occurrence of the current token. Before a name, it looks *at* the
# earlier mention of the name, and the token before that mention (`named`, `and`, ...) is usually
# not the current token, so the induction rule would not find it there (chapter 3 saw the same
# head look at an earlier name from a comma). Counted over 100 of the validation stories:

# %%
from gptviz.tokenizer import EOT_ID

matched, weight_unmatched = 0, []
for story in val[:100]:
    s_ids = [EOT_ID] + tok.encode(story.text)  # as in training: <|endoftext|> first
    pattern = model.trace(s_ids, names=[f"blocks.{ind_layer}.attn.pattern"])[f"blocks.{ind_layer}.attn.pattern"][ind_head]
    for t in name_positions(s_ids, story.name_ids(tok)):
        earlier = [k for k in range(1, t + 1) if s_ids[k] == s_ids[t + 1]]  # the earlier mentions of the coming name
        if any(s_ids[k - 1] == s_ids[t] for k in earlier):
            matched += 1  # the induction rule would find it: the token before a mention is the current one
        else:
            weight_unmatched.append(pattern[t, earlier].sum().item())
total = matched + len(weight_unmatched)
print(f"{total} places before a name: the induction rule could find the name at {matched}, not at {len(weight_unmatched)}")
print(f"where it could not, the head still puts {sum(weight_unmatched) / len(weight_unmatched):.2f} of its weight on the earlier mentions")
claim(len(weight_unmatched) > total / 2 and sum(weight_unmatched) / len(weight_unmatched) > 0.8,
      "at most places before a name the induction rule would not find it, and the head finds it anyway")

# %% [markdown]
# At more than half of the places before a name, the induction rule would find nothing, and the
# head still puts most of its weight on the earlier mentions. One head, two ways of choosing where
# to look: after the earlier copy of the current token, and at the earlier name.

# %% [markdown]
# ## Which name? The second child introduced
#
# The stories of the plot *sharing* introduce two children and then say "... gave Walter and Jane
# a ball": the child introduced first, then the one introduced second. So after "gave Walter and",
# the right next word is the *second-introduced* child. What does the model do when the name after
# "gave" is that second child instead, "gave Jane and"? Every validation story of that plot with the
# phrase (121 of the first 3,000), cut just before the second name, both ways, `<|endoftext|>` first:

# %%
import re

def gave_cases(stories):  # (text up to " gave", first child, second child), for each story with "gave A and B"
    for story in (s for s in stories if s.plot == "sharing"):
        first, second = story.characters[0].name, story.characters[1].name
        found = re.search(rf" gave {first} and {second}\b", story.text)
        if found:
            yield "<|endoftext|>" + story.text[:found.start()], first, second

cases = list(gave_cases(generate_stories(plan.gave_stories, VAL_SEED)))
def names_second(cases, edits=None):  # after "gave <first> and", "gave <second> and": share naming the second
    hits = [0, 0]
    for text, first, second in cases:
        for k, who in enumerate((first, second)):
            logits = model.trace(f"{text} gave {who} and", names=["logits"], allow_special=True, edits=edits)["logits"]
            hits[k] += int(logits[-1].argmax()) == tok.encode(" " + second)[0]
    return [h / len(cases) for h in hits]
after_first, after_second = names_second(cases)
print(f"{len(cases)} stories; the top next token is the second-introduced child after \"gave <first> and\" "
      f"in {after_first:.0%}, after \"gave <second> and\" in {after_second:.0%}")
claim(len(cases) >= 100 and after_first > 0.95 and after_second > 0.95,
      "the model names the second-introduced child, whichever child was just named")

# %% [markdown]
# In every one of them the model writes the second-introduced child, also right after that child's
# own name ("gave Jane and Jane"): it does not pick "the other child", it copies the child who was
# introduced second. (The stories never say "gave Jane and Walter", so the model never learned to
# answer it.) Which head copies it? Switch off the copy head, and, as a control, a head drawn at
# random from the others of its layer:

# %%
control_head = random_other(*copy_heads[0][:1], [copy_heads[0]])
for label, heads in [(f"copy head L{copy_heads[0][0]}H{copy_heads[0][1]} off", [copy_heads[0]]),
                     (f"control L{control_head[0]}H{control_head[1]} off", [control_head])]:
    hit = names_second(cases, ablation_edits(model, heads=heads))
    print(f"{label:24} second-introduced child named: {hit[0]:.0%} after the first, {hit[1]:.0%} after the second")
    claim((max(hit) < 0.1) if "copy" in label else (min(hit) > 0.9),
          "with the copy head off the model never names that child; with the control off it always does")

# %% [markdown]
# With the copy head off, the model never names the second child; with the control head off, it
# still always does. The copy head carries the name.
#
# ## Where does the name travel? Activation patching
#
# Two stories that differ only in which child is introduced first:

# %%
clean_text = ("There was once a cheerful boy called Walter. Walter lived next door to a girl named Jane. "
              "Jane was a lot of fun. One day, Dad gave Walter and")
corrupt_text = clean_text.replace("Walter", "@").replace("Jane", "Walter").replace("@", "Jane")
clean, corrupt = ([EOT_ID] + tok.encode(t) for t in (clean_text, corrupt_text))  # ids, <|endoftext|> first
print(corrupt_text)

# %%
from gptviz.viz import distribution_change

clean_run, corrupt_run = model.trace(clean), model.trace(corrupt)
p_clean = torch.softmax(clean_run["logits"][-1], -1)
p_corrupt = torch.softmax(corrupt_run["logits"][-1], -1)
distribution_change(p_clean, p_corrupt, tok, k=5, names=("clean", "names swapped"))

# %%
jane, walter = tok.encode(" Jane")[0], tok.encode(" Walter")[0]
print(f"clean: p(Jane) {p_clean[jane]:.3f};  names swapped: p(Walter) {p_corrupt[walter]:.3f}")
claim(p_clean[jane] > 0.9 and p_corrupt[walter] > 0.9, "the model names the second-introduced child in both stories")

# %% [markdown]
# In each story the model names the child introduced second: `␣Jane` in the first, `␣Walter` in the
# swapped one. Now run the swapped story, but paste in the clean run's residual stream at one layer
# and one position, and see how far the answer moves back to `␣Jane`. The score is the *normalised logit difference*: with
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
    two = lambda x: round(float(x), 2) + 0.0  # noqa: E731  (+ 0.0: a tiny negative prints as 0.00, not -0.00)
    print(f"after block {layer}: at the Janes {two(scores[layer, at_jane].sum()):.2f}, at the last token {two(scores[layer, last]):.2f}")
elsewhere = [t for t in range(last + 1) if t not in at_jane]
claim(all(scores[layer, at_jane].sum() > 0.6 and scores[layer, elsewhere].abs().sum() < 0.05 for layer in (0, 1)),
      "after blocks 0 and 1, most of the answer comes back only at the positions of the name Jane")
claim(scores[2, last] > 0.95 and scores[2, :last].abs().max() < 0.05, "from block 2 on, it lives only at the last token")
just_named = last - 1  # "... gave Walter and": the name mentioned last
nothing = bool(scores[:, just_named].abs().max() < 0.05)
print(f"at the name mentioned last ({clean_run.tokens[just_named]!r}, position {just_named}): below 0.05 in every layer: {nothing}")
claim(nothing, "patching the name just mentioned brings nothing back, in any layer")

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
# the answer back only at the tokens `␣Jane`, where the second child was introduced and named
# again; nowhere else: not at the `␣Walter`s, which the swap changed too, and not at the name just
# mentioned after "gave", which the answer does not depend on at all. (Each cell pastes one
# position, and the first `␣Jane` matters most.) From block 2 on, all of it is at the last token.
# Block 2 *moved* the second child's name from where it was written to where it is needed.
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
# One head carries it: the copy head, which is also the induction head. Patching finds, in one
# story, the head that switching it off found in 121.
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

AblationExplorer(model, clean_text)
