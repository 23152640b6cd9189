# %% [markdown]
# # 1 · Tokens: from text to numbers
#
# A GPT never sees letters. Before anything else, the text is cut into *tokens*, pieces from a
# fixed vocabulary, and each token is replaced by its number in that vocabulary (its *id*). GPT-2
# and GPT-3 share one vocabulary of 50,257 tokens.
#
# **Runs offline** on the bundled model; online, `setup("gpt2")` (the same as `gptviz.load("gpt2")`)
# loads the real GPT-2. The tokenizer is the same for both.

# %%
from gptviz.notebook import setup

model = setup()  # online: setup("gpt2") for the real GPT-2
tok = model.tokenizer

# %% [markdown]
# ## Text → tokens → ids
#
# Each box is one token (a space is drawn as ␣), with its id below. Common words are one token,
# *with* the space in front of them; rarer words are split into pieces.

# %%
from gptviz.viz import token_strip

text = "Lily found a shiny kite in the park. Unbelievable!"
token_strip(text)

# %%
ids = tok.encode(text)
print(ids)
print(tok.tokens(ids))
print("decoded back:", tok.decode(ids))

# %% [markdown]
# ## 50,257 vocabulary entries
#
# The vocabulary has three parts: the 256 possible bytes (so *any* text can be written, byte by
# byte), 50,000 tokens made by merging pairs (the *merges*, learned from a large web text), and
# one special token, `<|endoftext|>`. The comment this series follows says it: "50257 possible
# token values". (The longest tokens show what the merges were learned from: web pages.)

# %%
V = model.config.vocab_size
single_bytes = sum(len(tok.token_bytes(i)) == 1 for i in range(V - 1))
print("vocabulary entries:", V)
print("single bytes:", single_bytes, " merged tokens:", V - 1 - single_bytes, " special:", 1)
words = [i for i in range(V - 1) if tok.token_str(i).lstrip("␣").isascii()
         and tok.token_str(i).lstrip("␣").isalpha()]  # tokens made of letters a-z, A-Z only
longest = sorted(words, key=lambda i: -len(tok.token_bytes(i)))[:3]
print("the longest word tokens:", [(i, tok.token_str(i)) for i in longest])

# %% [markdown]
# ## Tokens, not words
#
# The notes this series follows say the vector is scored against "the model's vocabulary (all the
# words the model knows, 50,000 words in the case of GPT-2)". Two corrections, both computed below.
# The vocabulary has 50,257 entries, and the 50,000 in that sum is the number of *merges*. And
# its entries are tokens, not words: a word comes in several tokens (with and without its space, in
# each capitalisation: "it" is seven), and many tokens are pieces of words, digits, punctuation or
# single bytes. Under two thirds are a space followed by letters, the shape of a word after a space;
# once spaces and capitals are set aside, the letter tokens spell only about 30,600 different
# strings, pieces such as `luence` among them.

# %%
import random
from gptviz.notebook import claim

kinds = {"␣ + letters": [], "letters, no space": [], "anything else": []}
for i in range(V - 1):
    s = tok.token_str(i)
    kind = ("␣ + letters" if s[:1] == "␣" and s[1:].isascii() and s[1:].isalpha() else
            "letters, no space" if s.isascii() and s.isalpha() else "anything else")
    kinds[kind].append(i)
for kind, ids_ in kinds.items():
    print(f"{kind:18} {len(ids_):6,}  e.g. {[tok.token_str(i) for i in random.Random(0).sample(ids_, 6)]}")
spellings = {}
for i in kinds["␣ + letters"] + kinds["letters, no space"]:
    spellings.setdefault(tok.token_str(i).lstrip("␣").lower(), []).append(tok.token_str(i))
print(f"different strings once spaces and capitals are set aside: {len(spellings):,}")
print("'it' as tokens:", spellings["it"], "  'luence':", spellings["luence"])
claim(V == 50257 and V - 1 - single_bytes == 50_000, "50,257 entries; the 50,000 is the number of merges")
claim(len(spellings["it"]) == 7, '"it" is seven tokens')
claim(len(kinds["␣ + letters"]) < 2 / 3 * V, "under two thirds are a space followed by letters")
claim(round(len(spellings), -2) == 30_600, "the letter tokens spell only about 30,600 different strings")

# %% [markdown]
# ## Byte-pair encoding, step by step
#
# How is a word cut? First a regular expression splits the text into *pieces* (a word with its
# leading space, a number, punctuation). Then each piece starts as single bytes, and the pair whose
# merge ranks lowest in the vocabulary is joined, again and again, until no pair can merge. Each row
# below is one merge; the newly joined part is highlighted.

