"""Exports in the data contracts of ``shared/spec``: what other tools and evaluations read."""
