"""What each Lambda function can run: a call graph of the deployed code (app.py and chalicelib/), read from
its syntax trees, and the DynamoDB calls of what each function reaches, with the table each one touches.

This is what makes the IAM policy per function (infra/aws/policy.py): the API handler gets what its routes
reach, a job what its own `Job` of chalicelib/jobs.py reaches, the stream handlers what theirs do.

The graph's nodes are the top-level symbols of each module (a function, a class with all its methods, a
module-level variable with its value, and what is added to it at import: `HANDLERS["x"] = f`,
`PLUGINS.append(g)`) plus each module's import-time code. An edge is any reference a symbol's body makes to
another symbol, however it is reached: `from .posting import post`, `catalog.merchants` through
`from . import catalog`, an import inside a function (a job's service: chalicelib/jobs.py), a function
passed as a value. Nested functions and lambdas belong to the symbol that holds them,
so a callback a caller passes (`Plan(extra=lambda tx: unwind(...))`) is the caller's. Reaching a symbol
runs its module's import-time code, which follows only the calls made there (a decorator,
`Routes(...)`), never a function merely stored at import.

The jobs registry is the exception (`REGISTRIES`): a function's entry points are taken from the registries
themselves (infra/aws/functions.py: the routes, middleware and jobs app.py registers), so a job reaches its
own service and not its neighbours', and the worker reaches the sharded jobs' slices, not every job.

Over-approximating is the safe side (a permission too many), so a class brings all its methods and a bare
module reference all its symbols. What cannot be told statically fails the build instead of being guessed:
a DynamoDB call whose table is not known (`Unresolved`).

Which table a call touches:
- `Account.get`, `Redemption.by_user.query`, `Account(...).update`, `Account._get_connection()...get_item`;
- a transaction action: the model (instance or class) it is given, `tx.put_new("entry", LedgerEntry, ...)`;
- an instance, `item.save()`: the variable's annotation, what it was assigned (`Model(...)`, `Model.get(...)`),
  the loop it comes from (`for item in Model.query(...)`), the `with Model.batch_write() as batch` it is the
  batch of (then it is the BatchWriteItem), or, for a parameter, the models every caller passes;
- a low-level client call: the models whose `Meta.table_name` the function names.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .usage import DEPLOYED, ROOT, _action, _receiver_name

IMPORT = "<import>"  # the symbol name of a module's import-time code
FILLED = "[]"  # suffix of the symbol holding what a module-level variable is filled with at import
_BATCH = "batch_write"
_MODEL_SOURCES = {"get", "query", "scan", "count", "batch_get", "from_raw_data"}
_FILLING = {"append", "extend", "insert", "add", "update", "setdefault"}
# Registries whose entries are entry points of their own (infra/aws/functions.py reads them at run time): a
# function that looks one entry up reaches that entry only, not the whole registry.
REGISTRIES = {"chalicelib.jobs:JOBS"}


@dataclass(frozen=True, order=True)
class TableUse:
    """One DynamoDB call site and what it touches."""

    action: str  # IAM action without "dynamodb:"
    model: str  # "chalicelib.store.models.LedgerEntry"
    index: str  # the attribute of the model's index for a Query on it ("by_user"), else ""
    where: str  # "chalicelib/services/posting.py:167"
    symbol: str  # "chalicelib.services.posting:post"


@dataclass(frozen=True, order=True)
class Unresolved:
    action: str
    where: str
    call: str


@dataclass
class Module:
    name: str  # "chalicelib.services.erasure", "app"
    path: Path
    tree: ast.Module
    namespace: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> ("module", m) | ("symbol", key)
    symbols: dict[str, list[ast.AST]] = field(default_factory=dict)  # name -> its nodes
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # (first, last line, symbol name)

    @property
    def package(self) -> str:
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.package.split(".")
    if node.level > 1:
        base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _filled(body: list[ast.stmt]):
    """(name, value) of `NAME.append(value)`, `NAME.update(...)`, `NAME[key] = value` at module level."""
    for stmt in _top_level(body):
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
                and isinstance(stmt.value.func, ast.Attribute) and isinstance(stmt.value.func.value, ast.Name) \
                and stmt.value.func.attr in _FILLING:
            yield stmt.value.func.value.id, stmt.value
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    yield target.value.id, stmt.value


def _top_level(body: list[ast.stmt]):
    """The module's statements, looking into `if`/`try`/`with`/`for` at module level (app.py defines its stream
    handlers under an `if`)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.If, ast.For, ast.While, ast.With)):
            yield from _top_level(stmt.body)
            yield from _top_level(getattr(stmt, "orelse", []))
        elif isinstance(stmt, ast.Try):
            for block in (stmt.body, stmt.orelse, stmt.finalbody, *[h.body for h in stmt.handlers]):
                yield from _top_level(block)


