"""Linking ads into networks: which ads are run by the same people.

``faisceau detect`` reads what ingestion stored and keeps every ad in exactly one network,
with the evidence of each link and its provenance. The stages, each a module:

- ``settings``: the thresholds, read from ``settings.toml`` (data, not code);
- ``text``: slot-masked text, shingles and MinHash signatures (vectorised);
- ``features``: per ad version, what comparisons need, computed once and stored;
- ``graph``: the linking itself, a pure function of arrays (strong identifiers, then weak
  evidence that must be corroborated, then bridges cut);
- ``identity``: stable network identifiers, merges and splits with their cause;
- ``detect``: the run against the store, incremental.
"""
