"""Readiness answers: the one place an evaluation, a policy or a timeline becomes a response."""

from __future__ import annotations

from takt.readiness.schemas import (
    CheckResult,
    PromotionStage,
    PromotionTimeline,
    ReadinessAnswer,
    ReadinessPolicyRead,
)
from takt.readiness.service import Evaluation, PolicyView, Timeline


def readiness_read(evaluation: Evaluation) -> ReadinessAnswer:
    return ReadinessAnswer(
        ready=evaluation.ready,
        environment=evaluation.environment,
        ref=evaluation.ref,
        items=evaluation.items,
        checks=[
            CheckResult(
                check=check.name,
                enabled=check.enabled,
                passed=check.passed,
                reason=check.reason,
                details=check.details,
            )
            for check in evaluation.checks
        ],
        evaluated_at=evaluation.evaluated_at,
    )


def policy_read(view: PolicyView) -> ReadinessPolicyRead:
    return ReadinessPolicyRead(
        project_key=view.project_key,
        checks=view.checks,
        updated_at=view.updated_at,
        version=view.version,
    )


def timeline_read(timeline: Timeline) -> PromotionTimeline:
    return PromotionTimeline(
        item_key=timeline.item_key,
        pull_request_id=timeline.pull_request_id,
        stages=[
            PromotionStage(
                stage=stage.stage,
                environment=stage.environment,
                environment_type=stage.environment_type,
                deployment_id=stage.deployment_id,
                at=stage.at,
                seconds_since_previous=stage.seconds_since_previous,
            )
            for stage in timeline.stages
        ],
        total_seconds=timeline.total_seconds,
    )
