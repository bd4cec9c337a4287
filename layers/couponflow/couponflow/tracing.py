"""The function's X-Ray tracer, patching only the libraries our code calls through.

Powertools' ``Tracer()`` patches every library X-Ray's SDK knows (``patch_all``): a hundred
modules imported at every cold start (requests, SQLAlchemy, psycopg, pynamodb, httpx patchers
and what they pull in) for libraries no function uses. The functions talk to AWS through
botocore, and to email providers and merchants' webhooks through ``urllib`` (``http.client``);
those two are traced, so every AWS call and every outbound HTTP call is a subsegment still.
"""

from __future__ import annotations

from aws_lambda_powertools import Tracer

TRACED_MODULES = ("botocore", "httplib")


def function_tracer() -> Tracer:
    return Tracer(patch_modules=TRACED_MODULES)
