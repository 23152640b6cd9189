"""Interventions: ask the model "what if?" on its one forward pass.

* :mod:`.detectors`: which heads look at the previous token, the first token, themselves, or do
  induction.
"""

from .detectors import (InductionReport, current_token_scores, first_token_scores, induction_scores,
                        learned_tokens, measure_induction, position_losses, previous_token_scores,
                        repeated_tokens)

__all__ = [
    "InductionReport", "current_token_scores", "first_token_scores", "induction_scores", "learned_tokens",
    "measure_induction", "position_losses", "previous_token_scores", "repeated_tokens",
]