# %%
print(tok.pieces(text))

# %%
from gptviz.viz import bpe_merges

bpe_merges(" Unbelievable")

# %%
for step in tok.bpe_steps(" Unbelievable"):
    joined = "" if step.pair is None else f"  joined {step.pair[0]!r} + {step.pair[1]!r} (rank {step.rank})"
    print([p.decode() for p in step.parts], joined)

# %% [markdown]
# ## Spaces and bytes
#
# The space belongs to the token after it, so `" Lily"` and `"Lily"` are different tokens with
# different ids, and a capital letter makes yet another. Text that is not in the merges, such as
# an emoji, falls back to its bytes: the llama below is 4 bytes of UTF-8, spread over tokens that
# are not characters on their own (shown as `\xNN`).

# %%
for word in ["Lily", " Lily", " lily", " LILY"]:
    print(f"{word!r:8} -> {tok.encode(word)}")
print(tok.tokens(tok.encode("I saw a 🦙")))
print("bytes of the llama:", list("🦙".encode()))

# %%
token_strip("I saw a 🦙 at the zoo")

# %% [markdown]
# ## `<|endoftext|>`
#
# Id 50256 marks the end of a document. In training, documents are joined with it in between;
# at generation time it is the *start token* for a text with no prompt (chapter 7). Typed in plain
# text, gptviz refuses it unless you say you mean the special token.

# %%
print(tok.encode("The end.<|endoftext|>Once upon a time", allow_special=True))
print(repr(tok.token_str(50256)), tok.eot_id)
try:
    tok.encode("The end.<|endoftext|>")
except ValueError as err:
    print("refused:", err)

# %% [markdown]
# **gptviz's policy: exactly the tokens you give.** gptviz never adds `<|endoftext|>` by itself: a
# trace shows what you typed, position by position. Pass `bos=True` (to `model.trace`, `model.run`,
# `generate`) to put it first, as the model met every story in training; it then takes a place in
# the context like any other token, and a text cut to fit keeps its last tokens after it. The model
# card's figures are all read that way; chapter 10 measures what the model does without it.

# %%
print(model.trace("Once upon a time", bos=True).tokens)  # the same as model.trace([50256] + ids)

# %% [markdown]
# ## Check your work
#
# **Predict before you run.** How many tokens is the sentence below? Count them in your head (a
# space goes with the word after it; the full stop is a token of its own), write your guess as
# `predicted_count`, and only then run the cell after it.

# %% [solution] id=ex01_predict_count
sentence = "Tom and Lily played with a red ball."
### BEGIN SOLUTION
predicted_count = 9
### END SOLUTION

# %%
token_strip(sentence)

# %% [test] id=test01_predict_count points=1
from gptviz.exercises import require

require(predicted_count, len(tok.encode(sentence)), what="your predicted count",
        hint="count the boxes in the strip above: each common word with its space is one token.")

# %% [markdown]
# **Decode by hand.** `tok.token_bytes(i)` is the bytes token `i` stands for. Write `my_decode(ids)`,
# which turns a list of ids back into text, using only `tok.token_bytes` and `bytes.decode`. The
# llama above is a warning: its 4 bytes are spread over tokens that are not characters on their own.
# The test runs it on texts you have not seen, with `tok.decode` (and the other ways to get a token's
# text) switched off.

# %% [solution] id=ex01_decode
def my_decode(ids):
    ### BEGIN SOLUTION
    return b"".join(tok.token_bytes(i) for i in ids).decode("utf-8")
    ### END SOLUTION

# %% [test] id=test01_decode points=3
import tiktoken
from gptviz.exercises import forbid, require

texts = ["Mia's kite flew over the old mill.", "¿Dónde está el 🐈? 42 km/h", "日本語 and\ttabs\n\nnew lines"]
with forbid(tok.decode, tok.token_texts, tok.tokens, tok.token_str, tiktoken.Encoding.decode,
            tiktoken.Encoding.decode_bytes, tiktoken.Encoding.decode_tokens_bytes):
    for t in texts:
        require(my_decode(tok.encode(t)), t, what=f"my_decode on {t!r}, a text you have not seen,",
                hint="join the bytes of all the tokens first and decode once: one character's bytes can "
                     "be split across two tokens.")

# %% [markdown]
# ## Explore
#
# Type any text and watch its tokens and ids change; the slider steps through one word's merges (the explorer needs a running notebook).

# %%
# NBVAL_IGNORE_OUTPUT
from gptviz.widgets import TokenizerExplorer

TokenizerExplorer(model, text)
