"""The intelligence picture: what investigations know, joined with what monitoring sees.

It will own case files, people by category, their identifiers and assets, cross-referencing
and link analysis (issue 6). So far: resolving people across records and sources
(``resolve``), with Splink.
"""
