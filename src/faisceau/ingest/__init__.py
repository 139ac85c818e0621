"""Ingestion: collected ads (JSON Lines, contract ``ad.schema.json``) into the store.

``records`` reads and checks lines, ``pipeline`` turns them into ads, versions and sightings
in bulk, one transaction per chunk, ``quarantine`` manages what was set aside.
"""
