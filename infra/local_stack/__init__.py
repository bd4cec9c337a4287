"""The embedded local stack: template.yaml on moto, functions in worker processes.

`python -m local_stack` (or `make run`) for people; :class:`LocalStack` for tests.
"""

from local_stack.ses_simulator import simulate_engagement
from local_stack.stack import LocalStack

__all__ = ["LocalStack", "simulate_engagement"]
