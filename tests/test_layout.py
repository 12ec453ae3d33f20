"""The house layout, read from the source: SQL only under models/, models/ imports no layer above it.

Every module is parsed with ast (nothing is imported), so a violation is reported with its
file and line even when the module would not import.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Where SQL may be written: the models, their migrations, the tests and the benchmarks.
SQL_ALLOWED = ("models", "tests", "bench")
#: What models/ may not import: the layers above it (and the connectors they drive).
ABOVE_MODELS = ("connectors", "pages", "callbacks", "web", "workers", "app", "cli")
#: Session methods that run SQL; called on a session outside models/ they are a query.
SESSION_SQL = {"execute", "scalar", "scalars", "query", "get", "add", "add_all", "delete", "merge"}
SESSION_NAMES = {"db", "session", "s", "sess", "dbs"}


def _modules() -> list[Path]:
    skip = {".venv", "node_modules", "instance", "build", "dist"}
    return sorted(
        p
        for p in ROOT.rglob("*.py")
        if not skip.intersection(p.relative_to(ROOT).parts)
        and not any(part.endswith(".egg-info") for part in p.relative_to(ROOT).parts)
    )


def _layer(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return parts[0] if len(parts) > 1 else path.stem


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _is_flask_session(call: ast.Call) -> bool:
    """flask.session.get(key) takes one argument; Session.get(Model, id) takes two."""
    return call.func.attr == "get" and len(call.args) < 2  # type: ignore[attr-defined]


def sql_outside_models(path: Path, tree: ast.AST) -> list[str]:
    """SQLAlchemy statements, or SQL run on a session, in a module outside models/."""
    where = path.relative_to(ROOT)
    problems = []
    for line, module in _imports(tree):
        if module == "sqlalchemy" or module.startswith("sqlalchemy."):
            problems.append(f"{where}:{line} imports {module}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        receiver = node.func.value
        if (
            isinstance(receiver, ast.Name)
            and receiver.id in SESSION_NAMES
            and node.func.attr in SESSION_SQL
            and not _is_flask_session(node)
        ):
            problems.append(f"{where}:{node.lineno} runs {receiver.id}.{node.func.attr}(...)")
    return problems


def models_imports_above(path: Path, tree: ast.AST) -> list[str]:
    where = path.relative_to(ROOT)
    return [
        f"{where}:{line} imports {module}"
        for line, module in _imports(tree)
        if module.split(".")[0] in ABOVE_MODELS
    ]


def _parsed(layers: tuple[str, ...], *, inside: bool):
    for path in _modules():
        in_layer = _layer(path) in layers
        if in_layer == inside:
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def test_no_sql_outside_models():
    problems = [
        p
        for path, tree in _parsed(SQL_ALLOWED, inside=False)
        for p in sql_outside_models(path, tree)
    ]
    assert not problems, "SQL belongs in a query function under models/:\n" + "\n".join(problems)


def test_models_import_no_layer_above():
    problems = [
        p
        for path, tree in _parsed(("models",), inside=True)
        for p in models_imports_above(path, tree)
    ]
    assert not problems, "models/ must not import what sits above it:\n" + "\n".join(problems)


def test_the_checks_catch_what_they_are_for(tmp_path):
    """The detectors themselves: a select in a callback and a connector import in models/."""
    bad = ROOT / "callbacks" / "example.py"
    tree = ast.parse(
        "from sqlalchemy import select\n"
        "def f(db):\n"
        "    return db.scalars(select(1))\n"
        "def g(session):\n"
        "    return session.get('org_id')\n"
    )
    found = sql_outside_models(bad, tree)
    assert len(found) == 2 and "imports sqlalchemy" in found[0] and "db.scalars" in found[1]
    leak = ast.parse("from connectors.base import REGISTRY\nimport web.api\nimport models.scope\n")
    assert len(models_imports_above(ROOT / "models" / "example.py", leak)) == 2
