"""Risk rows to the API's response shapes: the one place a `Risk` becomes a `RiskRead`."""

from __future__ import annotations

from datetime import date
from typing import Any

from takt.auth.models import User
from takt.auth.schemas import UserSummary
from takt.projects.models import Project
from takt.risks.schemas import RiskMatrix, RiskRead
from takt.risks.service import ShownRisk, is_overdue, severity_of, today_of


def _person(user: User | None) -> UserSummary | None:
    if user is None:
        return None
    return UserSummary(id=user.id, username=user.username, display_name=user.display_name)


def risk_read(shown: ShownRisk, project: Project, *, today: date | None = None) -> RiskRead:
    """The risk as the API shows it. `overdue` compares its review date with today in the
    project's time zone (pass `today` to build a page of them with one look at the clock)."""
    risk = shown.risk
    return RiskRead.model_validate(
        {
            "id": risk.id,
            "project_key": project.key,
            "title": risk.title,
            "description": risk.description,
            "likelihood": risk.likelihood,
            "impact": risk.impact,
            "score": risk.score,
            "severity": severity_of(risk.score),
            "owner": _person(shown.owner),
            "mitigation": risk.mitigation,
            "status": risk.status,
            "review_date": risk.review_date,
            "overdue": is_overdue(risk, today or today_of(project)),
            "item_keys": shown.item_keys,
            "sprint_ids": shown.sprint_ids,
            "blocker_id": risk.blocker_id,
            "created_at": risk.created_at,
            "updated_at": risk.updated_at,
            "version": risk.version,
        }
    )


def risk_body(shown: ShownRisk, project: Project) -> bytes:
    """The risk's answer as bytes, to tag by its body (`concurrency.representation_etag`): it
    shows its owner's name, its items' keys and whether it is overdue today, none of which moves
    the risk's version."""
    return risk_read(shown, project).model_dump_json().encode()


def risk_reads(rows: list[ShownRisk], project: Project) -> list[RiskRead]:
    today = today_of(project)
    return [risk_read(shown, project, today=today) for shown in rows]


def matrix_read(counts: dict[str, Any]) -> RiskMatrix:
    return RiskMatrix.model_validate(counts)
