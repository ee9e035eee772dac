"""Deployments in providers' webhook payloads, as `DeploymentReport`s: GitHub's `deployment`
and `deployment_status`, GitLab's `Deployment Hook` and `Pipeline Hook` (github.py and
gitlab.py send those events here).

GitHub identifies a deployment by its id, which both events carry: whichever comes first
records the deployment, the other one finds it (`external_id` is GitHub's deployment id).

A GitLab deployment is made by one job (the job with an `environment` that deploys), and both
hooks name that job: the Deployment Hook as `deployable_id`, the Pipeline Hook as the build's
`id`. Takt identifies a GitLab deployment by its job (`external_id` `job:<id>`), so the two
hooks about the same deployment record one deployment; a deployment made without a job
(through GitLab's API) is `deployment:<GitLab's deployment id>`."""

from __future__ import annotations

import re

from takt.deployments.facts import DeploymentReport, DeploymentState, EnvironmentType
from takt.integrations.payloads import (
    DESCRIPTION_MAX,
    LABEL_MAX,
    REF_MAX,
    Deployments,
    Ignored,
    Json,
    WrongShape,
    bounded,
    commit_sha,
    environment_name,
    ident,
    obj,
    objects,
    opt_bool,
    opt_obj,
    opt_text,
    opt_timestamp,
    text,
    timestamp,
    web_url,
)

FINISHED = ("success", "failure")
# The longest `external_id` a deployment keeps.
EXTERNAL_ID_MAX = 64

# GitHub ------------------------------------------------------------------------------------------

# A deployment status's `state` in Takt's terms. `queued` waits like `pending`; `error` (the
# deployment couldn't run) is a failure as much as `failure` is. `inactive` is not here: GitHub
# marks an environment's earlier deployment inactive when a newer one succeeds (replaced, not
# undone), so it changes nothing in Takt.
GITHUB_STATES: dict[str, DeploymentState] = {
    "pending": "pending",
    "queued": "pending",
    "in_progress": "in_progress",
    "success": "success",
    "failure": "failure",
    "error": "failure",
}
INACTIVE = (
    "deployment status `inactive`: GitHub marks an environment's earlier deployment inactive"
    " when a newer one succeeds (replaced, not rolled back), so Takt leaves it as it was"
)
# Where a status links to: the run's log first, then the target, then the deployed site.
URL_KEYS = ("log_url", "target_url", "environment_url")
WORKFLOW_RUN = (
    "event `workflow_run` is not used: a workflow's job with an `environment` makes GitHub send"
    " `deployment` and `deployment_status`, which Takt reads"
)


def _label(user: Json | None, key: str, path: str) -> str | None:
    """Who triggered a deployment, as the provider names them (a login, a username)."""
    return bounded(opt_text(user, key, path), LABEL_MAX) if user is not None else None


def _github_report(
    deployment: Json, state: DeploymentState, status: Json | None = None
) -> DeploymentReport:
    """One GitHub deployment (the `deployment` object both events carry), in the state its
    latest status says."""
    path = "deployment"
    external_id = ident(deployment, "id", path)
    if external_id is None:
        raise WrongShape("`deployment.id` must be a number or a string")
    finished_at = url = description = None
    if status is not None:
        spath = "deployment_status"
        at = opt_timestamp(status, "created_at", spath) or opt_timestamp(
            status, "updated_at", spath
        )
        finished_at = at if state in FINISHED else None
        links = (web_url(opt_text(status, key, spath)) for key in URL_KEYS)
        url = next((link for link in links if link is not None), None)
        description = bounded(opt_text(status, "description", spath), DESCRIPTION_MAX)
    production = opt_bool(deployment, "production_environment", path)
    return DeploymentReport(
        environment=environment_name(deployment, "environment", path),
        state=state,
        source="github",
        environment_type="production" if production else None,
        external_id=external_id,
        ref=bounded(opt_text(deployment, "ref", path), REF_MAX),
        sha=commit_sha(opt_text(deployment, "sha", path), f"{path}.sha"),
        description=bounded(opt_text(deployment, "description", path), DESCRIPTION_MAX)
        or description,
        url=url,
        started_at=timestamp(deployment, "created_at", path),
        finished_at=finished_at,
        triggered_by=_label(opt_obj(deployment, "creator", path), "login", f"{path}.creator"),
    )


