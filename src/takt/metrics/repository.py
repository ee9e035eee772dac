"""Every query of the DORA and flow metrics: read-only, aggregated by the database.

Percentiles are nearest-rank (the smallest value with at least that share of the values at or
below it), as every percentile Takt reports: PostgreSQL's `percentile_disc`, and on SQLite,
which has no percentile aggregate, each value's rank from a window (`row_number()` over the
values in order) compared with `ceil(p x n)`. Either way the rows stay in the database; Python
only reads the few figures per period or per week that come back.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, cached_property
from typing import Any

from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE, CompoundSelect, Select, Subquery

from takt.core.events import Event
from takt.deployments.models import Deployment, DeploymentCommit, Environment
from takt.incidents.models import Incident
from takt.items.events import ItemChanges, ItemCreated, ItemUpdated
from takt.items.models import Item
from takt.items.repository import live_in_project
from takt.metrics.models import FlowFinish, FlowMove
from takt.metrics.periods import (
    Granularity,
    LocalDays,
    Period,
    buckets,
    local_day_on_postgres,
    start_of_day,
)
from takt.workflow.models import CATEGORIES, Status

# Status categories in flow order: "in that category or later" counts the ones after it too.
# `cancelled` left the flow: it is counted apart.
FLOW_ORDER = ("backlog", "todo", "in_progress", "in_review", "done")
TERMINAL = ("done", "cancelled")
_CATEGORY = "category"
# The events that create or change an item: the flow reads its category moves from them.
ITEM_EVENTS = (ItemCreated.event_type, ItemUpdated.event_type)
assert _CATEGORY in ItemChanges.model_fields  # the changes' key, as the model names it


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def seconds_between(session: AsyncSession, start: Any, end: Any) -> ColumnElement[float]:
    """`end - start` in seconds, computed by the database."""
    return _seconds_between(start, end, on_postgres=is_postgres(session))


def _seconds_between(start: Any, end: Any, *, on_postgres: bool) -> ColumnElement[float]:
    """`seconds_between` for a statement built without a session."""
    if on_postgres:
        # date_part is a float; EXTRACT would be a numeric, several times dearer per row.
        return cast(func.date_part("epoch", end - start), Float)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


@asynccontextmanager
async def analytic(session: AsyncSession) -> AsyncIterator[None]:
    """PostgreSQL: settings for the statements of one answer, put back after it (reads run in
    autocommit, where `SET LOCAL` would do nothing).

    - `work_mem` 32 MB: two years of a busy project sort about 100,000 lead times and group
      them by week, which spills to disk under the default 4 MB;
    - a plan for the values of each statement (`force_custom_plan`): Takt's connections plan
      generically (`db_plan_cache_mode`, core/db.py), right for its lookups by key, but a
      generic plan can't tell a month of events from two years and scans them all;
    - no JIT compilation: two years' statements are priced past `jit_above_cost`, and
      compiling them took 20 ms, more than the statement it sped up (bench.dora, two years
      weekly).

    They go back to the connection's own values afterwards."""
    if not is_postgres(session):
        yield
        return
    await session.execute(
        text(
            "SELECT set_config('work_mem', '32MB', false), "
            "set_config('plan_cache_mode', 'force_custom_plan', false), "
            "set_config('jit', 'off', false)"
        )
    )
    try:
        yield
    finally:
        with suppress(DBAPIError):  # a failed transaction takes its settings with it
            await session.execute(
                text(
                    "SELECT set_config(name, reset_val, false) FROM pg_settings "
                    "WHERE name IN ('work_mem', 'plan_cache_mode', 'jit')"
                )
            )


def _bytewise(session: AsyncSession, column: Any) -> Any:
    """A text column grouped by its bytes on PostgreSQL, not by the locale's collation (a
    third cheaper per row; ids and category names need no linguistic order)."""
    return _by_bytes(column, on_postgres=is_postgres(session))


def _by_bytes(column: Any, *, on_postgres: bool) -> Any:
    """`_bytewise` for a statement built without a session."""
    return column.collate("C") if on_postgres else column


def _known(column: Any, as_of: datetime) -> ColumnElement[bool]:
    """Set, and set by `as_of`."""
    return and_(column.is_not(None), column <= as_of)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# Reducing rows to figures --------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """A column of the rows whose nearest-rank percentiles are wanted (nulls are left out)."""

    name: str
    percents: tuple[int, ...]


Figures = dict[str, Any]


def _rank(count: Any, percent: int) -> ColumnElement[int]:
    """ceil(p x n) on SQLite, with the same floating-point product PostgreSQL's
    percentile_disc uses, so both pick the same rank."""
    product = literal(percent / 100, Float) * count
    whole = cast(product, Integer)
    return whole + case((product > whole, 1), else_=0)


async def reduce(
    session: AsyncSession,
    rows: Subquery,
    *,
    by_bucket: bool,
    counts: dict[str, ColumnElement[Any]] | None = None,
    spreads: Sequence[Spread] = (),
) -> dict[Any, Figures]:
    """The figures of `rows` overall (key None) and, with `by_bucket`, per value of its
    `bucket` column: each of `counts` (counts or sums over `rows`: the overall one is the sum
    of the buckets'), and for each spread its count (`<name>_count`) and percentiles
    (`<name>_p50`, …)."""
    counts = counts or {}
    if is_postgres(session):
        return await _reduce_in_postgres(session, rows, by_bucket, counts, spreads)
    found: dict[Any, Figures] = {None: dict.fromkeys(counts, 0)}
    labelled = [expr.label(name) for name, expr in counts.items()]
    if labelled:
        stmt = select(*labelled).select_from(rows)
        if by_bucket:
            stmt = select(rows.c.bucket, *labelled).group_by(rows.c.bucket)
        for row in await session.execute(stmt):
            mapping = dict(row._mapping)
            if by_bucket:
                found[mapping.pop("bucket")] = mapping
            for name, value in mapping.items():
                found[None][name] = found[None][name] + (value or 0) if by_bucket else value
    for spread in spreads:
        for key, figures in (await _spread_in_sqlite(session, rows, by_bucket, spread)).items():
            found.setdefault(key, {}).update(figures)
    return found


