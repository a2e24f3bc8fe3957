"""Reading the catalog table (store/models.CatalogItem): a partition's items, and one methodology version.
services/catalog.py caches what it reads per container; admin/catalog_load.py writes it."""
from __future__ import annotations

from .access import access, on
from .models import CatalogItem


@access(on(CatalogItem, "Query"))
def partition(kind: str) -> dict[str, dict]:
    """Every item of the partition `kind` ("behavior", "goods", "org" ...) by id: one Query (paged)."""
    return {item.id: item.data for item in CatalogItem.query(kind)}


@access(on(CatalogItem, "GetItem"))
def methodology(code: str, version: str) -> dict:
    """The rule of behaviour `code` exactly as it was at `version`: one GetItem (DoesNotExist if none)."""
    return CatalogItem.get(f"methodology#{code}", version).data


ACCESS = (partition,)  # what the catalog's cache reads (services/catalog.py)
