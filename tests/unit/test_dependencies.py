"""What may import the tests: nothing that is deployed, run by an operator or starts the local stack. The throwaway
stack and its photos live in infra/local (ephemeral.py, photos.py), so admin/ and the bench need nothing of tests/;
the soak (bench/soak.py) drives the tests' own helpers (API calls, partner binding, the fault proxy) on purpose."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAY_IMPORT_TESTS = {"bench/soak.py"}


def _imports_tests(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
        if any(name == "tests" or name.startswith("tests.") for name in names):
            return True
    return False


def test_only_the_soak_imports_the_tests():
    sources = [ROOT / "app.py", *[p for top in ("chalicelib", "admin", "bench", "infra", "verifier")
                                  for p in (ROOT / top).rglob("*.py") if "node_modules" not in p.parts]]
    importing = {str(p.relative_to(ROOT)) for p in sources if _imports_tests(p)}
    assert importing == MAY_IMPORT_TESTS
