"""What a hanging test was waiting on.

pyproject.toml gives every test 300 s (pytest-timeout) and has faulthandler print every thread's
stack at 240 s. Most tests are coroutines, so a thread stack shows only the event loop's select();
this prints every asyncio task's stack first, on the same stream, so CI's output names the await
that never returned.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Generator

import pytest

try:  # pytest's own stream for faulthandler (private: without it, nothing is printed here)
    from _pytest.faulthandler import fault_handler_stderr_fd_key as _stderr_key
except ImportError:  # pragma: no cover - a pytest that moved it
    _stderr_key = None  # type: ignore[assignment]

FAULTHANDLER_STDERR: pytest.StashKey[int] | None = _stderr_key

# Before faulthandler (240 s) and pytest-timeout (300 s) in pyproject.toml.
TASK_STACKS_AFTER_SECONDS = float(os.environ.get("TAKT_TEST_TASK_STACKS_AFTER", "230"))

_session_loop: asyncio.AbstractEventLoop | None = None


@pytest.fixture(scope="session", autouse=True)
async def _remember_the_session_loop() -> AsyncIterator[None]:
    global _session_loop
    _session_loop = asyncio.get_running_loop()
    yield
    _session_loop = None


def _print_task_stacks(config: pytest.Config, nodeid: str) -> None:
    loop = _session_loop
    if loop is None or FAULTHANDLER_STDERR is None:
        return
    fd = config.stash.get(FAULTHANDLER_STDERR, None)
    if fd is None:
        return
    # Read from this thread while the loop may run: good enough for a report, and all_tasks
    # copes with the set changing under it.
    tasks = asyncio.all_tasks(loop)
    with os.fdopen(os.dup(fd), "w") as out:
        if not tasks:
            out.write(f"\n{nodeid}: still running, no asyncio task (see the threads' stacks)\n")
        else:
            out.write(f"\n{nodeid}: still running; its event loop's {len(tasks)} tasks:\n")
        for task in tasks:
            out.write(f"--- {task!r}\n")
            task.print_stack(file=out)
        out.flush()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    timer = threading.Timer(
        TASK_STACKS_AFTER_SECONDS, _print_task_stacks, args=(item.config, item.nodeid)
    )
    timer.daemon = True
    timer.start()
    try:
        return (yield)
    finally:
        timer.cancel()
