"""Path parameters of the pages, bounded and strict like the API's: ids are 32-bit integers in
every database, given as digits only (``/app/entries/1.0/edit`` is refused as the API refuses it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BeforeValidator

from matcher.domain.schemas import MAX_ID, digits_only

Id = Annotated[int, Path(ge=1, le=MAX_ID, description="编号"), BeforeValidator(digits_only)]
