"""In-transaction hooks: how a lower domain lets a higher one react without importing it.

A lower domain declares a hook next to its service (`projects/hooks.py`):

    project_created = Hook[ProjectAccess]("projects.project_created", required=True)

and fires it where the change happens: `await project_created.fire(session, access)`. A higher
domain subscribes a handler in its `subscriptions.py`; `takt/wiring.py` connects every
subscription once at start-up. Handlers run one after the other, in subscription order, in the
caller's session and transaction: they may write and raise domain errors, and a raise rolls the
whole request back. A hook whose work must not be skipped is `required`: firing it before
anything subscribed raises `HookNotConnected` instead of silently doing half a change.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

Payload = TypeVar("Payload")
Handler = Callable[[AsyncSession, Payload], Awaitable[None]]

# Weak: a hook a test declares for itself goes away with the test; the domains' hooks live in
# their modules for the life of the process.
_HOOKS: weakref.WeakValueDictionary[str, Hook[Any]] = weakref.WeakValueDictionary()


class HookNotConnected(RuntimeError):
    """A required hook fired with no subscriber: the start-up wiring (`takt.wiring.connect`)
    was not run in this process. A programming error, never the caller's."""


class Hook(Generic[Payload]):
    """A named point where a lower domain lets higher ones act, in the same transaction."""

    def __init__(self, name: str, *, required: bool = False) -> None:
        if name in _HOOKS:
            raise ValueError(f"A hook named {name!r} is declared twice.")
        self.name = name
        self.required = required
        self._handlers: list[Handler[Payload]] = []
        _HOOKS[name] = self

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, required={self.required})"

    @property
    def handlers(self) -> tuple[Handler[Payload], ...]:
        return tuple(self._handlers)

    def subscribe(self, handler: Handler[Payload]) -> Handler[Payload]:
        """Run `handler` whenever the hook fires. Subscribing the same handler again changes
        nothing, so wiring may run more than once (every app a test process builds)."""
        if handler not in self._handlers:
            self._handlers.append(handler)
        return handler

    def unsubscribe(self, handler: Handler[Payload]) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    async def fire(self, session: AsyncSession, payload: Payload) -> None:
        """Run every handler with `payload` in the caller's transaction; their errors
        propagate to the caller (and roll its transaction back)."""
        if self.required and not self._handlers:
            raise HookNotConnected(
                f"The hook {self.name!r} fired with no subscriber: call takt.wiring.connect() "
                "at start-up."
            )
        for handler in tuple(self._handlers):
            await handler(session, payload)


def declared_hooks() -> list[Hook[Any]]:
    """Every hook alive now (those of the modules imported so far), by name."""
    return sorted(_HOOKS.values(), key=lambda hook: hook.name)
