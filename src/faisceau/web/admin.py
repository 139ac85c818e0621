"""Administration pages: users, units, sharing groups and record distribution (role admin).
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