def _aggregates(
    rows: Subquery | CTE, counts: dict[str, ColumnElement[Any]], spreads: Sequence[Spread]
) -> list[Any]:
    """The counts, and for each spread its count and nearest-rank percentiles
    (`percentile_disc`), labelled as `Figures` names them."""
    columns: list[Any] = [expr.label(name) for name, expr in counts.items()]
    for spread in spreads:
        value = rows.c[spread.name]
        columns.append(func.count(value).label(f"{spread.name}_count"))
        columns += [
            func.percentile_disc(p / 100).within_group(value).label(f"{spread.name}_p{p}")
            for p in spread.percents
        ]
    return columns


async def _reduce_in_postgres(
    session: AsyncSession,
    rows: Subquery,
    by_bucket: bool,
    counts: dict[str, ColumnElement[Any]],
    spreads: Sequence[Spread],
) -> dict[Any, Figures]:
    columns = _aggregates(rows, counts, spreads)
    if not by_bucket:
        row = (await session.execute(select(*columns).select_from(rows))).one()
        return {None: dict(row._mapping)}
    stmt = select(rows.c.bucket, func.grouping(rows.c.bucket).label("overall"), *columns)
    stmt = stmt.group_by(func.grouping_sets(tuple_(rows.c.bucket), tuple_()))
    found: dict[Any, Figures] = {}
    for row in await session.execute(stmt):
        mapping = dict(row._mapping)
        bucket, overall = mapping.pop("bucket"), mapping.pop("overall")
        found[None if overall else bucket] = mapping
    return found


async def _spread_in_sqlite(
    session: AsyncSession, rows: Subquery, by_bucket: bool, spread: Spread
) -> dict[Any, Figures]:
    """One pass over the values: each one's rank overall (`ra` of `na`) and in its bucket
    (`rb` of `nb`); a percentile is the value whose rank is ceil(p x n). Grouped by bucket,
    an overall percentile is found in the one bucket holding that value."""
    value = rows.c[spread.name]
    windows: list[Any] = [
        value.label("v"),
        func.row_number().over(order_by=value).label("ra"),
        func.count().over().label("na"),
    ]
    if by_bucket:
        windows += [
            rows.c.bucket,
            func.row_number().over(partition_by=rows.c.bucket, order_by=value).label("rb"),
            func.count().over(partition_by=rows.c.bucket).label("nb"),
        ]
    ranked = select(*windows).where(value.is_not(None)).subquery()
    c = ranked.c

    def figures(prefix: str, rank: Any, size: Any) -> list[Any]:
        return [
            func.coalesce(func.max(size), 0).label(f"{prefix}{spread.name}_count"),
            *(
                func.max(case((rank == _rank(size, p), c.v))).label(f"{prefix}{spread.name}_p{p}")
                for p in spread.percents
            ),
        ]

    if not by_bucket:
        overall = (await session.execute(select(*figures("", c.ra, c.na)))).one()
        return {None: dict(overall._mapping)}
    stmt = select(c.bucket, *figures("", c.rb, c.nb), *figures("all_", c.ra, c.na))
    found: dict[Any, Figures] = {None: {f"{spread.name}_count": 0}}
    for row in await session.execute(stmt.group_by(c.bucket)):
        mapping = dict(row._mapping)
        found[mapping.pop("bucket")] = {
            k: v for k, v in mapping.items() if not k.startswith("all_")
        }
        for name, found_value in mapping.items():
            if name.startswith("all_") and found_value is not None:
                found[None][name.removeprefix("all_")] = found_value
    return found


# Environments --------------------------------------------------------------------------------


async def environment_named(
    session: AsyncSession, project_id: str, name: str
) -> Environment | None:
    """The project's environment of that name, case-insensitively."""
    found: Environment | None = await session.scalar(
        select(Environment).where(
            Environment.project_id == project_id, Environment.name_key == name.strip().lower()
        )
    )
    return found


async def production_environment(session: AsyncSession, project_id: str) -> Environment | None:
    """The project's first environment of type production along the promotion path."""
    found: Environment | None = await session.scalar(
        select(Environment)
        .where(Environment.project_id == project_id, Environment.type == "production")
        .order_by(Environment.position, Environment.id)
        .limit(1)
    )
    return found


# DORA ----------------------------------------------------------------------------------------

D = Deployment


