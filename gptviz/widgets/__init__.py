"""Explorers a class drives with sliders, buttons and text boxes, one call each.

    from gptviz.widgets import SamplingExplorer
    SamplingExplorer(model, "Once upon a time")      # displays itself in a notebook

=========================  ===========================================================================
explorer                   what a student does with it
=========================  ===========================================================================
``TokenizerExplorer``      types a text and watches its tokens, ids and count; steps through a word's
                           byte-pair merges
``EmbeddingExplorer``      picks tokens: token embedding, position embedding, their sum, nearest tokens
``AttentionExplorer``      switches layer, head and query token: heatmap, lines, q.k breakdown, export
``FeedForwardExplorer``    picks a layer and a token: its MLP neurons, the strongest, GELU vs ReLU
``LogitLensExplorer``      picks a position and a layer: the prediction read from the residual stream
``SamplingExplorer``       moves temperature, top-k, top-p and seed: the distribution after each stage,
                           one draw, a histogram of 100 draws
``GenerationStepper``      steps, steps back, resets, runs: the growing text, each step's distribution,
                           the KV cache growing by one row
``AblationExplorer``       switches heads and MLPs off: the loss on the text and the next-token
                           distribution before and after, the time of the one forward pass it ran
=========================  ===========================================================================

Each explorer is an ``ipywidgets.VBox`` built only from core ipywidgets (sliders, dropdowns, buttons,
``HTML``): no JavaScript of its own and nothing fetched, so it works offline in JupyterLab, Notebook
7, VS Code and Voila. The model (default :func:`gptviz.load`) runs once per text, when the reader
leaves the text box; every other control redraws from the kept trace (the stepper's step and the
ablation toggles are the exceptions: each runs one forward pass). ``explorer.n_forward`` counts the
forward passes. Every text goes through the gate of :mod:`gptviz.inputs`: one the model cannot take
(empty, longer than its context, over 100,000 characters, the literal ``<|endoftext|>``) shows a
message that names the control to change, and leaves the explorer as it was. The literal
``<|endoftext|>`` is read as the end-of-text token once the checkbox "read <|endoftext|> as a token",
shown when a text holds it, is ticked. A cell's output also holds a static HTML picture of the
explorer as it was drawn (:func:`gptviz.widgets.base.static_view`), which GitHub, nbviewer and
``jupyter nbconvert`` show where no kernel runs.

CSS classes, for browser tests and custom styling (on the widget's outer element):

======================================  ======================================================================
class                                   element
======================================  ======================================================================
``gptviz-explorer``                     every explorer's outer box
``gptviz-text`` / ``gptviz-prompt``     the text box (the stepper's prompt box)
``gptviz-message``                      the message line: bad input, notes (empty when all is well)
``gptviz-allow-special``                the checkbox "read <|endoftext|> as a token" (hidden until needed)
``gptviz-layer``, ``gptviz-head``       layer and head sliders (attention, MLP, logit lens: "blocks run")
``gptviz-query``, ``gptviz-position``   position dropdowns (attention query; MLP and lens token)
``gptviz-title``                        attention: "Layer L, head H" and the query token
``gptviz-heatmap``                      attention heatmap: an ``<img>`` with one pixel per coefficient
``gptviz-lines``, ``gptviz-qk``         attention as lines (SVG); the q.k table of the selected query
``gptviz-export``                       export button; ``gptviz-export-format`` its format menu;
                                        ``gptviz-export-path`` the label naming the file written
``gptviz-temperature``, ``gptviz-topk``,
``gptviz-topp``, ``gptviz-seed``        sampling sliders (sampling explorer and stepper); top-k 0 and
                                        top-p 1 mean off, temperature 0 greedy (``gptviz-settings-note``
                                        says so under them)
``gptviz-top-prob``                     top token and its final probability
``gptviz-n-kept``                       number of tokens with non-zero final probability
``gptviz-mass-cut``, ``gptviz-entropy`` probability mass cut by top-k/top-p; entropy in nats
``gptviz-sample``, ``gptviz-sample-100`` buttons; ``gptviz-sample-result`` the drawn token,
                                        ``gptviz-histogram`` the 100 draws
``gptviz-candidates``                   table of the top candidates after each stage
``gptviz-vocabulary``                   SVG: the whole vocabulary's distribution after each stage
``gptviz-step``, ``gptviz-back``,
``gptviz-reset``, ``gptviz-run``        stepper buttons
``gptviz-generated``                    the growing text; ``gptviz-status`` counts and stop reason
``gptviz-step-distribution``            the last step's candidates, the chosen token in bold
``gptviz-steps``                        the table of steps so far
``gptviz-kv-cache``                     the KV cache: one ``.gptviz-kv-row`` per cached position,
                                        ``.gptviz-kv-new`` for rows the last forward pass computed,
                                        ``.gptviz-kv-reused`` for the others
``gptviz-tokens``, ``gptviz-ids``       tokenizer: token boxes, ids; ``gptviz-n-tokens`` the count
``gptviz-piece``, ``gptviz-merge-step`` tokenizer: piece dropdown, merge slider; ``gptviz-merges``
``gptviz-pick``                         embedding: token selector; ``gptviz-vectors``, ``gptviz-nearest``
``gptviz-neurons``                      MLP: neuron grids; ``gptviz-top-neurons``, ``gptviz-gelu-relu``
``gptviz-lens-grid``, ``gptviz-lens-top`` logit lens grid and top-10 table
``gptviz-ablation-toggles``             ablation: the layer x head grid of toggles, ``gptviz-ablate-head``
                                        and ``gptviz-ablate-mlp`` each toggle (pressed: switched off)
``gptviz-ablation-how``,
``gptviz-ablation-all-on``              ablation: zero or mean menu; the button that releases every toggle
``gptviz-ablation-loss``                loss before and after (two ``gptviz-number`` spans, in that order)
``gptviz-ablation-next``,
``gptviz-ablation-time``                the next-token table before/after; the last forward pass and its time
======================================  ======================================================================

Numbers that tests read sit in a ``<span class="gptviz-number">`` inside the element: e.g.
``.gptviz-top-prob .gptviz-number`` holds the probability as a decimal (``0.4213``, or ``2.1e-05``
when tiny), ``.gptviz-n-kept .gptviz-number`` the count with thousands separators (``50,257``),
``.gptviz-n-tokens .gptviz-number`` the token count.
"""

from .ablation import AblationExplorer
from .attention import AttentionExplorer
from .base import Explorer
from .layers import FeedForwardExplorer, LogitLensExplorer
from .sampling import GenerationStepper, SamplingExplorer
from .tokens import EmbeddingExplorer, TokenizerExplorer

__all__ = [
    "AblationExplorer", "AttentionExplorer", "EmbeddingExplorer", "Explorer", "FeedForwardExplorer", "GenerationStepper",
    "LogitLensExplorer", "SamplingExplorer", "TokenizerExplorer",
]
