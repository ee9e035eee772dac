"""A domain's tables are written only by that domain: another domain asks its service (or a
hook it subscribes to). `lint-imports` (make check) keeps lower domains from importing higher
ones; this test catches the other way round, a higher domain writing a lower one's tables with
`insert`, `update`, `delete` or by constructing its rows."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "takt"
DOMAINS = sorted(
    p.name
    for p in SRC.iterdir()
    if p.is_dir() and (p / "__init__.py").exists() and p.name != "core"
)
WRITES = {"insert", "update", "delete"}


def _foreign_models(tree: ast.Module, domain: str) -> set[str]:
    """Names this module imported from another domain's models module."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            theirs = len(parts) == 3 and parts[0] == "takt" and parts[2] == "models"
            if theirs and parts[1] != domain and parts[1] in DOMAINS:
                names.update(alias.asname or alias.name for alias in node.names)
    return names


def _writes_to(tree: ast.Module, foreign: set[str]) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        # `update(Item)` and `sa.update(Item)` alike.
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in WRITES and node.args:
            target = node.args[0]
            if isinstance(target, ast.Name) and target.id in foreign:
                found.append(f"{name}({target.id}) at line {node.lineno}")
        if name in foreign:
            found.append(f"{name}(...) constructed at line {node.lineno}")
    return found


def test_no_domain_writes_another_domains_tables() -> None:
    offences = []
    for domain in DOMAINS:
        for path in sorted((SRC / domain).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            foreign = _foreign_models(tree, domain)
            if foreign:
                offences += [f"{path.relative_to(SRC)}: {w}" for w in _writes_to(tree, foreign)]
    assert offences == [], "write through the owning domain's service or a hook"


def test_the_check_sees_a_write_to_another_domains_table() -> None:
    sample = ast.parse(
        "from takt.items.models import Item\n"
        "import sqlalchemy as sa\n"
        "from sqlalchemy import update\n"
        "async def f(session):\n"
        "    await session.execute(update(Item).values(status_id=None))\n"
        "    session.add(Item(key='X-1'))\n"
        "    await session.execute(sa.delete(Item))\n"
    )
    foreign = _foreign_models(sample, "workflow")
    assert sorted(_writes_to(sample, foreign)) == [
        "Item(...) constructed at line 6",
        "delete(Item) at line 7",
        "update(Item) at line 5",
    ]