@dataclass(frozen=True)
class DoraQuery:
    """What every DORA statement is about: one environment, a period, what was known by
    `as_of`, and how to group (`granularity` None: the period as a whole)."""

    environment_id: str
    span: Period
    days: LocalDays
    granularity: Granularity | None

    @cached_property
    def bucket_starts(self) -> list[tuple[date, datetime]]:
        """Each week's or month's key and first instant (the first cut to the period), worked
        out once per answer (each of its statements and `keyed` use them)."""
        assert self.granularity is not None
        return [
            (bucket.key, start_of_day(bucket.first, self.span.zone))
            for bucket in buckets(self.span, self.granularity)
        ]

    def bucket(self, column: Any) -> Any:
        """The week or month of an instant. PostgreSQL: its number, found by a binary search
        of the buckets' first instants (`width_bucket`) instead of a conversion to the local
        time of each row; `keyed` turns the numbers back into the buckets' keys."""
        if self.granularity is None:
            return literal(None).label("bucket")
        if self.days.dialect == "postgresql":
            starts = [at for _, at in self.bucket_starts]
            array = postgresql.ARRAY(DateTime(timezone=True))
            return func.width_bucket(column, bindparam("starts", starts, type_=array)).label(
                "bucket"
            )
        return self.days.bucket(column, self.granularity).label("bucket")

    def keyed(self, found: dict[Any, Figures]) -> dict[Any, Figures]:
        """`found` by the buckets' keys (the first day of the week or month)."""
        if self.granularity is None or self.days.dialect != "postgresql":
            return found
        keys = [key for key, _ in self.bucket_starts]
        return {None if number is None else keys[number - 1]: v for number, v in found.items()}

    def in_period(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.span.since, column < self.span.until, column <= self.span.as_of)


async def deployment_figures(session: AsyncSession, query: DoraQuery) -> dict[Any, Figures]:
    """Over the deployments to the environment that succeeded (went live) in the period, by
    when they did: how many, how many failed (needed remediation, known by `as_of`) and were
    restored by then, how many were rework (and of which kind), how many shipped commits Takt
    couldn't establish; the recovery times (seconds) of those restored; and the times
    (seconds) between consecutive ones, each counted where the later one falls.

    One statement over the period's deployments for all of them, rather than a second one
    reading them again for the gaps."""
    as_of = query.span.as_of
    failed = _known(D.failed_at, as_of)
    restored = and_(failed, _known(D.restored_at, as_of), D.restored_at >= D.failed_at)
    fixed_by_incident = exists().where(
        Incident.fixed_by_deployment_id == D.id, Incident.opened_at <= as_of
    )
    fixing = or_(D.fixes_deployment_id.is_not(None), fixed_by_incident)
    previous = func.lag(D.succeeded_at).over(order_by=(D.succeeded_at, D.id))
    rows = (
        select(
            query.bucket(D.succeeded_at),
            case((failed, 1), else_=0).label("failed"),
            case((restored, seconds_between(session, D.failed_at, D.restored_at))).label(
                "recovery"
            ),
            case((D.is_hotfix.is_(True), 1), else_=0).label("hotfix"),
            case((D.is_rollback.is_(True), 1), else_=0).label("rollback"),
            case((fixing, 1), else_=0).label("fixing"),
            case((D.shipped_complete.is_(False), 1), else_=0).label("unknown_commits"),
            seconds_between(session, previous, D.succeeded_at).label("interval"),
        )
        .where(D.environment_id == query.environment_id, query.in_period(D.succeeded_at))
        .subquery()
    )
    c = rows.c
    found = await reduce(
        session,
        rows,
        by_bucket=query.granularity is not None,
        counts={
            "deployments": func.count(),
            "failed": func.coalesce(func.sum(c.failed), 0),
            "restored": func.count(c.recovery),
            "hotfixes": func.coalesce(func.sum(c.hotfix), 0),
            "rollbacks": func.coalesce(func.sum(c.rollback), 0),
            "fixing": func.coalesce(func.sum(c.fixing), 0),
            "rework": _count_if(or_(c.hotfix == 1, c.rollback == 1, c.fixing == 1)),
            "unknown_commits": func.coalesce(func.sum(c.unknown_commits), 0),
        },
        spreads=[Spread("recovery", (50,)), Spread("interval", (50,))],
    )
    return query.keyed(found)


# A period with at least this many timed commits finds its median lead time by walking the
# environment's lead-time index rather than sorting the period's values (from the smallest:
# about half of the environment's commits, read in order; with weeks or months, from a guess
# near the median: a few hundred); below it, sorting them is cheaper.
WALK_FROM = 20_000


