"""PynamoDB models, the transaction builder and idempotency (see each module's docstring)."""
from . import (
    pynamodb_errors,  # noqa: F401 - patches PynamoDB before any model is used
    pynamodb_session,  # noqa: F401 - one botocore session for every model's connection
)
