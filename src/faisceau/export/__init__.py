"""Exports in the data contracts of ``shared/spec``: what other tools and evaluations read;
and the one safe way every output is written (``safecsv``: CSV a spreadsheet cannot run)."""
