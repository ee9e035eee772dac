"""Reading a provider's JSON payload defensively: each getter checks the type of what it takes
and raises `WrongShape` naming the field, so a payload that is JSON but not the shape its event
says is recorded as failed with that reason (never a 500). Optional objects may be missing or
null; text may be null where providers send null (a pull request without a description)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from takt.core.bounds import FIRST_INSTANT, LAST_INSTANT, in_instants
from takt.delivery.facts import PullRequestChange, PushFacts
from takt.deployments.facts import DeploymentReport


class WrongShape(ValueError):
    """The payload is JSON but not the shape its event says."""


@dataclass(frozen=True)
class Ignored:
    """A delivery Takt accepts and does nothing with, and why."""

    reason: str


@dataclass(frozen=True)
class Deployments:
    """The deployments a delivery reports, in the payload's order: one for GitHub's
    `deployment`/`deployment_status` and GitLab's `Deployment Hook`, one per deployment job
    that ran for a `Pipeline Hook`."""

    reports: tuple[DeploymentReport, ...]


@dataclass(frozen=True)
class Parsed:
    """What a parser made of a delivery: the action it reports (for the inbox), the
    repository's full name in the payload, and what to record (or why nothing)."""

    action: str | None
    repository: str | None
    outcome: PullRequestChange | PushFacts | Deployments | Ignored


Json = dict[str, Any]


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def obj(data: Json, key: str, path: str = "") -> Json:
    value = data.get(key)
    if not isinstance(value, dict):
        raise WrongShape(f"`{_at(path, key)}` must be an object")
    return value


def opt_obj(data: Json, key: str, path: str = "") -> Json | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise WrongShape(f"`{_at(path, key)}` must be an object or null")
    return value


def array(data: Json, key: str, path: str = "") -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise WrongShape(f"`{_at(path, key)}` must be an array")
    return value


def objects(data: Json, key: str, path: str = "") -> list[Json]:
    found = array(data, key, path)
    for index, value in enumerate(found):
        if not isinstance(value, dict):
            raise WrongShape(f"`{_at(path, key)}[{index}]` must be an object")
    return found


