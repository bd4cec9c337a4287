"""Couponflow core: domain rules, AWS adapters and services shared by every Lambda function.

Layout (each layer one call deep):
- ``domain/``   pure rules and vocabularies (statuses, precedence, email normalisation, rendering)
- ``models/``   the API contract (what merchants and storefronts send and receive)
- ``adapters/`` the only modules that talk to AWS, one per service; ClientError -> domain errors
- ``store/``    key design and item mapping for DynamoDB, on top of ``adapters.dynamodb``
- ``services/`` use cases called by the thin handlers in ``functions/``
"""

__version__ = "0.1.0"
