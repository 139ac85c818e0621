"""The consultation log for the auditor: read, filter, verify the chain, export."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