def github_deployment(payload: Json, action: str) -> Deployments | Ignored:
    """`deployment` (`created`): a deployment waiting for its first status."""
    if action != "created":
        return Ignored(f"deployment action `{action[:60]}` is not used")
    return Deployments((_github_report(obj(payload, "deployment"), "pending"),))


def github_deployment_status(payload: Json, action: str) -> Deployments | Ignored:
    """`deployment_status` (`created`): the deployment, in the state of its new status."""
    if action != "created":
        return Ignored(f"deployment_status action `{action[:60]}` is not used")
    status = obj(payload, "deployment_status")
    raw = text(status, "state", "deployment_status").lower()
    if raw == "inactive":
        return Ignored(INACTIVE)
    state = GITHUB_STATES.get(raw)
    if state is None:
        return Ignored(f"deployment status `{raw[:30]}` is not used")
    return Deployments((_github_report(obj(payload, "deployment"), state, status),))


# GitLab ------------------------------------------------------------------------------------------

# A Deployment Hook's `status` in Takt's terms. GitLab sends it when a deployment starts,
# succeeds, fails or is canceled; `created` and `blocked` (waiting for an approval) wait like
# `pending`. A canceled deployment didn't finish deploying: a failure. `skipped` deployed
# nothing and is ignored.
GITLAB_STATES: dict[str, DeploymentState] = {
    "created": "pending",
    "blocked": "pending",
    "running": "in_progress",
    "success": "success",
    "failed": "failure",
    "canceled": "failure",
}
# A Pipeline Hook's deployment job counts once it runs: a job still waiting (created, pending,
# manual, scheduled…) may never run, and a skipped one, or one canceled or failed before it
# started, deployed nothing.
JOB_STATES: dict[str, DeploymentState] = {
    "running": "in_progress",
    "success": "success",
    "failed": "failure",
    "canceled": "failure",
}
TIERS: dict[str, EnvironmentType] = {
    "production": "production",
    "staging": "staging",
    "testing": "testing",
    "development": "development",
}
MAX_PIPELINE_DEPLOYMENTS = 100
JOB_HOOK = (
    "event `Job Hook` is not used: Takt reads deployment jobs from `Deployment Hook` and"
    " `Pipeline Hook`"
)
# GitLab sends a deployment's full SHA only in `commit_url` (`short_sha` has 8 digits).
_COMMIT_URL = re.compile(r"/commit/([0-9a-fA-F]{40}|[0-9a-fA-F]{64})/?$")


def _tier(data: Json, key: str, path: str) -> EnvironmentType | None:
    """GitLab's deployment tier (`other`, or none: Takt guesses the type from the name)."""
    return TIERS.get((opt_text(data, key, path) or "").lower())


def _gitlab_id(kind: str, value: str | None, path: str) -> str:
    """`job:<id>` or `deployment:<id>`: what identifies a GitLab deployment in Takt."""
    found = f"{kind}:{value}"
    if value is None or len(found) > EXTERNAL_ID_MAX:
        raise WrongShape(f"`{path}` must be a number or a string, and not a long one")
    return found


def _job_url(project: Json | None, job_id: str) -> str | None:
    project_url = opt_text(project, "web_url", "project") if project is not None else None
    return web_url(f"{project_url.rstrip('/')}/-/jobs/{job_id}") if project_url else None


