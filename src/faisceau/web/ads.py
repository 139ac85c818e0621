"""Ad pages and search over ads: an ad with its provenance and versions; French full-text
search with filters (département, dates, phone, handle). Every view and search is logged."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
