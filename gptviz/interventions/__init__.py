"""Interventions: ask the model "what if?", on its one forward pass.

* :mod:`.ablation`: switch heads or MLPs off (:func:`ablate`);
* :mod:`.patching`: paste activations from a clean run into a corrupt one (:func:`patch`), for every
  layer and position or every head (:func:`patch_sweep`);
* :mod:`.attribution`: each head's and MLP's direct contribution to one logit (:func:`logit_attribution`);
* :mod:`.detectors`: which heads look at the previous token, the first token, themselves, or do
  induction;
* :mod:`.composition`: one head's output removed from a later layer's keys only (K-composition,
  :func:`~.composition.without_key_path`), and the OV and QK circuits read from the weights.

Each is an edit of the forward pass (``model.trace(text, edits=...)``), never a copy of it.
"""

from .ablation import ablate, ablation_edits
from .attribution import Attribution, logit_attribution
from .detectors import (InductionReport, current_token_scores, first_token_scores, induction_scores,
                        learned_tokens, measure_induction, position_losses, previous_token_scores,
                        repeated_tokens)
from .patching import patch, patch_sweep

__all__ = [
    "Attribution", "InductionReport", "ablate", "ablation_edits", "current_token_scores", "first_token_scores",
    "induction_scores", "learned_tokens", "logit_attribution", "measure_induction", "patch", "patch_sweep",
    "position_losses", "previous_token_scores", "repeated_tokens",
]
