"""Responses serialised once.

A handler that returns a model makes FastAPI validate it against the route's
`response_model` and serialise it afterwards; for a page of fifty rows the
second validation costs as much as the first. The services build their models
already validated, so the hot reads return them through these, which hand the
bytes to a plain `Response` in one pydantic-core call; `response_model` on the
route still documents the body in OpenAPI.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel, TypeAdapter

from common.paging import Page, set_next_link

JSON = "application/json"


@functools.cache
def _list_of(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def model_response(model: BaseModel, *, status_code: int = 200) -> Response:
    """`model` as the JSON body, as FastAPI would write it (by alias, every field)."""
    return Response(model.model_dump_json(by_alias=True), status_code, media_type=JSON)


def list_response(items: Sequence[BaseModel], model: type[BaseModel]) -> Response:
    """A JSON array of `model`s (subclasses' extra fields are left out, as a
    `list[model]` response model would)."""
    return Response(_list_of(model).dump_json(list(items), by_alias=True), media_type=JSON)


def page_response(request: Request, page: Page[Any], model: type[BaseModel]) -> Response:
    """A page as a JSON array of `model`s, with `Link: rel="next"` when there is
    a next page (common.paging.set_next_link)."""
    response = list_response(page.items, model)
    set_next_link(request, response, page.next_cursor)
    return response
