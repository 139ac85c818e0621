"""The intelligence picture: what investigations know, joined with what monitoring sees.

- ``casefiles``: case files in (FtM JSON lines, the units' CSV layout ``csv_layout.yml``) as
  statements with provenance; ``inspect`` and ``facts`` read them back.
- ``resolve`` (Splink, settings in, pairs out) and ``people``: one person across records,
  kept as append-only judgements, merges that can be undone, categories kept apart.
- ``leads``: ads' networks and case entities that share an identifier or a name in place and
  time, for an analyst to confirm or dismiss.
- ``picture``: the combined graph of case files and monitoring as node and edge frames;
  ``analysis``: link analysis over it (igraph, leidenalg); ``exchange``: FtM, GEXF, GraphML
  and i2 formats.
"""
