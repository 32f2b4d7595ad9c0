"""The perps SDK's provider catalogue: ``GET /providers`` with setup and options descriptors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from toolkit.venues import providers as pv

router = APIRouter(tags=["Providers"])


@router.get("/providers", summary="Providers with their setup and options descriptors")
def providers() -> dict[str, Any]:
    return {"providers": pv.providers()}
