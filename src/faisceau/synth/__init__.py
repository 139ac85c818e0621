"""Synthetic data: deterministic, invented ads (and their ground truth) for the demo, the
tests and the benchmarks. No real person, phone or ad ever enters the project."""
