"""Reading deployments from providers' payloads (no database): GitHub's `deployment` and
`deployment_status`, GitLab's `Deployment Hook` and `Pipeline Hook`, each from the real fixture
and as it varies, and the shapes that fail with a reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from takt.deployments.facts import DeploymentReport
from takt.integrations import github, gitlab
from takt.integrations.payloads import Deployments, Ignored, Parsed, WrongShape
from tests.delivery.support import fixture

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
GITHUB_SHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
GITLAB_SHA = "279484c09fbe69ededfced8c1bb6e6d24616b468"
PIPELINE_SHA = "bcbb5ec396a2c0f828686f14fac9b80b780504f2"


def reports(parsed: Parsed) -> tuple[DeploymentReport, ...]:
    assert isinstance(parsed.outcome, Deployments), parsed.outcome
    return parsed.outcome.reports


def one(parsed: Parsed) -> DeploymentReport:
    (report,) = reports(parsed)
    return report


def ignored(parsed: Parsed) -> str:
    assert isinstance(parsed.outcome, Ignored), parsed.outcome
    return parsed.outcome.reason


def gh(event: str, payload: Any) -> Parsed:
    return github.parse(event, payload, NOW)


def gl(event: str, payload: Any) -> Parsed:
    return gitlab.parse(event, payload, NOW)


def status_payload(state: str, **status: Any) -> dict[str, Any]:
    payload = fixture("github", "deployment_status.created.json")
    payload["deployment_status"]["state"] = state
    payload["deployment_status"].update(status)
    return payload


# GitHub -------------------------------------------------------------------------------------------


def test_a_github_deployment_is_a_pending_deployment_by_its_id() -> None:
    parsed = gh("deployment", fixture("github", "deployment.created.json"))
    assert parsed.action == "created"
    assert parsed.repository == "Codertocat/Hello-World"
    assert one(parsed) == DeploymentReport(
        environment="production",
        state="pending",
        source="github",
        external_id="145988746",
        ref="master",
        sha=GITHUB_SHA,
        started_at=datetime(2019, 5, 15, 15, 20, 53, tzinfo=UTC),
        triggered_by="Codertocat",
    )


def test_a_github_deployment_status_is_the_same_deployment_in_its_state() -> None:
    report = one(gh("deployment_status", fixture("github", "deployment_status.created.json")))
    assert report.external_id == "145988746"
    assert report.state == "success"
    assert report.environment == "production"
    assert report.sha == GITHUB_SHA
    assert report.started_at == datetime(2019, 5, 15, 15, 20, 53, tzinfo=UTC)
    assert report.finished_at == datetime(2019, 5, 15, 15, 20, 55, tzinfo=UTC)
    # The fixture's empty `description` and `target_url` say nothing.
    assert report.description is None
    assert report.url is None


@pytest.mark.parametrize(
    ("github_state", "state", "finished"),
    [
        ("pending", "pending", False),
        ("queued", "pending", False),
        ("in_progress", "in_progress", False),
        ("success", "success", True),
        ("failure", "failure", True),
        ("error", "failure", True),
    ],
)
def test_each_github_status_state_maps_to_a_takt_state(
    github_state: str, state: str, finished: bool
) -> None:
    report = one(gh("deployment_status", status_payload(github_state)))
    assert report.state == state
    assert (report.finished_at is not None) is finished


def test_an_inactive_status_is_ignored_with_the_reason() -> None:
    reason = ignored(gh("deployment_status", status_payload("inactive")))
    assert "inactive" in reason
    assert "not rolled back" in reason


def test_an_unknown_status_state_is_ignored() -> None:
    assert "not used" in ignored(gh("deployment_status", status_payload("exploded")))


def test_other_actions_than_created_are_ignored() -> None:
    payload = fixture("github", "deployment.created.json")
    payload["action"] = "deleted"
    assert "not used" in ignored(gh("deployment", payload))


def test_the_status_links_to_its_log_then_its_target() -> None:
    with_log = status_payload(
        "success",
        log_url="https://github.com/o/r/actions/runs/1",
        target_url="https://example.com/t",
        description="Deployed",
    )
    report = one(gh("deployment_status", with_log))
    assert report.url == "https://github.com/o/r/actions/runs/1"
    assert report.description == "Deployed"
    target_only = status_payload("success", target_url="https://example.com/t")
    assert one(gh("deployment_status", target_only)).url == "https://example.com/t"


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "ftp://example.com/x", "https://e.com/" + "x" * 2048]
)
def test_only_web_links_of_a_length_takt_keeps_are_links(link: str) -> None:
    report = one(gh("deployment_status", status_payload("success", target_url=link)))
    assert report.url is None
    payload = fixture("gitlab", "deployment.json")
    payload["deployable_url"] = link
    assert one(gl("Deployment Hook", payload)).url is None


def test_a_production_environment_flag_gives_the_type() -> None:
    payload = fixture("github", "deployment.created.json")
    payload["deployment"].update(environment="eu-live", production_environment=True)
    assert one(gh("deployment", payload)).environment_type == "production"
    payload["deployment"]["production_environment"] = False
    assert one(gh("deployment", payload)).environment_type is None


def test_a_workflow_run_is_not_a_deployment() -> None:
    reason = ignored(gh("workflow_run", fixture("github", "workflow_run.completed.json")))
    assert "deployment_status" in reason


def _drop(*path: str | int) -> Any:
    def apply(payload: dict[str, Any]) -> None:
        target: Any = payload
        for key in path[:-1]:
            target = target[key]
        target.pop(path[-1])

    return apply


def _put(value: Any, *path: str | int) -> Any:
    def apply(payload: dict[str, Any]) -> None:
        target: Any = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return apply


D = ("deployment", "deployment.created.json")
S = ("deployment_status", "deployment_status.created.json")


@pytest.mark.parametrize(
    ("sent", "change", "says"),
    [
        (D, _drop("deployment"), "`deployment`"),
        (D, _drop("action"), "`action`"),
        (D, _put(7, "deployment", "environment"), "`deployment.environment`"),
        (D, _put(" ", "deployment", "environment"), "empty"),
        (D, _put("p" * 65, "deployment", "environment"), "64"),
        (D, _put("main", "deployment", "sha"), "SHA"),
        (D, _put(None, "deployment", "id"), "`deployment.id`"),
        (D, _drop("deployment", "created_at"), "created_at"),
        (D, _put("x", "deployment", "created_at"), "timestamp"),
        (D, _put("9999-12-31T23:59:59-05:00", "deployment", "created_at"), "timestamp"),
        (D, _put("0001-01-01T00:00:00+05:00", "deployment", "created_at"), "timestamp"),
        (D, _put("me", "deployment", "creator"), "creator"),
        (S, _drop("deployment"), "`deployment`"),
        (S, _put(None, "deployment_status", "state"), "state"),
        (S, _put(1, "deployment_status", "target_url"), "target_url"),
    ],
)
def test_github_deployments_of_the_wrong_shape_say_what_is_wrong(
    sent: tuple[str, str], change: Any, says: str
) -> None:
    event, name = sent
    payload = fixture("github", name)
    change(payload)
    with pytest.raises(WrongShape, match=says):
        gh(event, payload)


# GitLab: Deployment Hook --------------------------------------------------------------------------


def test_a_gitlab_deployment_is_identified_by_its_job_with_its_full_sha() -> None:
    parsed = gl("Deployment Hook", fixture("gitlab", "deployment.json"))
    assert parsed.action == "success"
    assert parsed.repository == "root/test-deployment-webhooks"
    assert one(parsed) == DeploymentReport(
        environment="staging",
        state="success",
        source="gitlab",
        external_id="job:796",
        ref="1.0.0",
        sha=GITLAB_SHA,
        description="Add new file",
        url="http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796",
        finished_at=datetime(2021, 4, 28, 19, 50, tzinfo=UTC),
        triggered_by="user1",
    )


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("created", "pending"),
        ("blocked", "pending"),
        ("running", "in_progress"),
        ("success", "success"),
        ("failed", "failure"),
        ("canceled", "failure"),
    ],
)
def test_each_gitlab_deployment_status_maps_to_a_takt_state(status: str, state: str) -> None:
    payload = fixture("gitlab", "deployment.json")
    payload["status"] = status
    report = one(gl("Deployment Hook", payload))
    assert report.state == state
    changed = datetime(2021, 4, 28, 19, 50, tzinfo=UTC)
    if state in ("success", "failure"):
        assert (report.started_at, report.finished_at) == (None, changed)
    else:
        assert (report.started_at, report.finished_at) == (changed, None)


def test_a_skipped_gitlab_deployment_is_ignored() -> None:
    payload = fixture("gitlab", "deployment.json")
    payload["status"] = "skipped"
    assert "skipped" in ignored(gl("Deployment Hook", payload))


def test_a_gitlab_deployment_without_a_job_is_known_by_its_deployment_id() -> None:
    payload = fixture("gitlab", "deployment.json")
    payload["deployable_id"] = None
    payload.pop("commit_url")
    payload["environment_tier"] = "production"
    report = one(gl("Deployment Hook", payload))
    assert report.external_id == "deployment:15"
    # Without the commit's URL, the short SHA is all there is.
    assert report.sha == "279484c0"
    assert report.environment_type == "production"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (_drop("status"), "`status`"),
        (_put(None, "environment"), "`environment`"),
        (_put("yesterday", "status_changed_at"), "timestamp"),
        (_put([], "user"), "`user`"),
        (_put("not hex!", "short_sha"), "SHA"),
    ],
)
def test_gitlab_deployments_of_the_wrong_shape_say_what_is_wrong(change: Any, says: str) -> None:
    payload = fixture("gitlab", "deployment.json")
    payload.pop("commit_url")
    change(payload)
    with pytest.raises(WrongShape, match=says):
        gl("Deployment Hook", payload)


def test_a_gitlab_deployment_id_too_long_to_keep_is_the_wrong_shape() -> None:
    payload = fixture("gitlab", "deployment.json")
    payload["deployable_id"] = "7" * 64
    with pytest.raises(WrongShape, match="deployable_id"):
        gl("Deployment Hook", payload)


def test_a_gitlab_deployment_without_any_id_is_the_wrong_shape() -> None:
    payload = fixture("gitlab", "deployment.json")
    payload["deployment_id"] = payload["deployable_id"] = None
    with pytest.raises(WrongShape, match="deployment_id"):
        gl("Deployment Hook", payload)


# GitLab: Pipeline Hook ----------------------------------------------------------------------------


def pipeline(**production: Any) -> dict[str, Any]:
    """The real pipeline payload with its `production` deployment job (builds[0]) changed."""
    payload = fixture("gitlab", "pipeline.json")
    payload["builds"][0].update(production)
    return payload


def test_the_fixtures_pipeline_has_run_no_deployment_job() -> None:
    parsed = gl("Pipeline Hook", fixture("gitlab", "pipeline.json"))
    assert parsed.action == "success"
    assert parsed.repository == "gitlab-org/gitlab-test"
    assert ignored(parsed) == "no deployment job of this pipeline has run: `production` is skipped"


def test_a_pipeline_job_with_an_environment_that_ran_is_a_deployment_by_its_job() -> None:
    payload = pipeline(
        status="success",
        started_at="2016-08-12 15:26:30 UTC",
        finished_at="2016-08-12 15:26:47 UTC",
    )
    assert one(gl("Pipeline Hook", payload)) == DeploymentReport(
        environment="production",
        state="success",
        source="gitlab",
        environment_type="production",
        external_id="job:380",
        ref="master",
        sha=PIPELINE_SHA,
        description="test",
        url="http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/380",
        started_at=datetime(2016, 8, 12, 15, 26, 30, tzinfo=UTC),
        finished_at=datetime(2016, 8, 12, 15, 26, 47, tzinfo=UTC),
        triggered_by="user1",
    )


@pytest.mark.parametrize(
    ("status", "started", "state"),
    [
        ("running", True, "in_progress"),
        ("success", True, "success"),
        ("failed", True, "failure"),
        ("canceled", True, "failure"),
        ("canceled", False, None),
        ("failed", False, None),
        ("created", False, None),
        ("pending", False, None),
        ("manual", False, None),
        ("skipped", False, None),
    ],
)
def test_a_deployment_job_counts_once_it_has_run(
    status: str, started: bool, state: str | None
) -> None:
    payload = pipeline(status=status, started_at="2016-08-12 15:26:30 UTC" if started else None)
    parsed = gl("Pipeline Hook", payload)
    if state is None:
        assert f"`production` is {status}" in ignored(parsed)
    else:
        assert one(parsed).state == state


@pytest.mark.parametrize("action", ["stop", "prepare", "verify", "access"])
def test_jobs_that_dont_deploy_to_their_environment_are_not_deployments(action: str) -> None:
    payload = pipeline(status="success", started_at="2016-08-12 15:26:30 UTC")
    payload["builds"][0]["environment"]["action"] = action
    assert "no deployment job" in ignored(gl("Pipeline Hook", payload))


def test_each_deployment_job_of_a_pipeline_is_a_deployment() -> None:
    payload = pipeline(status="success", started_at="2016-08-12 15:26:30 UTC")
    staging = payload["builds"][4]
    staging.update(status="running", started_at="2016-08-12 15:26:00 UTC")
    staging["environment"] = {"name": "staging"}  # no action: GitLab's default, start
    found = reports(gl("Pipeline Hook", payload))
    assert [(r.external_id, r.environment, r.state) for r in found] == [
        ("job:380", "production", "success"),
        ("job:379", "staging", "in_progress"),
    ]
    # No tier: the type is guessed from the name when the environment is created.
    assert found[1].environment_type is None


def test_a_pipeline_without_a_deployment_job_is_ignored_with_the_reason() -> None:
    payload = fixture("gitlab", "pipeline.json")
    del payload["builds"][0]["environment"]
    assert "no deployment job" in ignored(gl("Pipeline Hook", payload))


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (_drop("object_attributes"), "`object_attributes`"),
        (_put("many", "builds"), "`builds`"),
        (_put(["x"], "builds"), r"`builds\[0\]`"),
        (_put("prod", "builds", 0, "environment"), "environment"),
        (_put(None, "builds", 0, "status"), "status"),
        (_put("bad", "object_attributes", "sha"), "SHA"),
    ],
)
def test_pipelines_of_the_wrong_shape_say_what_is_wrong(change: Any, says: str) -> None:
    payload = pipeline(status="success", started_at="2016-08-12 15:26:30 UTC")
    change(payload)
    with pytest.raises(WrongShape, match=says):
        gl("Pipeline Hook", payload)


def test_a_pipeline_reports_at_most_100_deployments() -> None:
    payload = pipeline(status="success", started_at="2016-08-12 15:26:30 UTC")
    job = payload["builds"][0]
    payload["builds"] = [{**job, "id": 1000 + n} for n in range(101)]
    with pytest.raises(WrongShape, match="100"):
        gl("Pipeline Hook", payload)
    payload["builds"] = payload["builds"][:100]
    assert len(reports(gl("Pipeline Hook", payload))) == 100


def test_a_job_hook_is_ignored_for_the_two_hooks_that_tell_deployments() -> None:
    reason = ignored(gl("Job Hook", fixture("gitlab", "job.json")))
    assert "Deployment Hook" in reason
    assert "Pipeline Hook" in reason
