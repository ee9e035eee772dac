"""The guides stand alone: README.md and docs/ link only to files of this repository and to the
local server, never to a page elsewhere that may move, vanish or say something else."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("**/*.md")])
# Addresses a reader's own machine answers (the server they run) or that are examples by
# definition (RFC 2606), never a page somewhere else.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]"}
EXAMPLE_HOSTS = re.compile(r"(^|\.)(example|test|invalid)(\.(com|net|org))?$")

URL = re.compile(r"\b(?:https?|ftp)://[^\s<>()`'\"\]]+", re.IGNORECASE)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
# A path that climbs up (`../…`) or names the machine's folders, written as code rather than as a
# link: it must still be a file of the repository.
OUTSIDE_PATH = re.compile(r"(?<![\w.])\.\./[\w./-]*|(?<![\w/])/work/[\w./-]*")


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def is_local(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in LOCAL_HOSTS or bool(EXAMPLE_HOSTS.search(host))


def links_of(text: str) -> list[str]:
    return LINK.findall(text) + REFERENCE.findall(text)


def test_there_are_pages_to_check() -> None:
    names = {page_id(p) for p in PAGES}
    assert {"README.md", "docs/metrics.md", "docs/conventions.md", "docs/sprints.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_page_names_no_address_outside_the_local_server(page: Path) -> None:
    outside = [url for url in URL.findall(page.read_text()) if not is_local(url)]
    assert not outside, f"{page_id(page)} links out of the repository: {outside}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_page_names_no_path_outside_the_repository(page: Path) -> None:
    text = page.read_text()
    climbing = []
    for path in OUTSIDE_PATH.findall(text):
        resolved = (page.parent / path).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            climbing.append(path)
    assert not climbing, f"{page_id(page)} points outside the repository: {climbing}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_resolves_to_a_file_of_the_repository(page: Path) -> None:
    broken = []
    for target in links_of(page.read_text()):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or target.startswith("#") or target.startswith("mailto:"):
            continue
        resolved = (page.parent / unquote(parts.path)).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(target)
    assert not broken, f"{page_id(page)} has links that resolve to no file here: {broken}"


@pytest.mark.parametrize(
    ("text", "outside"),
    [
        ("see https://github.com/acme/takt", True),
        ("[docs](http://docs.example.org/x)", False),
        ("curl http://127.0.0.1:8000/api/v1/projects", False),
        ("open http://localhost:8000/docs", False),
        ("email ada@example.com at https://example.com/", False),
        ("the [guide](https://fastapi.tiangolo.com/)", True),
    ],
)
def test_address_check_tells_outside_from_local(text: str, outside: bool) -> None:
    found = [url for url in URL.findall(text) if not is_local(url)]
    assert bool(found) is outside