async def lead_time_figures(session: AsyncSession, query: DoraQuery) -> dict[Any, Figures]:
    """Over the commits shipped by the deployments that succeeded in the period (and weren't
    rolled back by `as_of`: their commits ship again with the next one), by when they
    succeeded: how many, how many with a known commit time, and the lead times (seconds,
    deployed - committed) of those after their commit.

    A deployment's `rolled_back_at` is when it became rolled back (a rollback of it succeeded,
    or it was reported rolled back), not its earlier failure, so a past answer stays. The commits
    carry their deployment's environment, go-live time and their lead time (stored when it
    succeeded: deployments.repository.store_lead_times), so no deployment is read per commit:
    only the few rolled back are looked up."""
    as_of = query.span.as_of
    commit = DeploymentCommit
    rolled_back = (
        D.environment_id == query.environment_id,
        D.state == "rolled_back",
        _known(D.rolled_back_at, as_of),
    )
    # A commit's `deployed_at` is its deployment's `succeeded_at`: each commit is first looked
    # up by that time among the rolled-back deployments' (hashing a timestamp), and only the
    # few that match by their deployment's id. Hashing every commit's deployment id instead
    # made the weekly lead times' statement a third dearer (bench.dora's data, psql: 58 ->
    # 44 ms).
    if is_postgres(session):
        # The rolled-back deployments are read once for the answer's statements (each scanned
        # the environment's deployments twice for them) and bound as arrays.
        undone = (await session.execute(select(D.succeeded_at, D.id).where(*rolled_back))).all()
        times = [at for at, _ in undone]
        ids = [deployment_id for _, deployment_id in undone]
        undone_time = commit.deployed_at == any_(
            bindparam("undone_times", times, type_=postgresql.ARRAY(DateTime(timezone=True)))
        )
        undone_id = commit.deployment_id == any_(
            bindparam("undone_ids", ids, type_=postgresql.ARRAY(String))
        )
    else:
        undone_time = commit.deployed_at.in_(select(D.succeeded_at).where(*rolled_back))
        undone_id = commit.deployment_id.in_(select(D.id).where(*rolled_back))
    shipped = and_(
        commit.environment_id == query.environment_id,
        query.in_period(commit.deployed_at),
        ~and_(undone_time, undone_id),
    )
    rows = (
        select(
            query.bucket(commit.deployed_at),
            commit.committed_at.label("committed_at"),
            commit.lead.label("lead"),
        )
        .where(shipped)
        .subquery()
    )
    counts: dict[str, ColumnElement[Any]] = {
        "commits": func.count(),
        "commits_timed": func.count(rows.c.committed_at),
    }
    if not is_postgres(session):
        return await reduce(
            session,
            rows,
            by_bucket=query.granularity is not None,
            counts=counts,
            spreads=[Spread("lead", (50,))],
        )
    # PostgreSQL: the counts (and each week's or month's median), then the period's median
    # by the cheaper of walking the index and sorting the period's values.
    pivot = None
    if query.granularity is not None:
        pivot = await _likely_median(session, query)
        found = await _lead_figures_per_bucket(session, query, shipped, pivot)
    else:
        counts["lead_count"] = func.count(rows.c.lead)
        found = await reduce(session, rows, by_bucket=False, counts=counts)
    overall = found[None]
    counted = int(overall.get("lead_count") or 0)
    overall["lead_p50"] = None
    if counted >= WALK_FROM:
        # The planner prices a walk of the index above a sort of the period's values, which
        # costs about three times as much here: no sort for this one statement.
        await session.execute(text("SELECT set_config('enable_sort', 'off', false)"))
        try:
            overall["lead_p50"] = await _walk_to_median(
                session,
                shipped,
                counted,
                pivot,
                overall.get("lead_below", 0),
                overall.get("lead_at_most", 0),
            )
        finally:
            with suppress(DBAPIError):
                await session.execute(
                    text(
                        "SELECT set_config(name, reset_val, false) FROM pg_settings "
                        "WHERE name = 'enable_sort'"
                    )
                )
    elif counted:
        overall["lead_p50"] = await session.scalar(
            select(func.percentile_disc(0.5).within_group(rows.c.lead))
        )
    return query.keyed(found)


async def _walk_to_median(
    session: AsyncSession,
    shipped: ColumnElement[bool],
    counted: int,
    pivot: float | None,
    below: int,
    at_most: int,
) -> float | None:
    """The nearest-rank median of the `counted` lead times of `shipped`, walking
    `ix_deployment_commits_env_lead` from `pivot` (of which `below` values are smaller and
    `at_most` no larger; from the smallest value without one): down through the smaller
    values, up through the larger ones, or `pivot` itself when the rank falls on it. From a
    pivot near the median the walk reads a few hundred entries instead of half the period's
    (bench.dora, two years weekly: 47,000 entries, 17 ms)."""
    rank = _nearest_rank(counted, 50)
    lead = DeploymentCommit.lead
    stmt = select(lead).where(shipped, lead.is_not(None)).limit(1)
    if pivot is None:
        stmt = stmt.order_by(lead).offset(rank - 1)
    elif rank <= below:
        stmt = stmt.where(lead < pivot).order_by(lead.desc()).offset(below - rank)
    elif rank <= at_most:
        return pivot
    else:
        stmt = stmt.where(lead > pivot).order_by(lead).offset(rank - at_most - 1)
    found: float | None = await session.scalar(stmt)
    return found


def _bucket_bounds(query: DoraQuery) -> Any:
    """The weeks or months of the period as rows (`starts_at`, `ends_at`, `bucket`: their
    number from 1)."""
    array = postgresql.ARRAY(DateTime(timezone=True))
    starts = [at for _, at in query.bucket_starts]
    ends = [*starts[1:], query.span.until]
    return (
        func.unnest(
            bindparam("bucket_starts", starts, type_=array),
            bindparam("bucket_ends", ends, type_=array),
        )
        .table_valued("starts_at", "ends_at", with_ordinality="bucket")
        .render_derived("bounds")
    )


# Deployments of each week or month whose commits' lead times make the pivot's guess.
SAMPLED = 2


async def _likely_median(session: AsyncSession, query: DoraQuery) -> float | None:
    """PostgreSQL: a guess at the period's median lead time, to walk to the true one from: the
    median lead time of the commits of `SAMPLED` deployments of each week or month, the first
    from a moment that moves through the week from one bucket to the next (golden-ratio
    steps), as the first deployments of a week ship the weekend's commits. Whole deployments,
    since a deployment's commits come in the index oldest first. A few index entries each;
    whatever it guesses, the walk finds the exact median."""
    bounds = _bucket_bounds(query)
    step = bounds.c.bucket * literal(0.6180339887, Float)
    moment = bounds.c.starts_at + (bounds.c.ends_at - bounds.c.starts_at) * (
        step - func.floor(step)
    )
    sampled = (
        select(D.id, D.succeeded_at)
        .where(
            D.environment_id == query.environment_id,
            query.in_period(D.succeeded_at),
            D.succeeded_at >= moment,
            D.succeeded_at < bounds.c.ends_at,
        )
        .order_by(D.succeeded_at)
        .limit(SAMPLED)
        .lateral("sampled")
    )
    commit = DeploymentCommit
    guess: float | None = await session.scalar(
        select(func.percentile_disc(0.5).within_group(commit.lead))
        .select_from(bounds)
        .join(sampled, literal(True))
        .join(
            commit,
            and_(
                commit.environment_id == query.environment_id,
                commit.deployed_at == sampled.c.succeeded_at,
                commit.deployment_id == sampled.c.id,
            ),
        )
        .where(commit.lead.is_not(None))
    )
    return guess


