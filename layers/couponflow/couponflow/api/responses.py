"""Answers a route documents besides its return annotation's 200 (a 201 or 202 with its model),
for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def answered(status: int, model: type[BaseModel], description: str) -> dict[int, Any]:
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}


def created(model: type[BaseModel]) -> dict[int, Any]:
    return answered(201, model, "created")


def accepted(model: type[BaseModel]) -> dict[int, Any]:
    return answered(202, model, "accepted: a job or event to follow")
