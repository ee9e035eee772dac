"""Replay webhook payloads to Takt as GitHub or GitLab would send them, signed with the
repository's secret (docs/github.md, docs/gitlab.md).

    python scripts/replay_fixture.py --url "$HOOK_URL" --secret "$SECRET" \\
        --repository acme/checkout --set pull_request.title="DEMO-12 Refunds" \\
        path/to/pull_request.opened.json

The provider comes from the URL (`/hooks/github/…` or `/hooks/gitlab/…`). The event is GitHub's
file name up to the first dot (`pull_request.opened.json` is a `pull_request` event), or
GitLab's `object_kind` (`merge_request` is a `Merge Request Hook`); `--event` says otherwise.
`--repository` puts the repository's full name in the payload (Takt ignores deliveries about
another repository), and each `--set dotted.path=value` changes one field (the value is read as
JSON when it is JSON: `--set pull_request.number=7`, else as text; a number picks a list's
element: `--set builds.0.status=success`). Each file gets a new delivery id unless `--delivery`
gives one (the same id twice is taken once).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

GITLAB_EVENTS = {
    "merge_request": "Merge Request Hook",
    "note": "Note Hook",
    "push": "Push Hook",
    "tag_push": "Tag Push Hook",
    "pipeline": "Pipeline Hook",
    "build": "Job Hook",
    "deployment": "Deployment Hook",
    "issue": "Issue Hook",
    "wiki_page": "Wiki Page Hook",
    "release": "Release Hook",
}


def provider_of(url: str) -> str:
    for provider in ("github", "gitlab"):
        if f"/hooks/{provider}/" in url:
            return provider
    raise SystemExit(f"{url} is not a Takt webhook URL (…/hooks/github/… or …/hooks/gitlab/…)")


def event_of(provider: str, path: Path, payload: dict[str, Any]) -> str:
    if provider == "github":
        return path.name.split(".", 1)[0]
    kind = str(payload.get("object_kind", ""))
    if kind not in GITLAB_EVENTS:
        raise SystemExit(f"{path}: no known object_kind; give the event with --event")
    return GITLAB_EVENTS[kind]


def set_field(payload: dict[str, Any], assignment: str) -> None:
    """`a.b.c=value`: payload["a"]["b"]["c"] = value (JSON if it parses, else text); a number
    indexes a list (`builds.0.status=success`: the first build's status)."""
    dotted, _, raw = assignment.partition("=")
    if not dotted:
        raise SystemExit(f"--set {assignment!r}: give a dotted.path=value")
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    keys = dotted.split(".")
    target: Any = payload
    try:
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target.setdefault(key, {})
        if isinstance(target, list):
            target[int(keys[-1])] = value
        else:
            target[keys[-1]] = value
    except (ValueError, IndexError, AttributeError, TypeError) as exc:
        raise SystemExit(f"--set {assignment!r}: no such place in the payload ({exc})") from exc


def prepared(
    provider: str,
    secret: str,
    payload: dict[str, Any],
    *,
    event: str,
    delivery: str | None = None,
    repository: str | None = None,
    assignments: tuple[str, ...] = (),
) -> tuple[dict[str, str], bytes]:
    """The headers and the exact body to POST: signed (GitHub) or with the token (GitLab)."""
    if repository:
        if provider == "github":
            payload.setdefault("repository", {})["full_name"] = repository
        else:
            payload.setdefault("project", {})["path_with_namespace"] = repository
    for assignment in assignments:
        set_field(payload, assignment)
    body = json.dumps(payload).encode()
    delivery_id = delivery or str(uuid.uuid4())
    headers = {"Content-Type": "application/json"}
    if provider == "github":
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers |= {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id,
            "X-Hub-Signature-256": f"sha256={digest}",
        }
    else:
        headers |= {
            "X-Gitlab-Event": event,
            "X-Gitlab-Event-UUID": delivery_id,
            "X-Gitlab-Token": secret,
        }
    return headers, body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--url", required=True, help="the webhook URL Takt gave")
    parser.add_argument("--secret", required=True, help="the repository's secret")
    parser.add_argument("--repository", help="the linked repository's full name")
    parser.add_argument("--event", help="the event header (default: from the file)")
    parser.add_argument("--delivery", help="the delivery id (default: a new one per file)")
    parser.add_argument("--set", action="append", default=[], dest="assignments")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    provider = provider_of(args.url)
    failed = 0
    with httpx.Client(timeout=30) as client:
        for path in args.files:
            payload = json.loads(path.read_text())
            event = args.event or event_of(provider, path, payload)
            headers, body = prepared(
                provider,
                args.secret,
                payload,
                event=event,
                delivery=args.delivery,
                repository=args.repository,
                assignments=tuple(args.assignments),
            )
            response = client.post(args.url, content=body, headers=headers)
            print(f"{path.name} ({event}): {response.status_code} {response.text}")
            failed += response.status_code != 202
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
