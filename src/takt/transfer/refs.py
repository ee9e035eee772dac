"""Ids in an export document: each becomes a reference local to the document, and back.

The server's ids mean nothing elsewhere (and collide when a project is imported next to its
original), yet history and sprint reports are full of them: a sprint's id in a scope change, a
comment's id in its events, a user's id in a membership change. Export gives every id the next
reference the first time it meets it (rows first, in document order, then the data they carry);
import gives every reference a new id the first time it meets it, and the rows it creates take
the ids of their references. So whatever an id pointed to inside the project, its reference
points to in the copy, and exporting the copy numbers everything the same way again.

In history data and in sprint reports and commitments, a string is an id when it has the shape
the server gives ids (a UUID in lower case); references have that shape too, so a document is
read the same way it was written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from takt.core.models import new_id

_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_id(value: object) -> bool:
    return isinstance(value, str) and _ID.match(value) is not None


def _translate(value: Any, one: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return one(value) if _ID.match(value) else value
    if isinstance(value, list):
        return [_translate(v, one) for v in value]
    if isinstance(value, dict):
        return {k: _translate(v, one) for k, v in value.items()}
    return value


class ToRefs:
    """The export side: id → reference, numbered in order of first appearance."""

    def __init__(self) -> None:
        self._refs: dict[str, str] = {}

    def ref(self, id: str) -> str:
        found = self._refs.get(id)
        if found is None:
            found = self._refs[id] = f"00000000-0000-4000-8000-{len(self._refs) + 1:012x}"
        return found

    def maybe(self, id: str | None) -> str | None:
        return self.ref(id) if id else None

    def data(self, value: Any) -> Any:
        """`value` (JSON) with every id in it replaced by its reference."""
        return _translate(value, self.ref)


class FromRefs:
    """The import side: reference → a new id, made the first time the reference is met."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}

    def id(self, ref: str | None) -> str:
        if ref is None:
            return new_id()
        found = self._ids.get(ref)
        if found is None:
            found = self._ids[ref] = new_id()
        return found

    def bind(self, ref: str | None, id: str) -> None:
        """Rows created before the references are read (the project) keep their own id."""
        if ref is not None:
            self._ids[ref] = id

    def ids_in_order(self, refs: Sequence[str | None]) -> list[str]:
        """New ids for rows listed in document order, ascending: rows that tie on their sort
        time keep their order, since the id breaks the tie."""
        fresh = sorted(new_id() for _ in refs)
        for ref, id in zip(refs, fresh, strict=True):
            if ref is not None:
                if ref in self._ids:
                    raise ValueError(f"reference {ref} used by two rows")
                self._ids[ref] = id
        return fresh

    def data(self, value: Any) -> Any:
        """`value` (JSON) with every reference in it replaced by its new id."""
        return _translate(value, self.id)