def text(data: Json, key: str, path: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise WrongShape(f"`{_at(path, key)}` must be a string")
    return value


def opt_text(data: Json, key: str, path: str = "") -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WrongShape(f"`{_at(path, key)}` must be a string or null")
    return value


def integer(data: Json, key: str, path: str = "") -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise WrongShape(f"`{_at(path, key)}` must be an integer")
    if not 0 <= value < 2**53:
        raise WrongShape(f"`{_at(path, key)}` is out of range")
    return value


def opt_int(data: Json, key: str, path: str = "") -> int | None:
    if data.get(key) is None:
        return None
    return integer(data, key, path)


def opt_bool(data: Json, key: str, path: str = "") -> bool | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise WrongShape(f"`{_at(path, key)}` must be true or false")
    return value


def ident(data: Json, key: str, path: str = "") -> str | None:
    """An id providers send as a number or a string."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise WrongShape(f"`{_at(path, key)}` must be a number or a string")
    return str(value)[:64]


def bounded(value: str | None, limit: int) -> str | None:
    """Text cut to what Takt stores (a column's length); empty or blank text is None."""
    if value is None or not value.strip():
        return None
    return value.strip()[:limit]


# What a deployment stores (takt.deployments.models): names, refs, SHAs, URLs, labels.
ENVIRONMENT_NAME_MAX = 64
REF_MAX = 255
URL_MAX = 2048
LABEL_MAX = 255
DESCRIPTION_MAX = 2000
_SHA = re.compile(r"[0-9a-f]{7,64}")


def environment_name(data: Json, key: str, path: str = "") -> str:
    """An environment's name as a provider gives it (Takt matches names case-insensitively)."""
    name = text(data, key, path).strip()
    if not name:
        raise WrongShape(f"`{_at(path, key)}` is empty")
    if len(name) > ENVIRONMENT_NAME_MAX:
        raise WrongShape(
            f"`{_at(path, key)}` is longer than {ENVIRONMENT_NAME_MAX} characters,"
            " the longest environment name Takt keeps"
        )
    return name


def web_url(value: str | None) -> str | None:
    """A link to show: `http(s)://…` only (a `javascript:` URL in a payload is never a link),
    None otherwise or when longer than Takt keeps."""
    found = bounded(value, URL_MAX + 1)
    if found is None or len(found) > URL_MAX:
        return None
    return found if found.lower().startswith(("https://", "http://")) else None


def commit_sha(value: str | None, path: str) -> str | None:
    """A commit SHA (7 to 64 hex digits, lower-cased); None when not given."""
    if value is None or not value.strip():
        return None
    sha = value.strip().lower()
    if not _SHA.fullmatch(sha):
        raise WrongShape(f"`{path}` is not a commit SHA: {value[:70]!r}")
    return sha


def parse_time(value: str) -> datetime:
    """ISO 8601 (`2019-05-15T15:20:33Z`, `2012-01-03T23:36:29+02:00`) or GitLab's
    `2015-05-17 18:21:36 UTC`; a time without a zone is UTC. The time keeps the offset it was
    given: near 0001-01-01 or 9999-12-31 it may have no equivalent in UTC, so it is compared
    with the bounds (safe at any offset) before it is converted."""
    cleaned = value.strip()
    if cleaned.endswith(" UTC"):
        cleaned = cleaned[:-4] + "+00:00"
    moment = datetime.fromisoformat(cleaned)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


# The API's instants (core.bounds), as the reason for a time outside them says them.
_INSTANTS = f"from {FIRST_INSTANT:%Y-%m-%dT%H:%M:%SZ} to {LAST_INSTANT:%Y-%m-%dT%H:%M:%SZ}"


def _given_time(data: Json, key: str, path: str) -> tuple[datetime, str] | None:
    """The time at `key` as the payload gives it (at its own offset) and its text; None when
    missing or null."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WrongShape(f"`{_at(path, key)}` must be a timestamp string")
    try:
        return parse_time(value), value
    except ValueError as exc:
        raise WrongShape(f"`{_at(path, key)}` is not a timestamp: {value[:40]!r}") from exc


def _out_of_range(path: str, key: str, value: str) -> WrongShape:
    return WrongShape(f"`{_at(path, key)}` is not a timestamp {_INSTANTS}: {value[:40]!r}")


def timestamp(data: Json, key: str, path: str = "") -> datetime:
    found = opt_timestamp(data, key, path)
    if found is None:
        raise WrongShape(f"`{_at(path, key)}` must be a timestamp")
    return found


def opt_timestamp(data: Json, key: str, path: str = "") -> datetime | None:
    """A time of a pull request, review or deployment, in UTC, in the range of the API's
    instants (`core.bounds`): the same deployment sent through the API would be refused outside
    it, and a year-9999 one would stay the newest for good."""
    given = _given_time(data, key, path)
    if given is None:
        return None
    moment, value = given
    if not in_instants(moment):
        raise _out_of_range(path, key, value)
    return moment.astimezone(UTC)


def commit_time(data: Json, key: str, path: str = "") -> datetime | None:
    """A commit's time (its git date) in UTC; None when not given, or when before 1970.

    After the last instant it fails the delivery like every other provider time (no commit is
    dated year 9999). Before 1970 it doesn't: git dates may predate it (history imported from
    older systems) and the commit is real, but Takt keeps no instant before 1970 (an exported
    project's shipped commits are `Instant`s, which an import checks), so the commit is kept
    without its time, as one whose payload gives none, rather than failing the push and losing
    the push's other commits."""
    given = _given_time(data, key, path)
    if given is None:
        return None
    moment, value = given
    if moment < FIRST_INSTANT:
        return None
    if moment > LAST_INSTANT:
        raise _out_of_range(path, key, value)
    return moment.astimezone(UTC)