async def _lead_figures_per_bucket(
    session: AsyncSession, query: DoraQuery, shipped: ColumnElement[bool], pivot: float | None
) -> dict[Any, Figures]:
    """PostgreSQL: each week's or month's commit counts and median lead time, one aggregate per
    bucket over its own range of `ix_deployment_commits_env_deployed` (a lateral join on the
    buckets' bounds), and the period's counts as their sums, with how many lead times are
    below `pivot` and at most it (for `_walk_to_median`).

    Grouping the period's rows by `width_bucket` instead read every commit, sorted them all by
    bucket and then each bucket by lead time; here each bucket's few hundred rows come from an
    index-only scan in order (once autovacuum has marked the pages visible) and only they are
    sorted. bench.dora, two years of weekly figures over 96,000 commits, same machine and hour:
    PostgreSQL CPU per answer 172 -> 92 ms, p50 226 -> 120 ms."""
    bounds = _bucket_bounds(query)
    commit = DeploymentCommit
    summed = ["commits", "commits_timed", "lead_count"]
    columns = [
        func.count().label("commits"),
        func.count(commit.committed_at).label("commits_timed"),
        func.count(commit.lead).label("lead_count"),
        func.percentile_disc(0.5).within_group(commit.lead).label("lead_p50"),
    ]
    if pivot is not None:
        summed += ["lead_below", "lead_at_most"]
        columns += [
            func.count().filter(commit.lead < pivot).label("lead_below"),
            func.count().filter(commit.lead <= pivot).label("lead_at_most"),
        ]
    per_bucket = (
        select(*columns)
        .where(
            shipped, commit.deployed_at >= bounds.c.starts_at, commit.deployed_at < bounds.c.ends_at
        )
        .lateral("per_bucket")
    )
    stmt = select(bounds.c.bucket, per_bucket).select_from(bounds).join(per_bucket, literal(True))
    found: dict[Any, Figures] = {None: dict.fromkeys(summed, 0)}
    for row in await session.execute(stmt):
        mapping = dict(row._mapping)
        found[mapping.pop("bucket")] = mapping
        for name in summed:
            found[None][name] += mapping[name]
    return found


def _nearest_rank(count: int, percent: int) -> int:
    """ceil(p x n), with the floating-point product PostgreSQL's percentile_disc uses."""
    return max(1, math.ceil(percent / 100 * count))


# Flow ----------------------------------------------------------------------------------------


def _categories() -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """An item event's old and new category (a creation has no old one; events changing no
    category have no new one)."""
    created = Event.type == ItemCreated.event_type
    new = case(
        (created, Event.data[ItemCreated.payload_key(_CATEGORY)].as_string()),
        else_=Event.changes[(_CATEGORY, 1)].as_string(),
    )
    old = case((created, null()), else_=Event.changes[(_CATEGORY, 0)].as_string())
    return old, new


def _category_changes(project_id: Any, since: Any, items: Sequence[Any]) -> Subquery:
    """Every change of category of the project's live items (matching `items`, the filter's
    conditions) from `since` on, from the event log: when, and the old and new category
    (`_categories`).

    With no filter, the items table is only asked which items are in the trash (a few, by
    index), instead of joined whole."""
    old, new = _categories()
    stmt = select(Event.occurred_at.label("at"), old.label("old"), new.label("new")).where(
        Event.project_id == project_id,
        Event.type.in_(ITEM_EVENTS),
        Event.occurred_at >= since,
    )
    if items:
        stmt = stmt.join(Item, Item.id == Event.subject_id).where(
            live_in_project(project_id), *items
        )
    else:
        trashed = select(Item.id).where(Item.project_id == project_id, Item.deleted_at.is_not(None))
        stmt = stmt.where(Event.subject_id.not_in(trashed))
    return stmt.subquery()


