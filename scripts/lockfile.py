"""Keeps the hashed lock files in step with pyproject.toml's dependency ranges.

`make lock` compiles requirements.lock (the server) and requirements-test.lock (server and test
tools) with uv and stamps each with a digest of the ranges it was compiled from; `make check`
fails when pyproject.toml's ranges no longer match a lock's stamp, or when a locked pin falls
outside a range (someone edited one file without the other).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"requirements.lock": (), "requirements-test.lock": ("test",)}
STAMP = "# pyproject-ranges-sha256: "
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _requirements(root: Path, extras: tuple[str, ...]) -> list[str]:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    ranges = list(project["dependencies"])
    for extra in extras:
        ranges += project["optional-dependencies"][extra]
    return ranges


def _digest(root: Path, extras: tuple[str, ...]) -> str:
    canonical = json.dumps(sorted(_requirements(root, extras)), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _pins(text: str) -> dict[str, str]:
    return {
        canonicalize_name(m.group(1)): m.group(2)
        for line in text.splitlines()
        if (m := PIN.match(line.strip()))
    }


def stamp(root: Path = ROOT) -> None:
    for name, extras in LOCKS.items():
        path = root / name
        lines = [line for line in path.read_text().splitlines() if not line.startswith(STAMP)]
        path.write_text("\n".join([STAMP + _digest(root, extras), *lines]) + "\n")


def problems(root: Path = ROOT) -> list[str]:
    """What makes the lock files disagree with pyproject.toml (nothing when they are in step)."""
    found: list[str] = []
    for name, extras in LOCKS.items():
        path = root / name
        if not path.exists():
            found.append(f"{name} is missing")
            continue
        text = path.read_text()
        if STAMP + _digest(root, extras) not in text:
            found.append(f"{name} was compiled from other ranges than pyproject.toml's")
        pins = _pins(text)
        for raw in _requirements(root, extras):
            requirement = Requirement(raw)
            pinned = pins.get(canonicalize_name(requirement.name))
            if pinned is None:
                found.append(f"{name} has no pin for {requirement.name}")
            elif not requirement.specifier.contains(pinned, prereleases=True):
                found.append(f"{name} pins {requirement.name}=={pinned}, outside {raw}")
    return found


def check() -> int:
    found = problems()
    for problem in found:
        print(f"lock: {problem}; run `make lock` and commit the result", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "stamp":
        stamp()
    else:
        sys.exit(check())