def gitlab_deployment(payload: Json) -> tuple[str, Deployments | Ignored]:
    """A Deployment Hook: one deployment, as its status changed (and that status, for the
    inbox)."""
    status = text(payload, "status").lower()
    state = GITLAB_STATES.get(status)
    if state is None:
        return status[:30], Ignored(f"deployment status `{status[:30]}` is not used")
    deployment_id = ident(payload, "deployment_id")
    job_id = ident(payload, "deployable_id")
    if deployment_id is None and job_id is None:
        raise WrongShape("`deployment_id` must be a number or a string")
    changed_at = opt_timestamp(payload, "status_changed_at")
    found = _COMMIT_URL.search(opt_text(payload, "commit_url") or "")
    sha = found.group(1) if found else opt_text(payload, "short_sha")
    report = DeploymentReport(
        environment=environment_name(payload, "environment"),
        state=state,
        source="gitlab",
        environment_type=_tier(payload, "environment_tier", ""),
        external_id=_gitlab_id("job", job_id, "deployable_id")
        if job_id is not None
        else _gitlab_id("deployment", deployment_id, "deployment_id"),
        ref=bounded(opt_text(payload, "ref"), REF_MAX),
        sha=commit_sha(sha, "commit_url" if found else "short_sha"),
        description=bounded(opt_text(payload, "commit_title"), DESCRIPTION_MAX),
        url=web_url(opt_text(payload, "deployable_url")),
        started_at=None if state in FINISHED else changed_at,
        finished_at=changed_at if state in FINISHED else None,
        triggered_by=_label(opt_obj(payload, "user"), "username", "user"),
    )
    return status, Deployments((report,))


def gitlab_pipeline(payload: Json) -> tuple[str | None, Deployments | Ignored]:
    """A Pipeline Hook: a deployment per job with an `environment` that deploys (its `action`
    is `start`, GitLab's default) and has run; the pipeline's status, for the inbox."""
    path = "object_attributes"
    attributes = obj(payload, path)
    status = bounded(opt_text(attributes, "status", path), 30)
    ref = bounded(opt_text(attributes, "ref", path), REF_MAX)
    sha = commit_sha(opt_text(attributes, "sha", path), f"{path}.sha")
    commit = opt_obj(payload, "commit") or {}
    message = opt_text(commit, "title", "commit") or opt_text(commit, "message", "commit") or ""
    description = bounded(message.strip().split("\n", 1)[0], DESCRIPTION_MAX)
    project = opt_obj(payload, "project")
    pipeline_user = _label(opt_obj(payload, "user"), "username", "user")
    reports: list[DeploymentReport] = []
    waiting: list[str] = []
    for index, build in enumerate(objects(payload, "builds")):
        bpath = f"builds[{index}]"
        environment = opt_obj(build, "environment", bpath)
        if environment is None:
            continue
        epath = f"{bpath}.environment"
        if (opt_text(environment, "action", epath) or "start") != "start":
            continue
        name = environment_name(environment, "name", epath)
        job_status = text(build, "status", bpath).lower()
        started_at = opt_timestamp(build, "started_at", bpath)
        state = JOB_STATES.get(job_status)
        if state is None or (state == "failure" and started_at is None):
            waiting.append(f"`{name}` is {job_status[:20]}")
            continue
        job_id = ident(build, "id", bpath)
        if job_id is None:
            raise WrongShape(f"`{bpath}.id` must be a number or a string")
        if len(reports) == MAX_PIPELINE_DEPLOYMENTS:
            raise WrongShape(f"more than {MAX_PIPELINE_DEPLOYMENTS} deployment jobs")
        finished_at = opt_timestamp(build, "finished_at", bpath)
        reports.append(
            DeploymentReport(
                environment=name,
                state=state,
                source="gitlab",
                environment_type=_tier(environment, "deployment_tier", epath),
                external_id=_gitlab_id("job", job_id, f"{bpath}.id"),
                ref=ref,
                sha=sha,
                description=description,
                url=_job_url(project, job_id),
                started_at=started_at,
                finished_at=finished_at if state in FINISHED else None,
                triggered_by=_label(opt_obj(build, "user", bpath), "username", f"{bpath}.user")
                or pipeline_user,
            )
        )
    if reports:
        return status, Deployments(tuple(reports))
    if waiting:
        reason = "no deployment job of this pipeline has run: " + ", ".join(waiting[:10])
        return status, Ignored(reason)
    return status, Ignored(
        "the pipeline has no deployment job (a job with an `environment` that deploys)"
    )
