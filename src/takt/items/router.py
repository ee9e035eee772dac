"""Work-item endpoints: list/search, CRUD, move, links, comments (history: `takt.events`)."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Query, Request, Response, status
from typing_extensions import TypeAliasType

from takt.auth.deps import CurrentPrincipal, cached_principal
from takt.auth.models import User
from takt.auth.schemas import UserSummary
from takt.core.concurrency import (
    representation_etag,
    representation_response,
    resolve_if_match,
)
from takt.core.deps import (
    CURSOR_MAX,
    ETAG_HEADER_MAX,
    CodecDep,
    CursorQuery,
    IfMatchHeader,
    IfNoneMatchHeader,
    LimitQuery,
    PageDep,
    SessionDep,
)
from takt.core.direct import DirectReader
from takt.core.errors import InvalidCursor, ValidationFailed
from takt.core.openapi import json_bytes, json_data_response, problems
from takt.core.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    CursorCodec,
    Page,
    SortKey,
    cut_page,
    paginate,
)
from takt.core.time import utcnow
from takt.items import board, bulk, readiness, relations, search, service, trash, views
from takt.items import repository as repo
from takt.items.deps import (
    ItemContext,
    ItemContextDep,
    ItemDetailDep,
    ItemForUpdateDep,
    item_not_found,
)
from takt.items.models import Comment, Item
from takt.items.schemas import (
    ITEM_KEY_MAX,
    ITEM_KEY_MIN,
    Board,
    BulkRequest,
    BulkResponse,
    CommentCreate,
    CommentRead,
    CommentUpdate,
    ItemCreate,
    ItemKeyPath,
    ItemPage,
    ItemRead,
    ItemUpdate,
    LinkCreate,
    LinkList,
    LinkRead,
    LinkType,
    MoveRequest,
    ReadinessUpdate,
    RefinementPage,
    TrashedItem,
    TrashPage,
)
from takt.projects import service as projects_service
from takt.projects.deps import PROJECT_KEY_MAX, ProjectAccessDep
from takt.projects.policies import ProjectAccess

router = APIRouter(tags=["items"])

ItemSort = TypeAliasType(
    "ItemSort",
    Literal[
        "rank",
        "key",
        "created_at",
        "-created_at",
        "updated_at",
        "-updated_at",
        "priority",
        "-priority",
    ],
)
SortName = ItemSort
_FACET = "(" + "|".join(search.FACETS) + ")"
# The schema says which names `facets` takes, so clients (and schemathesis) can know.
FACETS_PATTERN = f"^ *{_FACET} *(, *{_FACET} *)*$"


def _cursor_sort(sort: str) -> str:
    """The sort a list cursor names (`CursorCodec`): one made for another order is refused."""
    return f"items:{sort}"


def _detail_bytes(item: Item, shown: views.Shown, access: ProjectAccess) -> bytes:
    """The item's body as a read shows it, from the item and what it shows (no second read)."""
    return json_bytes(views.detail_of(item, shown, readiness.of_project(access.project)))


