"""Evaluation: how well faisceau's exports recover a synthetic world's ground truth.

``metrics`` holds the pure functions (B-cubed, ROC AUC, top-k precision, shares and their
ratio), computed from counts so that a national-scale evaluation keeps a few counters in
memory rather than one row per ad. ``report`` reads the ground truth and the exports of the
data contracts (``shared/spec``), joins them on ``(source, ad_id)``, computes an
``EvaluationReport`` and renders it for users (in French) or as a dictionary for ``--json``.
"""
