"""ETags and If-Match / If-None-Match for versioned resources.

The version check itself is atomic: models with `VersionedMixin` issue
`UPDATE … WHERE id = ? AND version = ?`; a lost race raises StaleDataError, rendered as 412.
"""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError
from starlette.responses import Response

from takt.core.errors import PreconditionFailed


def etag_for(version: int) -> str:
    return f'"v{version}"'


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def check_if_match(if_match: str | None, version: int) -> None:
    """Raise 412 unless `If-Match` is absent, `*`, or names the current version."""
    if if_match is None:
        return
    tags = _tags(if_match)
    if "*" in tags or etag_for(version) in tags:
        return
    raise PreconditionFailed(
        f"If-Match {if_match} does not match the current version {etag_for(version)}."
    )


def is_not_modified(if_none_match: str | None, version: int) -> bool:
    if not if_none_match:
        return False
    tags = _tags(if_none_match)
    return "*" in tags or etag_for(version) in tags


def stale_to_precondition(exc: StaleDataError) -> PreconditionFailed:
    return PreconditionFailed("The resource was changed by another request; read it again.")


def not_modified_response(version: int) -> Response:
    return Response(status_code=304, headers={"ETag": etag_for(version)})
