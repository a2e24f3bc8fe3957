"""The catalog's `trees` (the top level's, and a platform entry's: admin/platforms_load.py): offers, their stock,
and the write-once history of their methodology versions.

An offer goes to the `tree` partition (a platform P's `P#tree`), its stock to "tree#{id}" ("P#tree#{id}",
store/stock.py). A tree methodology version fixes a figure for good, its annual uptake and its estimate flag
(`Tree.figure`): adoptions copy it and accrue by it, and verify-ledger recomputes their entries from it. So the
load keeps each version once in the history partition "tree_methodology#{methodology id}" ("P#...", sort key the
version; admin/tree_versions.py reads it), and refuses a tree whose (methodology id, version) has another figure
anywhere: in any platform's history, in any stored offer, or in another tree of the same file, whichever tree id
carries it. A planned tree's version, and each stored offer's of the platform, that the platform's history lacks is
recorded by this load (so a catalog loaded before the history gets it on its next load, unchanged offers included),
unless the stored offers disagree on its figure: then it is reported under `versions_unsettled` and stays
unrecorded (their entries are verify-ledger mismatches until a version's record is written).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pynamodb.exceptions import PutError

from chalicelib.domain.platforms import DEFAULT, scoped
from chalicelib.domain.trees import Tree, TreeError, history_kind, record_figure, tree_from_catalog
from chalicelib.services.platforms import every_id
from chalicelib.store import catalog_items
from chalicelib.store.models import CatalogItem

from .console import CommandError, parsed_once
from .tree_versions import TreeVersions


@dataclass
class VersionRecord:
    """A planned write of one tree methodology version's history item: put only where none is stored."""

    platform: str
    data: dict
    updated_at: str | None = None

    @property
    def label(self) -> str:
        return f"tree methodology {self.data['methodology_id']} version {self.data['version']}"

    def save(self) -> None:
        item = CatalogItem(history_kind(self.data["methodology_id"], self.platform), self.data["version"],
                           data=self.data, updated_at=self.updated_at)
        try:
            item.save(condition=CatalogItem.kind.does_not_exist())
        except PutError as exc:  # another load recorded it after this one's plan read the history
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            stored = CatalogItem.get(item.kind, item.id, consistent_read=True).data
            if record_figure(stored) != record_figure(self.data):
                raise CommandError(f"{self.label} was recorded by another load with annual uptake "
                                   f"{_grams(record_figure(stored)[0])} g meanwhile") from exc


def plan_trees(entries: list, platform: str = DEFAULT):
    """Trees to adopt on `platform`; everything checked before anything is written (module docstring)."""
    from .catalog_load import LOADING, Planned, existing, planned_stock

    if not isinstance(entries, list):
        raise CommandError("trees must be a list")
    planned = parsed_once(entries, tree_from_catalog, TreeError, "tree", platform)
    current = existing(scoped(platform, "tree"))
    claims = Claims(TreeVersions())
    claims.add_file(LOADING.get(), planned, platform)
    claims.add_stored(set(every_id()) | set(claims.platforms))
    writes, report = [], {"changed": [], "unchanged": [], "stock_changed": [], "versions_recorded": [],
                          "versions_unsettled": []}
    for entry, tree in planned:
        claims.refuse_another_figure(tree)
        if current.get(tree.id) == entry:
            report["unchanged"].append(tree.id)
        else:
            report["changed"].append(tree.id)
            writes.append(CatalogItem(scoped(platform, "tree"), tree.id, data=entry))
        stock_write = planned_stock(tree.stock_key, tree.stock, f"tree {tree.id}", "adopted")
        if stock_write:
            report["stock_changed"].append(tree.id)
            writes.append(stock_write)
    records = claims.unrecorded([tree for _, tree in planned] + _offers(current, platform), platform, report)
    return Planned(records + writes, [], report)


def _offers(data_by_id: dict, platform: str) -> list[Tree]:
    trees = []
    for data in data_by_id.values():
        try:
            trees.append(tree_from_catalog(data, platform))
        except TreeError:  # stored by an older console: the load of its tree checks it again
            continue
    return trees


def _grams(mg: int) -> str:
    """Milligrams as the file's annual_uptake_g says them (18000001 -> "18000.001")."""
    return format(Decimal(mg) / 1000, "f")


def _who(platform: str, tree_id: str, where: str) -> str:
    return f"{where} tree {tree_id}" + ("" if platform == DEFAULT else f" of platform {platform}")


class Claims:
    """Every figure known for each (methodology id, version): the history (whose word is final), every platform's
    stored offers and the trees of the file being loaded."""

    def __init__(self, history: TreeVersions) -> None:
        self.history = history
        self.platforms: list[str] = []
        self._figures: dict[tuple[str, str], list[tuple[tuple[int, bool], str]]] = {}

    def _add(self, tree: Tree, who: str) -> None:
        self._figures.setdefault((tree.methodology_id, tree.version), []).append((tree.figure, who))

    def add_file(self, doc: dict | None, planned: list[tuple[dict, Tree]], platform: str) -> None:
        """The file's trees: the planned ones, and (from the whole document) every other platform's."""
        listed = {platform: [entry for entry, _ in planned]}
        for entry in (doc or {}).get("platforms") or ():
            if isinstance(entry, dict) and isinstance(entry.get("id"), str) and isinstance(entry.get("trees"), list):
                listed.setdefault(entry["id"], entry["trees"])
        if doc and isinstance(doc.get("trees"), list):
            listed.setdefault(DEFAULT, doc["trees"])
        self.platforms = list(listed)
        for owner, entries in listed.items():
            for tree in _offers({i: e for i, e in enumerate(entries)}, owner):
                self._add(tree, _who(owner, tree.id, "the file's"))

    def add_stored(self, platforms: set[str]) -> None:
        for owner in sorted(platforms):
            for tree in _offers(catalog_items.partition(scoped(owner, "tree")), owner):
                self._add(tree, _who(owner, tree.id, "the stored offer of"))

    def refuse_another_figure(self, tree: Tree) -> None:
        """CommandError when the tree's version is known with another figure (the history's first)."""
        stored = self.history.stored(tree.methodology_id, tree.version)
        known = [(record_figure(data), _who(owner, data.get("tree_id", "?"), "the catalog's history, first offered by"))
                 for owner, data in stored] + self._figures.get((tree.methodology_id, tree.version), [])
        for figure, who in known:
            if figure != tree.figure:
                uptake, estimate = figure
                raise CommandError(
                    f"tree {tree.id}: methodology {tree.methodology_id} version {tree.version} already has annual "
                    f"uptake {_grams(uptake)} g{' (an estimate)' if estimate else ''} in {who}; a version's figure "
                    f"never changes: give annual_uptake_g {_grams(tree.annual_uptake_mg)}"
                    f"{' (an estimate)' if tree.estimate else ''} a new version")

    def unrecorded(self, trees: list[Tree], platform: str, report: dict) -> list[VersionRecord]:
        """The history items `platform` lacks for these trees' versions (the first tree of a version gives it)."""
        records, done = [], set()
        for tree in trees:
            key = (tree.methodology_id, tree.version)
            if key in done or any(owner == platform for owner, _ in self.history.stored(*key)):
                continue
            done.add(key)
            figures = {figure for figure, _ in self._figures.get(key, [])} | {
                record_figure(data) for _, data in self.history.stored(*key)}
            if figures != {tree.figure}:
                report["versions_unsettled"].append(f"{tree.methodology_id}@{tree.version}")
                continue
            report["versions_recorded"].append(f"{tree.methodology_id}@{tree.version}")
            records.append(VersionRecord(platform, tree.version_record()))
        return records
