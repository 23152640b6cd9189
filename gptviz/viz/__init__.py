"""Pictures of what GPT-2 computes, drawn from a trace's real numbers.

Each view takes the data first and the token labels second (``attention_heatmap(pattern, tokens)``),
or a whole trace (``head_heatmap(trace, layer, head)``), and returns a figure: a
``matplotlib.figure.Figure`` for static views, a ``plotly.graph_objects.Figure`` for interactive
ones (names ending in ``_interactive``). Any of them saves with :func:`gptviz.export.export`.

========================  ====================================================================
module                    views
========================  ====================================================================
``tokens``                :func:`token_strip`, :func:`bpe_merges`
``vectors``               :func:`vector_strip`, :func:`embedding_sum`, :func:`vectors_2d`,
                          :func:`embedding_map`
``attention``             :func:`attention_heatmap`, :func:`head_heatmap`, :func:`head_grid`,
                          :func:`attention_overview`, :func:`attention_heatmap_interactive`
``lines``                 :func:`attention_lines`, :func:`head_lines`,
                          :func:`attention_lines_interactive`
``qk``                    :func:`qk_view` (q.k, scaling, softmax, weighted values)
``mlp``                   :func:`mlp_activations`, :func:`top_neurons`
``residual``              :func:`residual_norms`
``diagram``               :func:`block_diagram` (one block, the recorded shapes on its arrows)
``lens``                  :func:`lens_table`, :func:`logit_lens_view`
``sampling``              :func:`distribution_bars`
``scale``                 :func:`param_breakdown`, :func:`param_scale`
``circuits``              :func:`head_score_grid`, :func:`patch_heatmap`, :func:`attribution_bars`,
                          :func:`distribution_change`, :func:`head_score_grid_interactive`,
                          :func:`patch_heatmap_interactive`, :func:`loss_by_position`
``heads_page``            :func:`~gptviz.viz.heads_page.heads_page`: every head on one standalone
                          HTML page (a string; ``export_heads(trace, "heads.html")`` writes it)
========================  ====================================================================
"""

from .attention import (attention_heatmap, attention_heatmap_interactive, attention_overview, head_grid,
                        head_heatmap)
from .circuits import (attribution_bars, distribution_change, head_score_grid, head_score_grid_interactive,
                       loss_by_position, patch_heatmap, patch_heatmap_interactive)
from .diagram import block_diagram
from .lens import lens_table, logit_lens_view
from .lines import attention_lines, attention_lines_interactive, head_lines
from .mlp import mlp_activations, top_neurons
from .qk import qk_view
from .residual import residual_norms
from .sampling import distribution_bars
from .scale import param_breakdown, param_scale
from .tokens import bpe_merges, token_strip
from .vectors import embedding_map, embedding_sum, vector_strip, vectors_2d

__all__ = [
    "attention_heatmap", "attention_heatmap_interactive", "attention_lines", "attention_lines_interactive",
    "attention_overview", "attribution_bars", "block_diagram", "bpe_merges", "distribution_bars",
    "distribution_change",
    "embedding_map", "embedding_sum", "head_grid", "head_heatmap", "head_lines", "head_score_grid",
    "head_score_grid_interactive", "lens_table", "logit_lens_view", "loss_by_position", "mlp_activations",
    "param_breakdown", "param_scale",
    "patch_heatmap", "patch_heatmap_interactive", "qk_view", "residual_norms", "token_strip", "top_neurons",
    "vector_strip", "vectors_2d",
]
