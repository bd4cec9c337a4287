"""The function's structured logger, and the core package's loggers writing through it.

Modules of the core log with ``logging.getLogger(__name__)`` (they know nothing of Powertools).
``structured_logger()`` builds the handler's Powertools ``Logger`` and hands its handler, JSON
formatter and level to the ``couponflow`` logger, the parent of every core module's logger: a
line logged by ``couponflow.services.mailer`` comes out as the same JSON, with the same
Lambda context and correlation id, as the handler's own lines, whatever the service is named.
"""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger

CORE_LOGGER = "couponflow"


def structured_logger() -> Logger:
    logger = Logger()
    core = logging.getLogger(CORE_LOGGER)
    core.handlers = [logger.registered_handler]
    core.setLevel(logger.log_level)
    core.propagate = False
    return logger
