"""The seed the authorization matrix and the contract test use for delivery: a linked GitHub
repository with a failed delivery in its inbox, a pull request naming the first item, and the
admin's and the member's GitHub logins."""

from __future__ import annotations

from fastapi import FastAPI

from takt.auth.principal import Principal
from takt.core.db import Database
from takt.core.time import utcnow
from takt.delivery import ingest
from takt.delivery import service as delivery
from takt.delivery.facts import Person, PullRequestChange, PullRequestFacts
from takt.delivery.schemas import RepositoryCreate
from takt.integrations.models import InboundDelivery
from takt.projects import service as project_service
from tests.support import CLIENT, Account


async def seed_delivery(
    app: FastAPI, db: Database, admin: Account, member: Account, key: str, item_key: str
) -> dict[str, str]:
    config = delivery.DeliveryConfig.from_settings(app.state.settings)
    async with db.transaction() as session:
        access = await project_service.access(session, Principal.of(admin.user), key)
        repository, _ = await delivery.create_repository(
            session,
            access,
            RepositoryCreate(provider="github", full_name=f"acme/{key.lower()}"),
            config=config,
            client=CLIENT,
        )
        now = utcnow()
        failed = InboundDelivery(
            repository_id=repository.id,
            provider="github",
            delivery_key="seeded-delivery",
            event="pull_request",
            body=b"{}",
            size_bytes=2,
            state="failed",
            attempts=1,
            reason="wrong shape for `pull_request`: `action` must be a string",
            received_at=now,
            updated_at=now,
        )
        session.add(failed)
        facts = PullRequestFacts(
            number=1,
            title=f"{item_key} seeded",
            state="open",
            draft=False,
            created_at=now,
            author=Person(login="seed-author"),
        )
        await ingest.apply_pull_request(
            session, repository, access.project, PullRequestChange(facts, "opened", now)
        )
        for account, login in ((admin, f"{admin.username}-gh"), (member, f"{member.username}-gh")):
            await delivery.link_identity(session, Principal.of(account.user), "github", login)
    return {"repository_id": repository.id, "inbound_delivery_id": failed.id}
