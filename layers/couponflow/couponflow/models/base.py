"""The base of every API and contract model: built when first used, not when imported.

pydantic builds a model's validator and serializer when its class is created unless told to
defer it. The merchant API has some eighty models, and one request uses two or three: deferred,
a cold start builds only what its first requests validate (about 0.08 s less on the merchant
API's import), and each later route builds its own once. Subclasses' ``model_config`` merges
with this one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    model_config = ConfigDict(defer_build=True)
