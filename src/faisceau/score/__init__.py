"""Scoring: explainable risk of trafficking and suspicion of a minor, and the review queue.

It owns the cues read in each ad (``cues``, lexicons in ``lexicons/``), the indicators at ad
and network level with their evidence (``indicators``, weights and rationale in
``indicators.toml``), the network risk and its reasons in French (``combine``), the scoring
pass run after linking (``run``) and analysts' decisions on the ranked networks
(``review``). A score never decides: it orders work for a human and says why.
"""