def category_moves(
    project_id: str,
    since: datetime,
    until: datetime,
    day_of: Callable[[ColumnElement[Any]], ColumnElement[Any]],
) -> Any:
    """The rows of `FlowMove` for the flow snapshots' days from `since` to `until`: each event
    that changed the category of one of the project's items (in the trash too: a reader joins
    the live ones), with its local day (`day_of`). A recorded value that is no category (an
    imported history is what it is) is kept as none: it moves no band either way, and the rows
    stay small enough for their index."""
    old, new = _categories()

    def known(category: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((category.in_(CATEGORIES), category), else_=null())

    return (
        select(
            literal(project_id).label("project_id"),
            Event.seq.label("seq"),
            Item.id.label("item_id"),
            day_of(Event.occurred_at.expression).label("day"),
            known(old).label("old"),
            known(new).label("new"),
        )
        .join(Item, Item.id == Event.subject_id)
        .where(
            Event.project_id == project_id,
            Event.type.in_(ITEM_EVENTS),
            Event.occurred_at >= since,
            Event.occurred_at < until,
            new.is_not(None),
        )
    )


@dataclass(frozen=True)
class WrittenMoves:
    """For a filtered flow answer: the moves of the written days from `first` through `last`
    come from `FlowMove`, those from `boundary` (the end of `last`) from the event log. The
    upper bound matters: a sweep may commit more days between the answer's reading of the
    snapshot state and of the moves (PostgreSQL reads each statement at its own moment), and
    those days' moves are already among the logged ones."""

    first: date
    last: date
    boundary: datetime


def _written_and_logged_changes(
    project_id: Any,
    written: WrittenMoves,
    items: Sequence[Any],
    day_of: Callable[[ColumnElement[Any]], ColumnElement[Any]],
) -> Select[Any]:
    """`_category_changes` by day for a filter, with written days: their moves from their
    rows (`FlowMove`), the later ones from the event log, joined once to the items matching
    `items`.

    Performance: the written days' moves come from their index alone instead of those days'
    events and their JSON (bench.dora, 90 days of bugs: database time per answer 81-83 -> 57 ms,
    bench/RESULTS.md session 14)."""
    old, new = _categories()
    logged = select(
        Event.subject_id.label("item_id"),
        day_of(Event.occurred_at.expression).label("day"),
        old.label("old"),
        new.label("new"),
    ).where(
        Event.project_id == project_id,
        Event.type.in_(ITEM_EVENTS),
        Event.occurred_at >= written.boundary,
    )
    move = FlowMove
    stored = select(move.item_id, move.day, move.old, move.new).where(
        move.project_id == project_id, move.day >= written.first, move.day <= written.last
    )
    both = union_all(stored, logged).subquery()
    return (
        select(both.c.day, both.c.old, both.c.new)
        .join(Item, Item.id == both.c.item_id)
        .where(live_in_project(project_id), *items)
    )


def _order(category: Any) -> ColumnElement[int]:
    """A category's place in FLOW_ORDER; -1 for cancelled or none."""
    return case({name: n for n, name in enumerate(FLOW_ORDER)}, value=category, else_=-1)


async def flow_changes_by_day(
    session: AsyncSession,
    project_id: str,
    since: datetime,
    items: Sequence[Any],
    days: LocalDays,
    *,
    written: WrittenMoves | None = None,
) -> list[Figures]:
    """Per local day from `since` on (to now): how each cumulative-flow band moved (`backlog`
    … `done`: items entering that category or a later one, less those leaving it), how many
    entered less left `cancelled`, and how many items finished. With `written`, the written
    days' moves come from their rows (`FlowMove`), joined to the items matching `items`."""
    if not items and written is None and days.dialect == "postgresql":
        params = {"project_id": project_id, "since": since, "zone": days.zone}
        rows = await session.execute(_unfiltered_flow_changes_on_postgres(), params)
    else:
        stmt = _flow_changes(
            project_id, since, items, days.day, bytewise=is_postgres(session), written=written
        )
        rows = await session.execute(stmt)
    return [dict(row._mapping) for row in rows]


@cache
def _unfiltered_flow_changes_on_postgres() -> Select[Any]:
    """`_flow_changes` for the whole project on PostgreSQL, built once with bound parameters
    (`project_id`, `since`, `zone`). Every flow answer without `q` asks it (the days after the
    written snapshots), and building it anew each time was about a quarter of a flow answer's
    Python time (bench/RESULTS.md, session 12)."""
    zone = bindparam("zone", type_=String)
    return _flow_changes(
        bindparam("project_id", type_=String),
        bindparam("since", type_=DateTime(timezone=True)),
        [],
        lambda column: local_day_on_postgres(column, zone),
        bytewise=True,
    )


def _flow_changes(
    project_id: Any,
    since: Any,
    items: Sequence[Any],
    day_of: Callable[[ColumnElement[Any]], ColumnElement[Any]],
    *,
    bytewise: bool,
    written: WrittenMoves | None = None,
) -> Select[Any]:
    """The statement of `flow_changes_by_day`; `day_of` gives a timestamp's local day."""
    if written is None:
        changes = _category_changes(project_id, since, items)
        # Events that changed no category (no new one) are kept: their group moves no band,
        # and leaving them out made PostgreSQL read every event's category twice, once to drop
        # them and once for its group, before the join with a filter's items (bench.dora, 90
        # days of bugs).
        per_change = select(
            day_of(changes.c.at).label("day"), changes.c.old, changes.c.new
        ).subquery()
    else:
        per_change = _written_and_logged_changes(project_id, written, items, day_of).subquery()
    # Each event's categories are read once, into (day, old, new) groups; the bands are worked
    # out over those few groups.
    p = per_change.c
    old_key, new_key = (_by_bytes(column, on_postgres=bytewise) for column in (p.old, p.new))
    moves = (
        select(p.day, old_key.label("old"), new_key.label("new"), func.count().label("n"))
        .group_by(p.day, old_key, new_key)
        .subquery()
    )
    c = moves.c
    new, old = _order(c.new), _order(c.old)

    def moved(into: ColumnElement[bool], out_of: ColumnElement[bool]) -> ColumnElement[int]:
        """Entries less exits."""
        return func.coalesce(func.sum(case((into, c.n), else_=0) - case((out_of, c.n), else_=0)), 0)

    finish = and_(c.new == "done", or_(c.old.is_(None), c.old != "done"))
    return select(
        c.day,
        *(moved(new >= n, old >= n).label(name) for n, name in enumerate(FLOW_ORDER)),
        moved(c.new == "cancelled", c.old == "cancelled").label("cancelled"),
        func.coalesce(func.sum(case((finish, c.n), else_=0)), 0).label("finished"),
    ).group_by(c.day)


async def statuses_of(session: AsyncSession, project_id: str) -> list[Status]:
    return list(await session.scalars(select(Status).where(Status.project_id == project_id)))


async def items_by_status(
    session: AsyncSession, project_id: str, items: Sequence[Any]
) -> dict[str, int]:
    """Per status, the project's live items (matching `items`) in it now."""
    status = _bytewise(session, Item.status_id)
    rows = await session.execute(
        select(status, func.count()).where(live_in_project(project_id), *items).group_by(status)
    )
    return {str(status): int(count) for status, count in rows}


def _finished() -> ColumnElement[bool]:
    """An event that moved an item into `done` (from another category, or created done),
    written so the category is read once for most events (those that moved elsewhere)."""
    return or_(
        and_(
            Event.type == ItemUpdated.event_type,
            Event.changes[(_CATEGORY, 1)].as_string() == "done",
            Event.changes[(_CATEGORY, 0)].as_string().is_distinct_from("done"),
        ),
        and_(
            Event.type == ItemCreated.event_type,
            Event.data[ItemCreated.payload_key(_CATEGORY)].as_string() == "done",
        ),
    )


def live_finishes(
    session: AsyncSession, project_id: str, since: datetime, until: datetime, items: Sequence[Any]
) -> Any:
    """The entries into `done` from `since` to `until` of the project's live items (matching
    `items`), from the event log: the event's `seq`, the item, when, and the cycle time
    (seconds since the item started, when it had started by then) and lead time (since the
    item was created)."""
    return _live_finishes(project_id, since, until, items, on_postgres=is_postgres(session))


def _live_finishes(
    project_id: Any, since: Any, until: Any, items: Sequence[Any], *, on_postgres: bool
) -> Select[Any]:
    """`live_finishes` for a statement built without a session."""
    at = Event.occurred_at

    def seconds_since(start: Any) -> ColumnElement[float]:
        return _seconds_between(start, at, on_postgres=on_postgres)

    return (
        select(
            Event.seq.label("seq"),
            Item.id.label("item_id"),
            at.label("finished_at"),
            case((Item.started_at <= at, seconds_since(Item.started_at))).label("cycle"),
            seconds_since(Item.created_at).label("lead"),
        )
        .join(Item, Item.id == Event.subject_id)
        .where(
            Event.project_id == project_id,
            Event.type.in_(ITEM_EVENTS),
            at >= since,
            at < until,
            _finished(),
            live_in_project(project_id),
            *items,
        )
    )


def stored_finishes(project_id: Any, since: Any, until: Any, items: Sequence[Any] = ()) -> Any:
    """The same rows, as the flow snapshots wrote them for their days; with `items` (a filter's
    conditions), those of the items matching it now. Joining the written rows to the items is
    cheaper than finding the finishes again in the event log (bench.dora, 90 days of bugs)."""
    finish = FlowFinish
    stmt = select(
        finish.seq.label("seq"),
        finish.item_id.label("item_id"),
        finish.finished_at.label("finished_at"),
        finish.cycle.label("cycle"),
        finish.lead.label("lead"),
    ).where(
        finish.project_id == project_id, finish.finished_at >= since, finish.finished_at < until
    )
    if items:
        stmt = stmt.join(Item, Item.id == finish.item_id).where(live_in_project(project_id), *items)
    return stmt


_FINISH_COUNTS: dict[str, ColumnElement[Any]] = {"finished": func.count()}
_FINISH_SPREADS = (Spread("cycle", (50, 85, 95)), Spread("lead", (50, 85, 95)))
Point = tuple[str, datetime, float | None]


async def finishes(
    session: AsyncSession, parts: Sequence[Select[Any]], limit: int, *, filtered: bool = False
) -> tuple[Figures, list[Point]]:
    """Over the finish rows of `parts` (selects of `live_finishes` or `stored_finishes`
    rows): how many, the percentiles of their cycle and lead times, and (key, finished, cycle
    seconds) of the latest `limit`, latest first (then by `seq`).

    On PostgreSQL, the rows of a single part (the event log's, before the first snapshots) are
    worked out once for both: reading the period's events and their items a second time for the
    latest was half of a filtered answer (bench.dora, 90 days of bugs).
    Snapshot rows are read by their index for the latest, latest first, unless `filtered`
    (narrowed by a filter's conditions on the items): then they are joined to the items whatever
    the order, and are worked out once too."""
    if is_postgres(session) and (len(parts) == 1 or filtered):
        return await _finishes_at_once(
            session, parts[0] if len(parts) == 1 else union_all(*parts), limit
        )
    rows = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    found = await reduce(
        session, rows, by_bucket=False, counts=_FINISH_COUNTS, spreads=_FINISH_SPREADS
    )
    return found[None], await _latest_finishes(session, parts, limit)


def _with_key(top: Subquery) -> list[Any]:
    """The latest rows' columns, each with its item's key found by its primary key (an array
    of the ids was planned as a scan of every item: 10 ms of a flow answer, bench.dora)."""
    key = select(Item.key).where(Item.id == top.c.item_id).scalar_subquery()
    return [top.c.finished_at, top.c.seq, key.label("key"), top.c.cycle]


def _latest_of(rows: Any, limit: Any) -> Subquery:
    return (
        select(rows.c.finished_at, rows.c.seq, rows.c.item_id, rows.c.cycle)
        .order_by(rows.c.finished_at.desc(), rows.c.seq.desc())
        .limit(limit)
        .subquery("latest")
    )


async def _finishes_at_once(
    session: AsyncSession, part: Select[Any] | CompoundSelect[Any], limit: int
) -> tuple[Figures, list[Point]]:
    """One statement: the part's rows once (a materialised CTE), their figures beside each of
    the latest rows (or beside none when there are no rows)."""
    rows = part.cte("finish_rows").prefix_with("MATERIALIZED")
    figures = select(*_aggregates(rows, _FINISH_COUNTS, _FINISH_SPREADS)).subquery("figures")
    top = _latest_of(rows, limit)
    stmt = select(figures, *_with_key(top)).select_from(figures.outerjoin(top, literal(True)))
    return _figures_and_latest((await session.execute(stmt)).all())


_FIGURE_NAMES = [
    *_FINISH_COUNTS,
    *(
        name
        for spread in _FINISH_SPREADS
        for name in (f"{spread.name}_count", *(f"{spread.name}_p{p}" for p in spread.percents))
    ),
]


def _figures_and_latest(answer: Sequence[Any]) -> tuple[Figures, list[Point]]:
    """The rows of a statement of the figures (`_aggregates`' columns) beside each of the
    latest rows (finished_at, seq, key, cycle), or beside none when there are no rows."""
    # The figures repeat on every row: named once from the first, the latest read by position
    # (a dict per row was a tenth of a filtered flow answer's Python time).
    names = _FIGURE_NAMES
    found: Figures = dict(zip(names, answer[0], strict=False)) if answer else {}
    first = len(names)  # then finished_at, seq, key, cycle
    latest: list[Point] = [
        (row[first + 2], row[first], None if row[first + 3] is None else float(row[first + 3]))
        for row in answer
        if row[first] is not None and row[first + 2] is not None
    ]
    return found, latest


async def written_finishes(
    session: AsyncSession,
    project_id: str,
    span: Period,
    boundary: datetime,
    limit: int,
) -> tuple[Figures, list[Point]]:
    """PostgreSQL: `finishes` of the project's period without a filter, from the written rows
    before `boundary` (the end of the last written day) and the event log from it on."""
    params = {
        "project_id": project_id,
        "since": span.since,
        "stored_until": min(span.until, boundary),
        "live_since": max(span.since, boundary),
        "until": span.until,
        "limit": limit,
    }
    answer = (await session.execute(_written_finishes_on_postgres(), params)).all()
    return _figures_and_latest(answer)


@cache
def _written_finishes_on_postgres() -> Select[Any]:
    """`written_finishes`' one statement on PostgreSQL, built once with bound parameters
    (`project_id`, `since`, `stored_until`, `live_since`, `until`, `limit`; a part whose start
    is not before its end has no rows): the figures over both parts' rows, beside each of the
    latest rows, each part's read by its index, latest first.

    Performance: building the finishes' statements anew for each answer (the parts, the
    figures, the latest of each part) was about a third of a two-year flow answer's Python
    time (py-spy, bench.dora's flow over two years), and the figures and the latest took three
    round trips. Built once, in one: server CPU per answer 28-31 -> 23-25 ms (two years) and
    23-24 -> 13-17 ms (30 days), bench.dora, alternating with the per-call statements."""
    project_id = bindparam("project_id", type_=String)

    def at(name: str) -> Any:
        return bindparam(name, type_=DateTime(timezone=True))

    limit = bindparam("limit", type_=Integer)
    stored = stored_finishes(project_id, at("since"), at("stored_until"))
    live = _live_finishes(project_id, at("live_since"), at("until"), [], on_postgres=True)
    rows = union_all(stored, live).subquery("finish_rows")
    figures = select(*_aggregates(rows, _FINISH_COUNTS, _FINISH_SPREADS)).subquery("figures")
    assert list(figures.c.keys()) == _FIGURE_NAMES
    latest = [_latest_of(part.subquery(), limit) for part in (stored, live)]
    newest = union_all(*(select(*part.c) for part in latest)).subquery("newest")
    top = _latest_of(newest, limit)
    return select(figures, *_with_key(top)).select_from(figures.outerjoin(top, literal(True)))


async def _latest_finishes(
    session: AsyncSession, parts: Sequence[Select[Any]], limit: int
) -> list[Point]:
    """(key, finished, cycle seconds) of the latest `limit` finish rows of `parts` (each read
    by its own index: latest first, then by `seq`), latest first."""
    latest: list[tuple[datetime, int, str, float | None]] = []
    for part in parts:
        found = await session.execute(select(*_with_key(_latest_of(part.subquery(), limit))))
        latest += [(at, seq, key, cycle) for at, seq, key, cycle in found if key is not None]
    latest = sorted(latest, key=lambda row: (row[0], row[1]), reverse=True)[:limit]
    return [(key, at, None if cycle is None else float(cycle)) for at, _, key, cycle in latest]


async def oldest_started(
    session: AsyncSession,
    project_id: str,
    items: Sequence[Any],
    status_ids: Sequence[str],
    limit: int,
) -> tuple[int, list[tuple[str, str, str, datetime]]]:
    """How many of the live items (matching `items`) now in one of `status_ids` have started,
    and (key, title, status id, started) of the oldest `limit` of them, oldest start first."""
    rows = (
        await session.execute(
            select(Item.key, Item.title, Item.status_id, Item.started_at, func.count().over())
            .where(
                live_in_project(project_id),
                Item.status_id.in_(list(status_ids)),
                Item.started_at.is_not(None),
                *items,
            )
            .order_by(Item.started_at, Item.id)
            .limit(limit)
        )
    ).all()
    total = int(rows[0][4]) if rows else 0
    oldest = [
        (key, title, status, started)
        for key, title, status, started, _ in rows
        if started is not None  # always: the query asks for started items
    ]
    return total, oldest
