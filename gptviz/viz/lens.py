"""The logit lens as a table: the model's best guess for the next token, read after every layer.

Rows are positions in the text (top to bottom, as it reads), columns the residual stream read
after the embeddings and after each block, left to right as the stream flows; the last column is
what the model actually outputs. Each cell names the top token and its probability; colour is the
probability. Computed by :func:`gptviz.lens.logit_lens`.

Each step of generation uses one output only, the one at the last position read so far. So a rule
marks where the prompt ends, and the outputs at positions before the last prompt token (guesses of
tokens the prompt already holds) are greyed out.
"""

from __future__ import annotations

from matplotlib import colormaps
from matplotlib.patches import Patch, Rectangle

from ..lens import LogitLens, logit_lens, masked_note
from .style import (ACCENT, SEQUENTIAL, check_prompt_len, choose_positions, finish, new_figure, shorten, styled,
                    text_colour, to_numpy)

IGNORED_FILL, IGNORED_TEXT = "#e4e4e4", "#8a8a8a"  # outputs generation never uses
MAX_LABEL = 10  # character cells of a guessed token shown in a cell, "…" included


def _mark_prompt_end(ax, rows: list[int], prompt_len: int, n_cols: int) -> None:
    """A rule between the last shown prompt row and the first shown generated row, labelled on
    both sides; nothing when the shown rows do not straddle the prompt's end."""
    n_before = sum(pos < prompt_len for pos in rows)
    if rows != sorted(rows) or not 0 < n_before < len(rows):
        return
    y = n_before - 0.5
    ax.axhline(y, color=ACCENT, lw=2.5, gid="prompt-end")
    ax.text(n_cols - 0.45, y - 0.08, "prompt ▲", color=ACCENT, fontsize=8, ha="left", va="bottom",
            clip_on=False)
    ax.text(n_cols - 0.45, y + 0.08, "generated ▼", color=ACCENT, fontsize=8, ha="left", va="top",
            clip_on=False)


@styled
def lens_table(lens: LogitLens, positions=None, prompt_len: int | None = None):
    """When does the model settle on its prediction? ``lens`` from :func:`gptviz.lens.logit_lens`;
    ``positions``: the token positions to show as rows (default: the last 16); ``prompt_len``: how
    many of the text's tokens are the prompt (``len(out.prompt_ids)`` for a generation's text;
    default: all of them). Outputs at positions before the last prompt token are greyed: generation
    never uses them."""
    rows, note = choose_positions(positions, len(lens.tokens), 16)
    prompt_len = check_prompt_len(prompt_len, len(lens.tokens))
    probs = to_numpy(lens.probs[:, rows, 0]).T  # [positions, R]
    n_rows, n_cols = probs.shape
    fig = new_figure(0.8 * n_cols + 3.4, 0.4 * n_rows + 2.0)
    ax = fig.add_subplot()
    cmap = colormaps[SEQUENTIAL]
    image = ax.imshow(probs, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
    out = n_cols - 1
    for r, pos in enumerate(rows):
        ignored = pos < prompt_len - 1
        if ignored:
            ax.add_patch(Rectangle((out - 0.5, r - 0.5), 1, 1, facecolor=IGNORED_FILL, edgecolor="white",
                                   lw=1, gid="ignored"))
        for c in range(n_cols):
            colour = IGNORED_TEXT if ignored and c == out else text_colour(cmap(probs[r, c]))
            ax.text(c, r, f"{shorten(lens.labels[c][pos][0], MAX_LABEL)}\n{probs[r, c]:.2f}", ha="center", va="center",
                    fontsize=8, color=colour)
    _mark_prompt_end(ax, rows, prompt_len, n_cols)
    ax.set_yticks(range(n_rows), [f"{pos}  {lens.tokens[pos]}" for pos in rows], fontsize=9)
    ax.set_ylabel("input token (the guess is for the token after it)")
    ax.set_xticks(range(n_cols), [label.replace("after ", "after\n") for label in lens.row_labels[:-1]]
                  + [lens.row_labels[-1].replace("after ", "after\n") + "\n= output"], fontsize=8)
    ax.set_xlabel("residual stream read after (the stream flows left to right)")
    ax.tick_params(top=False, labeltop=False)
    fig.legend(handles=[Patch(facecolor=IGNORED_FILL, edgecolor="#bbbbbb",
                              label="output generation never uses: the prompt already holds the next token")],
               loc="outside lower center", fontsize=8, frameon=False, title=masked_note(lens) or None,
               title_fontsize=8)
    whole = "the whole text is the prompt" if prompt_len == len(lens.tokens) else \
        f"prompt: the first {prompt_len} of {len(lens.tokens)} tokens"
    ax.set_title(f"Logit lens: the top next-token guess after each layer{note}\n({whole})")
    fig.colorbar(image, ax=ax, label="probability of the top token", shrink=0.8, fraction=0.08)
    return finish(fig)


def logit_lens_view(model, trace, positions=None, prompt_len: int | None = None):
    """The logit lens of a trace drawn as its table: :func:`lens_table` of :func:`gptviz.lens.logit_lens`
    (the library computes every number; this view only hands the trace over and draws)."""
    return lens_table(logit_lens(model, trace), positions, prompt_len)
