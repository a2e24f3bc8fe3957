"""PynamoDB models, the transaction builder and idempotency (see each module's docstring)."""
from . import pynamodb_errors  # noqa: F401 - patches PynamoDB before any model is used
