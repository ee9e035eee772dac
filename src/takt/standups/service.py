"""Stand-up rules: the config, who takes part, which days count, and members' entries (with the
blockers they raise). Drafts and the summary are built in `drafts` and `summary`."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from takt.auth.principal import Account
from takt.core.concurrency import check_if_match
from takt.core.errors import Forbidden, ValidationFailed
from takt.core.events import emit
from takt.core.time import utcnow
from takt.projects.policies import ProjectAccess
from takt.standups import blocking, drafts, summary
from takt.standups import config as configs
from takt.standups import repository as repo
from takt.standups.config import Resolved
from takt.standups.drafts import DraftData
from takt.standups.events import StandupConfigUpdated, StandupEntrySubmitted, StandupQuestionData
from takt.standups.models import StandupEntry
from takt.standups.schemas import MAX_BLOCKERS_PER_ENTRY, EntryWrite, StandupConfigWrite
from takt.standups.summary import SummaryData

DATE_POINTER = "/path/date"


class NotAParticipant(Forbidden):
    """Only the stand-up's participants check in and get drafts: the project's members and
    admins (viewers never), or those the stand-up config lists. Ask a project admin to add you
    to `participants`."""

    code = "not-a-standup-participant"
    title = "Not a stand-up participant"


class NotAStandupDay(ValidationFailed):
    """The date is not a stand-up day of this project: stand-ups run on the config's weekdays
    (by default the project's working days), and only up to today in the project's time zone.
    Pick a stand-up day that is today or earlier."""

    code = "not-a-standup-day"
    title = "Not a stand-up day"


# Config --------------------------------------------------------------------------------------


async def get_config(session: AsyncSession, access: ProjectAccess) -> Resolved:
    return await configs.load(session, access.project)


async def _check_participants(
    session: AsyncSession, access: ProjectAccess, user_ids: list[str]
) -> None:
    roles = await repo.member_roles(session, access.project.id, user_ids)
    wrong = [
        (f"/participants/{index}", f"{user_id} is not a member of this project (or a viewer)")
        for index, user_id in enumerate(user_ids)
        if roles.get(user_id) not in ("member", "admin")
    ]
    if wrong:
        raise ValidationFailed.at_each(
            wrong, detail="Participants are members or admins of the project; viewers never."
        )


async def put_config(
    session: AsyncSession, access: ProjectAccess, body: StandupConfigWrite, *, if_match: str | None
) -> Resolved:
    """Replace the project's stand-up config (project admins)."""
    access.require_admin("Changing the stand-up config")
    project = access.project
    if body.participants:
        await _check_participants(session, access, body.participants)
    questions = [q.model_dump(mode="json") for q in body.questions]
    row = await repo.config_for_update(
        session,
        project.id,
        {
            "questions": questions,
            "weekdays": None,
            "cutoff": body.cutoff,
            "participants": None,
            "share_answers_in_events": False,
        },
    )
    check_if_match(if_match, row.version)
    row.questions = questions
    row.weekdays = list(body.weekdays) if body.weekdays is not None else None
    row.cutoff = body.cutoff
    row.participants = list(body.participants) if body.participants is not None else None
    row.share_answers_in_events = body.share_answers_in_events
    # A PUT is a write even when it sets what was there: the version moves, the event says so.
    flag_modified(row, "questions")
    await repo.save_config(session, row)
    await emit(
        session,
        StandupConfigUpdated(
            questions=[StandupQuestionData.model_validate(q) for q in questions],
            weekdays=row.weekdays,
            cutoff=row.cutoff,
            participants=row.participants,
            share_answers_in_events=row.share_answers_in_events,
        ),
        project,
        access.principal,
    )
    return configs.resolve(project, row)


# Days ----------------------------------------------------------------------------------------


def check_day(config: Resolved, day: date) -> None:
    """422 unless `day` is a stand-up day of the project and not after its local today."""
    calendar = config.calendar
    today = calendar.today(utcnow())
    if day > today:
        raise NotAStandupDay.at(
            DATE_POINTER,
            "in the future",
            detail=f"{day} is in the future: it is {today} in {calendar.time_zone}.",
        )
    if not calendar.runs_on(day):
        raise NotAStandupDay.at(
            DATE_POINTER,
            "not a stand-up day",
            detail=f"{day} is not a stand-up day; stand-ups run on {', '.join(calendar.weekdays)}.",
        )


def _require_participant(access: ProjectAccess, config: Resolved) -> None:
    if not config.takes_part(access.principal.id, access.member_role):
        raise NotAParticipant(
            f"You don't take part in project {access.project.key}'s stand-up "
            "(participants are members and admins, or those its config lists)."
        )


# Entries -------------------------------------------------------------------------------------


def _check_answers(config: Resolved, body: EntryWrite) -> None:
    kinds = config.question_kinds
    wrong = []
    for question_id, answer in body.answers.items():
        kind = kinds.get(question_id)
        if kind is None:
            wrong.append((f"/answers/{question_id}", "no such question in the stand-up config"))
        elif kind == "yes_no" and not isinstance(answer, bool):
            wrong.append(
                (
                    f"/answers/{question_id}",
                    "a yes_no question of the stand-up config takes true or false",
                )
            )
        elif kind == "text" and isinstance(answer, bool):
            wrong.append(
                (f"/answers/{question_id}", "a text question of the stand-up config takes text")
            )
    if wrong:
        raise ValidationFailed.at_each(wrong, detail="The answers don't fit the stand-up config.")


async def submit_entry(
    session: AsyncSession, access: ProjectAccess, day: date, body: EntryWrite
) -> tuple[StandupEntry, Account]:
    """Create or replace the caller's entry for `day`. After the day's cut-off the entry is kept
    and marked late. Each structured blocker not already raised through this entry is raised as
    a real blocker (flagging its item)."""
    access.require_write()
    config = await configs.load(session, access.project)
    _require_participant(access, config)
    check_day(config, day)
    _check_answers(config, body)
    now = utcnow()
    entry = await repo.upsert_entry(
        session,
        {
            "project_id": access.project.id,
            "user_id": access.principal.id,
            "standup_date": day,
            "answers": body.answers,
            "blocked": body.blocked or bool(body.blockers),
            "blocker_ids": [],
            "late": now > config.cutoff_at(day),
            "submitted_at": now,
            "updated_at": now,
        },
    )
    if body.blockers:
        raised = await blocking.raise_new(session, access, entry.blocker_ids, body.blockers)
        if len(entry.blocker_ids) + len(raised) > MAX_BLOCKERS_PER_ENTRY:
            # The entry's answer and each of its events carry every id: bounded, or each
            # resubmission with new reasons would make both longer without end.
            raise ValidationFailed.at(
                "/blockers",
                f"an entry raises at most {MAX_BLOCKERS_PER_ENTRY} blockers in all",
                detail=f"This entry has raised {len(entry.blocker_ids)} blockers; an entry "
                f"raises at most {MAX_BLOCKERS_PER_ENTRY}. Raise more with "
                f"POST /projects/{access.project.key}/blockers.",
            )
        if raised:
            await repo.set_entry_blockers(session, entry, [*entry.blocker_ids, *raised])
    await emit(
        session,
        StandupEntrySubmitted(
            entry_id=entry.id,
            date=day.isoformat(),
            user_id=access.principal.id,
            username=access.principal.username,
            blocked=entry.blocked,
            late=entry.late,
            edited=entry.version > 1,
            blocker_ids=list(entry.blocker_ids),
            answers=dict(entry.answers) if config.share_answers_in_events else None,
        ),
        access.project,
        access.principal,
        subject=entry.id,
    )
    return entry, access.principal.user


# Reads ---------------------------------------------------------------------------------------


async def draft(session: AsyncSession, access: ProjectAccess, day: date) -> DraftData:
    """The caller's entry for `day`, drafted from the event log (participants only)."""
    config = await configs.load(session, access.project)
    _require_participant(access, config)
    check_day(config, day)
    return await drafts.build(session, config, access.principal.id, day)


async def day_summary(session: AsyncSession, access: ProjectAccess, day: date) -> SummaryData:
    """The day's summary: open blockers, who is missing, the entries, the rates, the sprint."""
    config = await configs.load(session, access.project)
    check_day(config, day)
    return await summary.build(session, config, day)
