"""Answers a route documents besides its return annotation's 200 (a 201 or 202 with its model),
for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def answered(status: int, model: type[BaseModel], description: str) -> dict[int, Any]:
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}


def accepted(model: type[BaseModel]) -> dict[int, Any]:
    return answered(202, model, "accepted: a job or event to follow")


def csv_rows() -> dict[int, Any]:
    """A 200 that answers CSV text (a list view's export)."""
    return {
        200: {
            "description": "the rows as CSV, a header line first; `X-Next` when the list goes on",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
