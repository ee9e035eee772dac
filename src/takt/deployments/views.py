"""Environment and deployment rows to the API's response shapes."""

from __future__ import annotations

from takt.auth.schemas import UserSummary
from takt.deployments.models import Environment
from takt.deployments.schemas import (
    DeploymentDetail,
    DeploymentRead,
    EnvironmentRead,
    EnvironmentRef,
    Shipped,
    ShippedCommit,
    ShippedItem,
    ShippedPullRequest,
)
from takt.deployments.service import ShownDeployment
from takt.deployments.shipped import ShippedView
from takt.workflow.schemas import StatusRef


def environment_ref(env: Environment) -> EnvironmentRef:
    return EnvironmentRef(id=env.id, name=env.name, type=env.type)


def environment_read(env: Environment, project_key: str) -> EnvironmentRead:
    return EnvironmentRead(
        id=env.id,
        name=env.name,
        type=env.type,
        project_key=project_key,
        position=env.position,
        created_at=env.created_at,
        updated_at=env.updated_at,
        version=env.version,
    )


def deployment_read(shown: ShownDeployment, project_key: str) -> DeploymentRead:
    d, reporter = shown.deployment, shown.reporter
    return DeploymentRead(
        id=d.id,
        project_key=project_key,
        environment=environment_ref(shown.environment),
        repository_id=d.repository_id,
        source=d.source,
        external_id=d.external_id,
        pipeline_id=d.pipeline_id,
        sequence=d.sequence,
        ref=d.ref,
        sha=d.sha,
        version=d.release_version,
        description=d.description,
        url=d.url,
        state=d.state,
        started_at=d.started_at,
        finished_at=d.finished_at,
        succeeded_at=d.succeeded_at,
        triggered_by=d.triggered_by,
        reported_by=(
            UserSummary(
                id=reporter.id, username=reporter.username, display_name=reporter.display_name
            )
            if reporter is not None
            else None
        ),
        is_hotfix=d.is_hotfix,
        is_rollback=d.is_rollback,
        fixes_deployment_id=d.fixes_deployment_id,
        failed=d.failed_at is not None,
        failed_at=d.failed_at,
        restored_at=d.restored_at,
        previous_deployment_id=d.previous_deployment_id,
        shipped_commit_count=d.shipped_commit_count,
        shipped_item_count=shown.shipped_item_count,
        shipped_complete=d.shipped_complete,
        revision=d.version,
        created_at=d.created_at,
        updated_at=d.updated_at,
    )


def deployment_detail(
    shown: ShownDeployment, project_key: str, shipped: ShippedView
) -> DeploymentDetail:
    d = shown.deployment
    return DeploymentDetail(
        **deployment_read(shown, project_key).model_dump(),
        shipped=Shipped(
            complete=d.shipped_complete,
            commit_count=d.shipped_commit_count,
            commits=[
                ShippedCommit(
                    sha=sha,
                    committed_at=committed_at,
                    message=commit.message.split("\n", 1)[0][:255] if commit else None,
                    author=(commit.author_login or commit.author_name) if commit else None,
                )
                for sha, committed_at, commit in shipped.commits
            ],
            pull_requests=[
                ShippedPullRequest(
                    id=pr.id,
                    repository_id=pr.repository_id,
                    number=pr.number,
                    title=pr.title,
                    url=pr.url,
                    state=pr.state,
                )
                for pr in shipped.pull_requests
            ],
            items=[
                ShippedItem(
                    key=item.key,
                    title=item.title,
                    status=StatusRef(id=status.id, name=status.name, category=status.category),
                )
                for item, status in shipped.items
            ],
        ),
    )
