"""Case and entity pages with link analysis (neighbours, path between two entities) in an
interactive graph; need-to-know on case-file records, reasons for sensitive views."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
