"""Integer path, query and form parameters that are integers only.

FastAPI reads these parameters as text and would turn ``1.0`` into 1 (``/v1/talents/1.0`` read
talent 1). ``Digits`` admits ASCII digits only, so ``1.0``, ``true``, ``+1`` and ``1e3`` are 422
field errors. JSON bodies use ``matcher.domain.schemas.StrictInt`` / ``RecordId`` instead (a JSON integer,
never a boolean, a float or a string).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query
from pydantic import BeforeValidator

from matcher.domain.schemas import MAX_ID, digits_only

Digits = BeforeValidator(digits_only)
"""For ``Annotated[int, Path(...)|Query(...)|Form(...), Digits]``: digits only."""

Id = Annotated[int, Path(ge=1, le=MAX_ID, description="编号"), Digits]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID), Digits]
TopK = Annotated[int, Query(ge=1, le=200, description="返回条数"), Digits]

MAX_PAGE_SIZE = 200
PageNo = Annotated[int, Query(ge=1, le=1_000_000, description="页码，从 1 开始"), Digits]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"每页条数（至多 {MAX_PAGE_SIZE}）"), Digits]


class PageParams:
    """page (from 1) and page_size (at most ``MAX_PAGE_SIZE``)."""

    def __init__(self, page: PageNo = 1, page_size: PageSize = 20) -> None:
        self.page = page
        self.page_size = page_size

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


async def page_params(page: PageNo = 1, page_size: PageSize = 20) -> PageParams:
    """The paging of a list's query string (``async``: on the event loop, see ``api.deps.get_service``)."""
    return PageParams(page, page_size)


Paging = Annotated[PageParams, Depends(page_params)]
