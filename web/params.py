"""Path parameters of the pages, bounded like the API's (ids are 32-bit integers in every database)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from matcher.domain.schemas import MAX_ID

Id = Annotated[int, Path(ge=1, le=MAX_ID, description="编号")]