def _answer(
    item: Item,
    shown: views.Shown,
    access: ProjectAccess,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A write's answer from the item and what it shows, with no second read. Its ETag is that
    of the body, as a read's: it shows statuses, labels, users and sprints whose changes don't
    move the item's version (`concurrency.representation_etag`)."""
    return representation_response(
        _detail_bytes(item, shown, access),
        item.version,
        status_code=status_code,
        headers=headers,
    )


def _if_match(if_match: str | None, context: ItemContext) -> str | None:
    """`If-Match` as the version the write checks: the item's current ETag (built from what the
    write's context read, only when the header could name it) stands for its version."""
    item = context.item
    return resolve_if_match(
        if_match,
        item.version,
        lambda: representation_etag(
            item.version, _detail_bytes(item, context.shown, context.access)
        ),
    )


@router.get(
    "/projects/{project_key}/items", response_model=ItemPage, responses=problems(400, 401, 404, 422)
)
async def list_items(
    access: ProjectAccessDep,
    session: SessionDep,
    codec: CodecDep,
    q: Annotated[
        str | None,
        Query(
            max_length=1000,
            description='Filter language, e.g. `status:"In Progress" assignee:@me '
            'label:api priority:>=high "free text"` or `type:bug OR (type:story '
            "priority:>=high)` (AND binds tighter than OR). A query that can't be used (syntax, "
            "a value out of range, a name that doesn't exist in the project) answers 400 "
            "`invalid-query` with its `position`.",
        ),
    ] = None,
    sort: Annotated[SortName, Query(description="Order; `rank` is the backlog order.")] = "rank",
    facets: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=FACETS_PATTERN,
            description="Comma-separated: status, assignee, label, type, priority.",
        ),
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    """The project's items (summaries, without descriptions), filtered and sorted."""
    facet_names = [f.strip() for f in facets.split(",") if f.strip()] if facets else []
    unknown = [f for f in facet_names if f not in search.FACETS]
    if unknown:
        raise ValidationFailed.at(
            "/query/facets",
            f"one of {', '.join(search.FACETS)}",
            detail=f"Unknown facet {unknown[0]!r}.",
        )
    ctx = search.SearchContext(
        project_id=access.project.id,
        principal_id=access.principal.id,
        dialect=session.get_bind().dialect.name,
    )
    where = await search.filter_conditions(session, q, ctx)
    rows, next_cursor = await paginate(
        session,
        repo.item_rows().where(Item.project_id == access.project.id, *where)
        if where
        else functools.partial(repo.project_items_page, sort),
        keys=search.SORTS[sort],
        key_of=lambda row: search.sort_values(sort, row),
        codec=codec,
        sort_name=_cursor_sort(sort),
        limit=limit,
        cursor=cursor,
        scalars=False,
        params=None if where else {"project_id": access.project.id},
    )
    counts = (
        await search.facet_counts(session, facet_names, access.project.id, where)
        if facet_names
        else None
    )
    return json_data_response(
        {
            "data": views.summaries(rows, readiness.of_project(access.project)),
            "next_cursor": next_cursor,
            "facets": counts,
        }
    )


# The list's query parameters a direct read answers (no `q`, no `facets`); any other, or one
# given twice, goes to the framework's route.
_DIRECT_LIST_PARAMETERS = frozenset({"sort", "limit", "cursor"})
_SORTS: frozenset[str] = frozenset(get_args(ItemSort.__value__))


def _direct_list_page(request: Request, codec: CursorCodec) -> tuple[str, int, list[Any]] | None:
    """The sort, limit and decoded cursor values of an unfiltered list request, or None
    when the framework's route must answer (a filter, a facet, anything its validation refuses,
    a cursor it would refuse)."""
    params = request.query_params
    keys = params.keys()
    if not keys <= _DIRECT_LIST_PARAMETERS or len(params.multi_items()) != len(keys):
        return None
    sort = params.get("sort", "rank")
    limit_text = params.get("limit", str(DEFAULT_LIMIT))
    cursor = params.get("cursor") or None  # empty: page one, as on the framework's route
    if sort not in _SORTS or not (limit_text.isascii() and limit_text.isdigit()):
        return None
    limit = int(limit_text) if len(limit_text) <= 4 else 0  # no int() of a huge string
    if not 1 <= limit <= MAX_LIMIT or len(cursor or "") > CURSOR_MAX:
        return None
    try:
        values = codec.decode(cursor, _cursor_sort(sort), len(search.SORTS[sort])) if cursor else []
    except InvalidCursor:
        return None
    return sort, limit, values


async def list_items_direct(request: Request, reader: DirectReader) -> Response | None:
    """`list_items` without a filter or facets on the direct path (takt.core.direct,
    PostgreSQL): the same page from the same statement, or None to let `list_items` answer."""
    key = request.path_params["project_key"]
    if len(key) > PROJECT_KEY_MAX:
        return None  # the framework's 422
    codec: CursorCodec = request.app.state.cursor_codec
    page = _direct_list_page(request, codec)
    if page is None:
        return None
    sort, limit, values = page
    principal = await cached_principal(request)
    if principal is None:
        return None
    access = await projects_service.direct_access(reader, principal, key)
    rows, next_cursor = cut_page(
        await repo.direct_project_page(reader, access.project.id, sort, values, limit),
        limit,
        codec=codec,
        sort_name=_cursor_sort(sort),
        key_of=lambda row: search.sort_values(sort, row),
    )
    return json_data_response(
        {
            "data": views.summaries(rows, readiness.of_project(access.project)),
            "next_cursor": next_cursor,
            "facets": None,
        }
    )


@router.post(
    "/projects/{project_key}/items",
    status_code=status.HTTP_201_CREATED,
    response_model=ItemRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def create_item(body: ItemCreate, access: ProjectAccessDep, session: SessionDep) -> Response:
    """Create an item at the bottom of the backlog; its key is `PROJECT-N`."""
    created = await service.create_item(session, access, body)
    item = created.item
    return _answer(
        item,
        views.shown_of_created(created, access.principal.user),
        access,
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/api/v1/items/{item.key}"},
    )


@router.get(
    "/items/{item_key}",
    response_model=ItemRead,
    responses={**problems(401, 404), 304: {"description": "Not modified."}},
)
async def get_item(row: ItemDetailDep, if_none_match: IfNoneMatchHeader = None) -> Response:
    """One item with its description."""
    return representation_response(
        json_bytes(views.detail_row(row)), row.version, if_none_match=if_none_match
    )


async def get_item_direct(request: Request, reader: DirectReader) -> Response | None:
    """`get_item` on the direct path (takt.core.direct, PostgreSQL): the same answer, or None to
    let `get_item` give it."""
    key = request.path_params["item_key"]
    if_none_match = request.headers.get("if-none-match")
    if not ITEM_KEY_MIN <= len(key) <= ITEM_KEY_MAX or len(if_none_match or "") > ETAG_HEADER_MAX:
        return None  # the framework's 422
    principal = await cached_principal(request)
    if principal is None:
        return None
    row = await repo.direct_visible_detail(reader, principal, key)
    if row is None:
        raise item_not_found(key)
    return representation_response(
        json_bytes(views.detail_row(row)), row.version, if_none_match=if_none_match
    )


@router.patch(
    "/items/{item_key}", response_model=ItemRead, responses=problems(401, 403, 404, 412, 422)
)
async def update_item(
    body: ItemUpdate,
    context: ItemForUpdateDep,
    session: SessionDep,
    if_match: IfMatchHeader = None,
) -> Response:
    """Change fields; send `If-Match` to be sure nobody changed the item since you read it."""
    updated = await service.update_item(
        session, context.access, context.item, body, if_match=_if_match(if_match, context)
    )
    return _answer(updated.item, views.shown_after(context.shown, updated), context.access)


@router.delete(
    "/items/{item_key}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 409, 412),
)
async def delete_item(
    context: ItemForUpdateDep, session: SessionDep, if_match: IfMatchHeader = None
) -> Response:
    """Move an item to the trash: gone from every list and read, restorable for 30 days; in a
    planned or active sprint this is a scope removal. Its history stays in the event log."""
    await trash.delete_item(
        session, context.access, context.item, if_match=_if_match(if_match, context)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/items/{item_key}/restore", response_model=ItemRead, responses=problems(401, 403, 404, 409)
)
async def restore_item(
    item_key: ItemKeyPath, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    """Bring an item back from the trash (within 30 days of its deletion), to its place in the
    backlog and, if that sprint is planned or active, into its sprint (a scope addition)."""
    await trash.restore_item(session, principal, item_key)
    row = await repo.get_visible_detail(session, principal, item_key)
    assert row is not None  # restored in this transaction, by a caller who sees the project
    return representation_response(json_bytes(views.detail_row(row)), row.version)


@router.get("/projects/{project_key}/trash", responses=problems(400, 401, 404, 422))
async def list_trash(
    access: ProjectAccessDep,
    session: SessionDep,
    codec: CodecDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> TrashPage:
    """The project's deleted items, most recent first, each restorable until its `purge_at`."""
    rows, next_cursor = await paginate(
        session,
        repo.trashed_in(access.project.id, trash.kept_since(utcnow())),
        keys=[SortKey(Item.deleted_at, True), SortKey(Item.id, True)],
        key_of=lambda row: (row[0].deleted_at, row[0].id),
        codec=codec,
        sort_name="trash",
        limit=limit,
        cursor=cursor,
        scalars=False,
    )
    return TrashPage(
        data=[
            TrashedItem(
                key=item.key,
                type=item.type,
                title=item.title,
                estimate=item.estimate,
                sprint_id=item.sprint_id,
                deleted_at=item.deleted_at,
                deleted_by=views.user_summary(user),
                purge_at=item.deleted_at + trash.KEPT_FOR,
            )
            for item, user in rows
        ],
        next_cursor=next_cursor,
    )


@router.post(
    "/items/{item_key}/move", response_model=ItemRead, responses=problems(401, 403, 404, 422)
)
async def move_item(body: MoveRequest, context: ItemForUpdateDep, session: SessionDep) -> Response:
    """Put the item right before or after another item in backlog order."""
    item = await service.move_item(
        session, context.access, context.item, before=body.before, after=body.after
    )
    return _answer(item, context.shown, context.access)


@router.put(
    "/items/{item_key}/readiness",
    response_model=ItemRead,
    responses=problems(401, 403, 404, 412, 422),
)
async def set_readiness(
    body: ReadinessUpdate,
    context: ItemForUpdateDep,
    session: SessionDep,
    if_match: IfMatchHeader = None,
) -> Response:
    """Tick the entries of the project's Definition of Ready that the item meets (exactly those:
    the others are unticked); the answer is the item with `ready` and `missing`."""
    item = await readiness.set_checked(
        session, context.access, context.item, body.checked, if_match=_if_match(if_match, context)
    )
    return _answer(item, context.shown, context.access)


@router.get(
    "/projects/{project_key}/refinement",
    response_model=RefinementPage,
    responses=problems(400, 401, 404, 422),
)
async def refinement_queue(
    access: ProjectAccessDep, session: SessionDep, page: PageDep
) -> Response:
    """The refinement queue: the backlog's items that are not ready (no estimate, no
    description, or an entry of the Definition of Ready not ticked), top-ranked first, each with
    what it lacks (`missing`)."""
    rows, next_cursor = await readiness.list_queue(session, access, page=page)
    return json_data_response(
        {
            "data": views.summaries(rows, readiness.of_project(access.project)),
            "next_cursor": next_cursor,
            "definition_of_ready": readiness.entries(access.project.settings),
        }
    )


@router.get("/items/{item_key}/links", responses=problems(401, 404))
async def list_links(context: ItemContextDep, session: SessionDep) -> LinkList:
    """Links from and to this item, each typed as seen from this item."""
    found = await repo.links_of(session, context.item.id)
    return LinkList(
        data=[
            LinkRead(
                id=link.id,
                type=relations.seen_from(link, is_source=is_source),
                target=key,
                target_title=title,
                created_at=link.created_at,
            )
            for link, key, title, is_source in found[:500]
        ]
    )


@router.post(
    "/items/{item_key}/links",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
)
async def create_link(body: LinkCreate, context: ItemContextDep, session: SessionDep) -> LinkRead:
    """Link this item to another of the project; the other shows the inverse link."""
    link, target = await relations.create_link(
        session, context.access, context.item, body.type, body.target
    )
    return LinkRead(
        id=link.id,
        type=body.type,
        target=target.key,
        target_title=target.title,
        created_at=link.created_at,
    )


@router.delete(
    "/items/{item_key}/links",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 422),
)
async def delete_link(
    context: ItemContextDep,
    session: SessionDep,
    type: Annotated[LinkType, Query(description="The link's type as seen from this item.")],
    target: Annotated[str, Query(max_length=24, description="The other item's key.")],
) -> Response:
    """Remove a link (from both items)."""
    await relations.delete_link(session, context.access, context.item, type, target)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _comment_read(comment: Comment, item_key: str, users: dict[str, User]) -> CommentRead:
    author = users.get(comment.author_id) if comment.author_id else None
    return CommentRead(
        id=comment.id,
        item_key=item_key,
        author=views.user_summary(author),
        imported_author=comment.author_name,
        body=comment.body,
        mentions=[
            UserSummary(id=u.id, username=u.username, display_name=u.display_name)
            for u in (users.get(i) for i in comment.mention_ids)
            if u is not None
        ],
        created_at=comment.created_at,
        updated_at=comment.updated_at,
    )


async def _comment_response(
    session: SessionDep, comment: Comment, item_key: str, mentioned: list[User]
) -> CommentRead:
    users = {u.id: u for u in mentioned}
    if comment.author_id:
        users.update(await repo.users_by_id(session, [comment.author_id]))
    return _comment_read(comment, item_key, users)


@router.get("/items/{item_key}/comments", responses=problems(400, 401, 404))
async def list_comments(
    context: ItemContextDep,
    session: SessionDep,
    codec: CodecDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[CommentRead]:
    """Comments on the item, oldest first."""
    rows, next_cursor = await paginate(
        session,
        repo.comments_of(context.item.id),
        keys=[SortKey(Comment.created_at), SortKey(Comment.id)],
        key_of=lambda c: (c.created_at, c.id),
        codec=codec,
        sort_name="comments",
        limit=limit,
        cursor=cursor,
    )
    ids = {c.author_id for c in rows if c.author_id} | {i for c in rows for i in c.mention_ids}
    users = await repo.users_by_id(session, sorted(ids))
    return Page[CommentRead](
        data=[_comment_read(c, context.item.key, users) for c in rows], next_cursor=next_cursor
    )


@router.post(
    "/items/{item_key}/comments",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 422),
)
async def add_comment(
    body: CommentCreate, context: ItemContextDep, session: SessionDep
) -> CommentRead:
    """Comment in Markdown; `@username` of a project member mentions them."""
    comment, mentioned = await relations.add_comment(
        session, context.access, context.item, body.body
    )
    return await _comment_response(session, comment, context.item.key, mentioned)


@router.patch("/items/{item_key}/comments/{comment_id}", responses=problems(401, 403, 404, 422))
async def edit_comment(
    comment_id: str, body: CommentUpdate, context: ItemContextDep, session: SessionDep
) -> CommentRead:
    """Edit a comment (its author or a project admin)."""
    comment, mentioned = await relations.edit_comment(
        session, context.access, context.item, comment_id, body.body
    )
    return await _comment_response(session, comment, context.item.key, mentioned)


@router.delete(
    "/items/{item_key}/comments/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404),
)
async def delete_comment(comment_id: str, context: ItemContextDep, session: SessionDep) -> Response:
    """Delete a comment (its author or a project admin)."""
    await relations.delete_comment(session, context.access, context.item, comment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/projects/{project_key}/board", response_model=Board, responses=problems(401, 404, 422)
)
async def get_board(
    access: ProjectAccessDep,
    session: SessionDep,
    sprint_id: Annotated[
        str | None,
        Query(
            max_length=36,
            description="Only this sprint's items; not a sprint of the project → 404. "
            "`current` names the project's active sprint (404 `no-active-sprint` when it has "
            "none).",
            examples=["current"],
        ),
    ] = None,
    per_column: Annotated[
        int, Query(ge=1, le=200, description="Most items listed per column.")
    ] = 50,
) -> Response:
    """Items by status in workflow order, each column in rank order with its count and WIP
    limit."""
    return json_data_response(
        await board.build_board(session, access, sprint_id=sprint_id, per_column=per_column)
    )


@router.post("/projects/{project_key}/items/bulk", responses=problems(401, 403, 404, 422))
async def bulk_update_items(
    body: BulkRequest, access: ProjectAccessDep, session: SessionDep
) -> BulkResponse:
    """Update up to 100 items; each gets its own result. With `atomic`, all or nothing."""
    return BulkResponse(results=await bulk.bulk_update(session, access, body))
