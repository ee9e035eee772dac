"""The hashed lock files stay in step with pyproject.toml's dependency ranges."""

from __future__ import annotations

import shutil
from pathlib import Path

from scripts import lockfile


def _copy_project(tmp_path: Path) -> Path:
    for name in ("pyproject.toml", *lockfile.LOCKS):
        shutil.copy(lockfile.ROOT / name, tmp_path / name)
    return tmp_path


def test_committed_locks_match_pyproject() -> None:
    assert lockfile.problems() == []


def test_every_locked_requirement_carries_hashes() -> None:
    for name in lockfile.LOCKS:
        text = (lockfile.ROOT / name).read_text()
        pins = lockfile._pins(text)
        assert pins, name
        assert text.count("==") <= text.count("--hash=sha256:"), name


def test_a_changed_range_makes_the_lock_stale(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"orjson>=3.10"', '"orjson>=3.9"'))
    found = lockfile.problems(root)
    assert any("other ranges" in problem for problem in found)


def test_a_new_dependency_without_a_pin_is_reported(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"redis>=5.0",', '"redis>=5.0",\n    "left-pad>=1.0",')
    )
    lockfile.stamp(root)
    assert any("no pin for left-pad" in problem for problem in lockfile.problems(root))


def test_a_pin_outside_its_range_is_reported(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    lock = root / "requirements.lock"
    pinned = lockfile._pins(lock.read_text())["orjson"]
    lock.write_text(lock.read_text().replace(f"orjson=={pinned}", "orjson==3.0.0"))
    assert any("orjson==3.0.0, outside" in problem for problem in lockfile.problems(root))
