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

from ..lazy import lazy_attributes

#: Each view's module. A view is imported when first used (``gptviz.viz.head_heatmap``,
#: ``from gptviz.viz import head_heatmap``), so ``import gptviz.viz`` loads neither matplotlib nor plotly.
_VIEWS = {
    "attention": ["attention_heatmap", "attention_heatmap_interactive", "attention_overview", "head_grid",
                  "head_heatmap"],
    "circuits": ["attribution_bars", "distribution_change", "head_score_grid", "head_score_grid_interactive",
                 "loss_by_position", "patch_heatmap", "patch_heatmap_interactive"],
    "diagram": ["block_diagram"],
    "lens": ["lens_table", "logit_lens_view"],
    "lines": ["attention_lines", "attention_lines_interactive", "head_lines"],
    "mlp": ["mlp_activations", "top_neurons"],
    "qk": ["qk_view"],
    "residual": ["residual_norms"],
    "sampling": ["distribution_bars"],
    "scale": ["param_breakdown", "param_scale"],
    "tokens": ["bpe_merges", "token_strip"],
    "vectors": ["embedding_map", "embedding_sum", "vector_strip", "vectors_2d"],
}
_MODULE_OF = {view: module for module, views in _VIEWS.items() for view in views}

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


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _MODULE_OF, __all__)
