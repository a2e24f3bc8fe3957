"""The PynamoDB models as the infrastructure sees them: every table of ALL_MODELS, read at run time.

Importing the app's models needs a valid settings object (models.py reads TABLE_PREFIX and the endpoint
when it is imported). These are build tools: `load_models()` supplies a throwaway JWT_SECRET when the
environment has none, since only the models' shapes are read here, never a secret.
"""
from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass

APP_NAME = "greensprout"
STAGES = ("dev", "prod")
BUILD_ONLY_SECRET = "build-only-secret-never-deployed-0123456789"


def build_only_secrets() -> dict[str, str]:
    """Placeholders for every secret, for importing the app at build time (never deployed: package.py
    checks that none reaches a template). Without them a stage's SSM_PARAMETER_PATH would make the app
    fetch its secrets from AWS."""
    from chalicelib.settings import SECRET_NAMES

    values = dict.fromkeys(SECRET_NAMES, BUILD_ONLY_SECRET)
    values["DATA_KEY"] = base64.b64encode(BUILD_ONLY_SECRET.encode()[:32]).decode()
    return values


def load_models() -> tuple[type, ...]:
    """ALL_MODELS, whatever features have added to it by now."""
    os.environ.setdefault("JWT_SECRET", BUILD_ONLY_SECRET)
    from chalicelib.store.tables import ALL_MODELS

    return ALL_MODELS


def table_prefix(stage: str) -> str:
    """What config.json's TABLE_PREFIX is for a deployed stage."""
    return f"{APP_NAME}-{stage}-"


@dataclass(frozen=True)
class TableSpec:
    """One model's table, independent of the TABLE_PREFIX the models were imported with."""

    model: type
    name: str  # without prefix: "accounts"

    def table_name(self, stage: str) -> str:
        return table_prefix(stage) + self.name

    @property
    def logical_id(self) -> str:
        """CloudFormation id, e.g. "PartnerLinksTable". Never rename one: CloudFormation would replace the table."""
        return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", self.name) if part) + "Table"

    @property
    def schema(self) -> dict:
        return self.model._get_schema()

    @property
    def index_names(self) -> list[str]:
        schema = self.schema
        return sorted(i["index_name"] for i in schema["global_secondary_indexes"] + schema["local_secondary_indexes"])

    @property
    def ttl_attribute(self) -> str | None:
        from pynamodb.attributes import TTLAttribute

        names = [a.attr_name for a in self.model.get_attributes().values() if isinstance(a, TTLAttribute)]
        return names[0] if names else None

    @property
    def stream_view_type(self) -> str | None:
        return getattr(self.model.Meta, "stream_view_type", None)


def table_specs() -> list[TableSpec]:
    """Every table, sorted by name; refuses two models on one table or a name outside the prefix."""
    models = load_models()
    from chalicelib.store.models import TABLE_PREFIX

    specs: dict[str, TableSpec] = {}
    for model in models:
        full = model.Meta.table_name
        if not full.startswith(TABLE_PREFIX):
            raise ValueError(f"{model.__name__}: table {full!r} does not start with TABLE_PREFIX {TABLE_PREFIX!r}; "
                             "use store.models.table_meta()")
        name = full[len(TABLE_PREFIX):]
        if name in specs:
            raise ValueError(f"{model.__name__} and {specs[name].model.__name__} both use table {name!r}")
        specs[name] = TableSpec(model, name)
    return [specs[name] for name in sorted(specs)]
