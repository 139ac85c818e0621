"""The dashboard: key figures in the shape of the plan's key-figures page, trends, map."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
