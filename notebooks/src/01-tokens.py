# %% [markdown]
# # 1 · Tokens: from text to numbers
#
# A GPT never sees letters. Before anything else, the text is cut into *tokens*, pieces from a
# fixed vocabulary, and each token is replaced by its number in that vocabulary (its *id*). GPT-2
# and GPT-3 share one vocabulary of 50,257 tokens (Radford et al. 2019, *Language Models are
# Unsupervised Multitask Learners*, section 2.2; Brown et al. 2020, *Language Models are Few-Shot
# Learners*, section 2.1: "the same model and architecture as GPT-2 ... and reversible tokenization").
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
# Each box is one token (a space is drawn as ␣), with its id below. Here the common words (␣found,
# ␣a, ␣shiny, ␣in, ␣the, ␣park) are one token each, *with* the space in front of them; ␣kite comes
# in two pieces, ␣Unbelievable in four, and Lily, with no space before it, in two.

# %%
from gptviz.viz import token_strip

text = "Lily found a shiny kite in the park. Unbelievable!"
token_strip(text)

# %%
from gptviz.notebook import claim

ids = tok.encode(text)
print(ids)
print(tok.tokens(ids))
print("decoded back:", tok.decode(ids))
per_word = {piece: len(tok.encode(piece)) for piece in tok.pieces(text)}  # the text's words, as it cuts them
print("tokens per word:", per_word)
claim(all(per_word[w] == 1 for w in [" found", " a", " shiny", " in", " the", " park"])
      and (per_word[" kite"], per_word[" Unbelievable"], per_word["Lily"]) == (2, 4, 2),
      "the common words are one token each; kite in two pieces, Unbelievable in four, Lily in two")

# %% [markdown]
# ## 50,257 vocabulary entries
#
# The vocabulary has three parts: the 256 possible bytes (so *any* text can be written, byte by
# byte), 50,000 tokens made by merging pairs (the *merges*, learned from WebText, 8 million web
# pages: Radford et al. 2019, sections 2.1 and 2.2), and one special token, `<|endoftext|>`. The
# comment this series follows says it: "50257 possible token values". The longest word token,
# `rawdownloadcloneembedreportprint`, is a row of a web page's buttons run together.

# %%
V = model.config.vocab_size
single_bytes = sum(len(tok.token_bytes(i)) == 1 for i in range(V - 1))
print("vocabulary entries:", V)
print("single bytes:", single_bytes, " merged tokens:", V - 1 - single_bytes, " special:", 1)
words = [i for i in range(V - 1) if tok.token_str(i).lstrip("␣").isascii()
         and tok.token_str(i).lstrip("␣").isalpha()]  # tokens made of letters a-z, A-Z only
longest = sorted(words, key=lambda i: -len(tok.token_bytes(i)))[:3]
print("the longest word tokens:", [(i, tok.token_str(i)) for i in longest])
claim(single_bytes == 256 and V - 1 - single_bytes == 50_000, "256 single bytes, 50,000 merged tokens, one special")
claim(tok.token_str(longest[0]) == "rawdownloadcloneembedreportprint", "the longest word token, rawdownloadcloneembedreportprint")

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
# strings, pieces such as `luence` among them (there is no `␣luence`: no word starts with it).

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
claim(spellings["luence"] == ["luence"], "pieces such as luence (no word starts with it: there is no ␣luence)")

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
steps = tok.bpe_steps(" Unbelievable")
for step in steps:
    joined = "" if step.pair is None else f"  joined {step.pair[0]!r} + {step.pair[1]!r} (rank {step.rank})"
    print([p.decode() for p in step.parts], joined)
claim([p.decode() for p in steps[-1].parts] == tok.token_texts(tok.encode(" Unbelievable")),
      "until no pair can merge: what is left are the tokens")

# %% [markdown]
# ## Spaces and bytes
#
# The space belongs to the token after it, so `" Lily"` and `"Lily"` are different tokens with
# different ids (`"Lily"` alone is even two), and each change of capitals makes yet another. Text that is not in the merges, such as
# an emoji, falls back to its bytes: the llama below is 4 bytes of UTF-8, spread over tokens that
# are not characters on their own (shown as `\xNN`).

# %%
for word in ["Lily", " Lily", " lily", " LILY"]:
    print(f"{word!r:8} -> {tok.encode(word)}")
print(tok.tokens(tok.encode("I saw a 🦙")))
print("bytes of the llama:", list("🦙".encode()))
claim(len({tuple(tok.encode(w)) for w in ["Lily", " Lily", " lily", " LILY"]}) == 4 and len(tok.encode("Lily")) == 2,
      '" Lily" and "Lily" are different tokens; each change of capitals makes another')
llama = tok.encode("I saw a 🦙")[3:]
whole = []
for i in llama:
    try:
        tok.token_bytes(i).decode("utf-8")
        whole.append(i)
    except UnicodeDecodeError:
        pass
claim(len("🦙".encode()) == 4 and b"".join(map(tok.token_bytes, llama)).endswith("🦙".encode()) and not whole,
      "the llama is 4 bytes of UTF-8, spread over tokens that are not characters on their own")

# %%
token_strip("I saw a 🦙 at the zoo")

# %% [markdown]
# ## `<|endoftext|>`
#
# Id 50256 marks the end of a document. In the bundled model's training stream, every document is
# followed by it; at generation time it is the *start token* for a text with no prompt (chapter 7).
# Typed in plain text, gptviz refuses it unless you say you mean the special token.

# %%
print(tok.encode("The end.<|endoftext|>Once upon a time", allow_special=True))
print(repr(tok.token_str(50256)), tok.eot_id)
try:
    tok.encode("The end.<|endoftext|>")
    refused = False
except ValueError as err:
    print("refused:", err)
    refused = True
from gptviz.corpus import generate_stories, training_stream

stream = training_stream(generate_stories(16, seed=0), tok)  # the first 16 training stories, as the trainer lays them out
documents = tok.decode(stream).split("<|endoftext|>")
print(f"{stream.count(tok.eot_id)} <|endoftext|> in the stream of 16 stories (and 2 random spans); it ends with one:",
      stream[-1] == tok.eot_id)
unconditional = model.generate(None, max_new_tokens=1, seed=0)
print("a text with no prompt starts from:", unconditional.prompt_ids)
claim(tok.eot_id == 50256 and stream.count(50256) == 18 and stream[-1] == 50256 and "" not in documents[:-1],
      "in the training stream, every document is followed by it")
claim(unconditional.prompt_ids == [50256] and refused, "the start token for a text with no prompt; typed, refused")

# %% [markdown]
# **gptviz's policy: exactly the tokens you give.** gptviz never adds `<|endoftext|>` by itself: a
# trace shows what you typed, position by position. Pass `bos=True` (to `model.trace`, `model.run`,
# `generate`) to put it first, as the model met every story in training; it then takes a place in
# the context like any other token, and a text cut to fit keeps its last tokens after it. The model
# card (`assets/models/gptviz-stories/README.md`) reads each validation story that way; chapter 10
# measures what the model does without it.

# %%
print(model.trace("Once upon a time", bos=True).tokens)  # the same as model.trace([50256] + ids)
print(model.trace("Once upon a time").tokens)  # without bos: exactly the tokens given
claim(model.trace("Once upon a time").ids == tok.encode("Once upon a time"), "gptviz never adds <|endoftext|> by itself")

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