def _bound_value(node: ast.AST, name: str) -> ast.expr | None:
    """What `name = value`, `for name in value`, `with value as name` bind the name to."""
    def binds(target: ast.AST | None) -> bool:
        return isinstance(target, ast.Name) and target.id == name

    if isinstance(node, ast.Assign) and any(binds(t) for t in node.targets):
        return node.value
    if isinstance(node, (ast.For, ast.comprehension)) and binds(node.target):
        return node.iter
    if isinstance(node, ast.withitem) and binds(node.optional_vars):
        return node.context_expr
    return None


class _References(ast.NodeVisitor):
    """What a symbol's nodes name: every module or symbol a name or attribute chain resolves to. For
    import-time code (`calls_only`) only what is called there, and the modules imported (their own
    import-time code runs); a function or lambda defined there runs later, if ever."""

    def __init__(self, program: Program, module: Module, local: dict, calls_only: bool) -> None:
        self.program, self.module, self.local, self.calls_only = program, module, local, calls_only
        self.found: set[tuple] = set()

    def chain(self, node: ast.expr) -> None:
        inner = node
        while isinstance(inner, ast.Attribute):
            inner = inner.value
        if not isinstance(inner, ast.Name):
            self.visit(inner)
            return
        target, _ = self.program.resolve(self.module, node, self.local)
        if target:
            self.found.add(target)

    def visit_Name(self, node: ast.Name) -> None:
        if not self.calls_only:
            self.chain(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if self.calls_only:
            self.generic_visit(node)
        else:
            self.chain(node)

    def visit_Call(self, node: ast.Call) -> None:
        if not self.calls_only:
            self.generic_visit(node)
            return
        if isinstance(node.func, (ast.Name, ast.Attribute)):
            self.chain(node.func)
        else:
            self.visit(node.func)
        for child in (*node.args, *[k.value for k in node.keywords]):
            self.visit(child)

    def _definition(self, node: ast.AST, runs_at_import: list) -> None:
        if not self.calls_only:
            self.generic_visit(node)
            return
        for part in runs_at_import:
            self.visit(part)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._definition(node, node.decorator_list)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._definition(node, [])

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._definition(node, [*node.bases, *node.decorator_list])

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        if not self.calls_only:
            return
        for alias in node.names:  # importing a module runs its import-time code
            name = alias.asname or alias.name.split(".")[0]
            target = self.local.get(name) or self.module.namespace.get(name)
            if target:
                self.found.add(("module-import", target[1] if target[0] == "module" else target[1].partition(":")[0]))

    visit_ImportFrom = visit_Import


class Program:
    """The deployed code's modules, symbols and references."""

    def __init__(self, root: Path = ROOT, models: dict[str, dict[str, str]] | None = None) -> None:
        self.root = root
        self.modules: dict[str, Module] = {}
        for name in DEPLOYED:
            path = root / name
            for file in (sorted(path.rglob("*.py")) if path.is_dir() else [path]):
                tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
                module = Module(_module_name(file, root), file, tree)
                self.modules[module.name] = module
        for module in self.modules.values():
            self._index(module)
        self._models = models

    # --- symbols and names -------------------------------------------------------------------------
    def _index(self, module: Module) -> None:
        imports: list[ast.stmt] = []
        for stmt in _top_level(module.tree.body):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                module.symbols.setdefault(stmt.name, []).append(stmt)
                first = min([stmt.lineno] + [d.lineno for d in stmt.decorator_list])
                module.spans.append((first, stmt.end_lineno or stmt.lineno, stmt.name))
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            module.symbols.setdefault(name.id, []).append(stmt.value)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                imports.append(stmt)
        for name, value in _filled(module.tree.body):  # a registry filled at import: its entries are its value
            if name in module.symbols and f"{module.name}:{name}" not in REGISTRIES:
                module.symbols.setdefault(name + FILLED, []).append(value)
        for stmt in imports:
            self._bind_import(module, stmt, module.namespace)
        module.symbols[IMPORT] = [s for s in module.tree.body]

    def _bind_import(self, module: Module, stmt: ast.stmt, namespace: dict) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    namespace[alias.asname] = ("module", alias.name)
                else:
                    top = alias.name.split(".")[0]
                    namespace[top] = ("module", top)
            return
        assert isinstance(stmt, ast.ImportFrom)
        source = _absolute(module, stmt)
        for alias in stmt.names:
            if alias.name == "*":
                continue
            submodule = f"{source}.{alias.name}"
            namespace[alias.asname or alias.name] = ("module", submodule) if submodule in self.modules \
                else ("symbol", f"{source}:{alias.name}")

    def _lookup(self, module_name: str, name: str, seen: frozenset = frozenset()) -> tuple[str, str] | None:
        """A name of a module: its own symbol, or what it imported under that name (followed through re-exports)."""
        module = self.modules.get(module_name)
        if module is None or (module_name, name) in seen:
            return None
        if name in module.namespace:
            kind, target = module.namespace[name]
            if kind == "symbol":
                source, _, attr = target.partition(":")
                return self._lookup(source, attr, seen | {(module_name, name)}) or (
                    ("symbol", target) if source in self.modules else None)
            return (kind, target) if target in self.modules or any(
                m.startswith(target + ".") for m in self.modules) else None
        if name in module.symbols and name != IMPORT:
            return ("symbol", f"{module_name}:{name}")
        if f"{module_name}.{name}" in self.modules:
            return ("module", f"{module_name}.{name}")
        return None

    def resolve(self, module: Module, expr: ast.expr, local: dict | None = None) -> tuple[tuple[str, str] | None,
                                                                                          list[str]]:
        """`a.b.c` -> (the most specific module or symbol it names, the attributes left over)."""
        parts: list[str] = []
        while isinstance(expr, ast.Attribute):
            parts.insert(0, expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None, parts
        target = (local or {}).get(expr.id) or self._lookup(module.name, expr.id)
        if target and target[0] == "module" and target[1] not in self.modules:
            target = None
            for i in range(len(parts), 0, -1):  # `import chalicelib.services.aggregate` then a.b.c
                candidate = ".".join([expr.id, *parts[:i]])
                if candidate in self.modules:
                    target, parts = ("module", candidate), parts[i:]
                    break
        while target and target[0] == "module" and parts:
            found = self._lookup(target[1], parts[0])
            if found is None:
                break
            target, parts = found, parts[1:]
        return target, parts

    # --- edges -------------------------------------------------------------------------------------
    def _local_imports(self, module: Module, nodes: list[ast.AST]) -> dict:
        local: dict = {}
        for node in nodes:
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    self._bind_import(module, inner, local)
        return local

    def _references(self, module: Module, nodes: list[ast.AST], local: dict, calls_only: bool) -> set[tuple]:
        refs = _References(self, module, local, calls_only)
        for node in nodes:
            refs.visit(node)
        return refs.found

    @cached_property
    def edges(self) -> dict[str, set[str]]:
        """symbol key -> the symbol keys it references (a module reference: all its symbols)."""
        edges: dict[str, set[str]] = {}
        for module in self.modules.values():
            for name, nodes in module.symbols.items():
                key = f"{module.name}:{name}"
                local = self._local_imports(module, nodes) if name != IMPORT else {}
                refs = self._references(module, nodes, local, calls_only=name == IMPORT)
                targets = {f"{module.name}:{IMPORT}"} if name != IMPORT else set()
                for kind, target in refs:
                    if kind == "symbol":
                        targets.add(target)
                        if name != IMPORT:  # using a filled variable reaches its entries; filling it does not
                            targets.add(target + FILLED)
                    elif kind == "module" and target in self.modules:
                        targets.update(f"{target}:{s}" for s in self.modules[target].symbols)
                    elif kind == "module-import" and target in self.modules:
                        targets.add(f"{target}:{IMPORT}")
                edges[key] = {t for t in targets if t != key}
        return edges

    def symbol_at(self, path: str | Path, line: int) -> str | None:
        """The top-level symbol holding a line (a lambda at module level: a symbol of its own)."""
        path = Path(path).resolve()
        for module in self.modules.values():
            if module.path.resolve() != path:
                continue
            for first, last, name in module.spans:
                if first <= line <= last:
                    return f"{module.name}:{name}"
            lambdas = [n for n in ast.walk(module.tree) if isinstance(n, ast.Lambda) and n.lineno == line]
            if lambdas:
                name = f"<lambda:{line}>"
                if name not in module.symbols:
                    module.symbols[name] = lambdas
                    self.__dict__.pop("edges", None)
                return f"{module.name}:{name}"
        return None

    def reach(self, entries: list[str]) -> set[str]:
        edges = self.edges
        seen: set[str] = set()
        todo = list(entries)
        while todo:
            key = todo.pop()
            if key in seen:
                continue
            seen.add(key)
            todo.extend(edges.get(key, ()))
        return seen

    # --- DynamoDB calls and their tables -----------------------------------------------------------
    @property
    def models(self) -> dict[str, dict[str, str]]:
        """model key "chalicelib.store.models.Account" -> {index attribute: index name}."""
        if self._models is None:
            from pynamodb.indexes import Index

            from .models import load_models

            self._models = {f"{m.__module__}.{m.__name__}": {
                name: getattr(m, name).Meta.index_name for name in dir(m) if isinstance(getattr(m, name, None), Index)}
                for m in load_models()}
        return self._models

    def _model_key(self, target: tuple[str, str] | None, depth: int = 0) -> str | None:
        if target and target[0] == "symbol":
            key = target[1].replace(":", ".")
            if key in self.models:
                return key
            return self._model_key(self._alias_of(target[1]), depth + 1) if depth < 3 else None
        return None

    def _alias_of(self, symbol: str) -> tuple[str, str] | None:
        """What a module-level alias of another name names (`Counter = LimitCounter`), else None."""
        module_name, _, name = symbol.partition(":")
        module = self.modules.get(module_name)
        nodes = module.symbols.get(name, []) if module else []
        if len(nodes) == 1 and isinstance(nodes[0], ast.Name):  # a variable's symbol holds its value
            return self._lookup(module_name, nodes[0].id)
        return None

    def uses(self) -> tuple[list[TableUse], list[Unresolved]]:
        found: list[TableUse] = []
        unresolved: list[Unresolved] = []
        for module in self.modules.values():
            where = module.path.relative_to(self.root).as_posix()
            parents = {child: parent for parent in ast.walk(module.tree) for child in ast.iter_child_nodes(parent)}
            spans = sorted(module.spans)
            short = {n.split(".")[-1]: set(idx) for n, idx in self.models.items()}
            for node in ast.walk(module.tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                receiver = _receiver_name(node.func.value)
                action = _action(node, receiver, node.func.attr, short)
                head, _ = self.resolve(module, node.func.value)
                receiver_model = self._model_key(head)
                if action is None and receiver_model is None:
                    action = self._parameter_model_action(module, node, parents)
                if action is None:
                    continue
                symbol = next((f"{module.name}:{name}" for first, last, name in spans if first <= node.lineno <= last),
                              f"{module.name}:{IMPORT}")
                site = f"{where}:{node.lineno}"
                touched = self._touched(module, node, receiver, action, parents)
                if touched is None:
                    continue  # a batch's put or delete: the BatchWriteItem it belongs to is the call
                if not touched:
                    unresolved.append(Unresolved(action, site, f"{receiver}.{node.func.attr}"))
                for model, index in sorted(touched, key=lambda t: (t[0], t[1] or "")):
                    found.append(TableUse(action, model, index or "", site, symbol))
        return sorted(found), sorted(unresolved)

    def _parameter_model_action(self, module: Module, call: ast.Call, parents: dict) -> str | None:
        """`model.batch_get(...)` where `model` is a parameter callers give a model class to."""
        from .usage import CLASS_METHODS

        method = call.func.attr
        if method not in CLASS_METHODS:
            return None
        base = call.func.value
        while isinstance(base, ast.Attribute):
            base = base.value
        if isinstance(base, ast.Name) and self._models_of(module, base, parents, classes_only=True):
            return CLASS_METHODS[method]
        return None

    def _touched(self, module: Module, call: ast.Call, receiver: str, action: str,
                 parents: dict) -> set[tuple[str, str | None]] | None:
        base = call.func.value
        # Model.index.query / model.index.query
        parts: list[str] = []
        inner = base
        while isinstance(inner, ast.Attribute):
            parts.insert(0, inner.attr)
            inner = inner.value
        target, rest = self.resolve(module, base)
        model = self._model_key(target)
        if model:
            index = rest[0] if rest and rest[0] in self.models[model] else None
            return {(model, index)}
        from .usage import _is_transaction

        if _is_transaction(receiver) and call.args[1:]:
            return {(m, None) for m in self._models_of(module, call.args[1], parents)}
        if receiver.endswith("client") or receiver.endswith("connection()"):
            return self._named_in(module, self._enclosing(call, parents) or module.tree)
        if isinstance(inner, ast.Call):  # Model(...).update(...)
            return {(m, None) for m in self._models_of_value(module, inner, parents, 0)}
        if isinstance(inner, ast.Name):
            if self._batch_of(module, inner, parents):
                return None
            models = self._models_of(module, inner, parents)
            index_attr = parts[0] if parts else None
            return {(m, index_attr if index_attr in self.models[m] else None) for m in models}
        return set()

    def _named_in(self, module: Module, function: ast.AST) -> set[tuple[str, str | None]]:
        """A low-level call's tables and indexes: the `Model.Meta.table_name` and `Model.index.Meta.index_name`
        its function names. A literal "IndexName" (an index the scan cannot name) leaves it unresolved."""
        named: set[tuple[str, str | None]] = set()
        literal_index = False
        for node in ast.walk(function):
            if isinstance(node, ast.Constant) and node.value == "IndexName":
                literal_index = True
            if not (isinstance(node, ast.Attribute) and node.attr in ("table_name", "index_name")
                    and isinstance(node.value, ast.Attribute) and node.value.attr == "Meta"):
                continue
            target, rest = self.resolve(module, node.value.value)
            model = self._model_key(target)
            if model and node.attr == "table_name" and not rest:
                named.add((model, None))
            elif model and node.attr == "index_name" and len(rest) == 1 and rest[0] in self.models[model]:
                named.add((model, rest[0]))
        if literal_index and not any(index for _, index in named):
            return set()
        return named

    def _enclosing(self, node: ast.AST, parents: dict) -> ast.AST | None:
        while node in parents:
            node = parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                return node
        return None

    def _batch_of(self, module: Module, name: ast.Name, parents: dict) -> bool:
        node: ast.AST = name
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.With):
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name) and item.optional_vars.id == name.id \
                            and isinstance(item.context_expr, ast.Call) \
                            and isinstance(item.context_expr.func, ast.Attribute) \
                            and item.context_expr.func.attr == _BATCH:
                        return True
        return False

    def _models_of(self, module: Module, expr: ast.expr, parents: dict, classes_only: bool = False,
                   depth: int = 0) -> set[str]:
        """The models an expression is an instance (or, `classes_only`, the class) of."""
        if depth > 6:
            return set()
        if isinstance(expr, ast.Call):
            return set() if classes_only else self._models_of_value(module, expr, parents, depth)
        if isinstance(expr, ast.Attribute):
            target, rest = self.resolve(module, expr)
            model = self._model_key(target)
            return {model} if model and not rest else set()
        if not isinstance(expr, ast.Name):
            return set()
        model = self._model_key(self.resolve(module, expr)[0])
        if model:
            return {model}
        node: ast.AST = expr
        while node in parents:  # the innermost scope that binds the name tells
            node = parents[node]
            found = self._bound_in_scope(module, node, expr.id, parents, classes_only, depth)
            if found:
                return found
        return set()

    def _bound_in_scope(self, module: Module, scope: ast.AST, name: str, parents: dict, classes_only: bool,
                        depth: int) -> set[str]:
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return self._bound_in(module, scope, name, parents, classes_only, depth)
        found: set[str] = set()
        if isinstance(scope, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            for generator in scope.generators:
                if isinstance(generator.target, ast.Name) and generator.target.id == name:
                    found |= self._models_of_value(module, generator.iter, parents, depth)
        return found

    def _models_of_value(self, module: Module, value: ast.expr, parents: dict, depth: int) -> set[str]:
        """`Model(...)`, `Model.get(...)`, `Model.query(...)`, `Model.index.query(...)`: Model."""
        if isinstance(value, ast.Call):
            func = value.func
            target, rest = self.resolve(module, func)
            model = self._model_key(target)
            if model and (not rest or rest[-1] in _MODEL_SOURCES):
                return {model}
            if target and target[0] == "symbol" and not rest:  # a function of ours: its return annotation
                return self._returned(target[1])
            if isinstance(func, ast.Attribute) and func.attr in _MODEL_SOURCES:
                inner = func.value
                while isinstance(inner, ast.Attribute):
                    inner = inner.value
                if isinstance(inner, ast.Name):
                    return self._models_of(module, inner, parents, classes_only=True, depth=depth + 1)
            return set()
        return self._models_of(module, value, parents, depth=depth + 1)

    def _returned(self, symbol: str) -> set[str]:
        module_name, _, name = symbol.partition(":")
        module = self.modules.get(module_name)
        found: set[str] = set()
        for node in (module.symbols.get(name, []) if module else []):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
                for part in ast.walk(node.returns):
                    if isinstance(part, (ast.Name, ast.Attribute)):
                        model = self._model_key(self.resolve(module, part)[0])
                        if model:
                            found.add(model)
        return found

    def _annotated(self, module: Module, annotation: ast.expr | None) -> set[str]:
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            annotation = ast.parse(annotation.value, mode="eval").body
        return {model for part in ast.walk(annotation) if isinstance(part, (ast.Name, ast.Attribute))
                for model in [self._model_key(self.resolve(module, part)[0])] if model} if annotation else set()

    def _bound_in(self, module: Module, function: ast.AST, name: str, parents: dict, classes_only: bool,
                  depth: int) -> set[str]:
        """A parameter (its annotation, else what the callers pass) or a local variable of the function."""
        found: set[str] = set()
        args = function.args
        for position, arg in enumerate([*args.posonlyargs, *args.args, *args.kwonlyargs]):
            if arg.arg == name:
                found |= self._annotated(module, arg.annotation)
                if not found and not isinstance(function, ast.Lambda):
                    found |= self._passed_to(module, function, position, name, classes_only, depth)
        if isinstance(function, ast.Lambda):
            return found
        for node in ast.walk(function):
            value = _bound_value(node, name)
            if value is not None:
                found |= self._models_of_value(module, value, parents, depth + 1)
        return found

    def _passed_to(self, module: Module, function: ast.AST, position: int, name: str, classes_only: bool,
                   depth: int) -> set[str]:
        """What every caller of a top-level function passes for one of its parameters."""
        symbol = f"{module.name}:{function.name}"
        if symbol not in {f"{module.name}:{n}" for _, _, n in module.spans}:
            return set()
        found: set[str] = set()
        for other in self.modules.values():
            parents = None
            for node in ast.walk(other.tree):
                if not isinstance(node, ast.Call) or not isinstance(node.func, (ast.Name, ast.Attribute)):
                    continue
                target, rest = self.resolve(other, node.func)
                if target != ("symbol", symbol) or rest:
                    continue
                parents = parents or {c: p for p in ast.walk(other.tree) for c in ast.iter_child_nodes(p)}
                given = [k.value for k in node.keywords if k.arg == name]
                if position < len(node.args):
                    given.append(node.args[position])
                for arg in given:
                    found |= self._models_of(other, arg, parents, classes_only, depth + 1)
        return found


def function_symbols(program: Program, entries: dict[str, list[tuple[str, int]]]) -> dict[str, set[str]]:
    """Chalice function name -> every symbol it can run (its entries, app.py's import-time code, and on)."""
    found = {}
    for name, places in entries.items():
        starts = [f"app:{IMPORT}"]
        for path, line in places:
            symbol = program.symbol_at(path, line)
            if symbol is None:
                raise ValueError(f"{name}: no symbol of the deployed code holds {path}:{line}")
            starts.append(symbol)
        found[name] = program.reach(starts)
    return found


def function_uses(entries: dict[str, list[tuple[str, int]]],
                  program: Program | None = None) -> tuple[dict[str, list[TableUse]], list[Unresolved]]:
    """Chalice function name -> the DynamoDB calls it can make; and the calls whose table is unknown."""
    program = program or Program()
    uses, unresolved = program.uses()
    reached = function_symbols(program, entries)
    return {name: [u for u in uses if u.symbol in symbols] for name, symbols in reached.items()}, unresolved
