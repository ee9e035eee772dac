"""The `/api/v1` router: includes every domain router and nothing else."""

from fastapi import APIRouter
from fastapi.routing import APIRoute

from takt.audit.router import router as audit_router
from takt.auth.router import router as auth_router
from takt.blockers.router import router as blockers_router
from takt.core.direct import DirectHandler
from takt.delivery.router import router as delivery_router
from takt.deployments.router import router as deployments_router
from takt.estimation.router import router as estimation_router
from takt.events.router import router as events_router
from takt.incidents.router import router as incidents_router
from takt.integrations.router import router as integrations_router
from takt.items.router import get_item_direct, list_items_direct
from takt.items.router import router as items_router
from takt.metrics.router import router as metrics_router
from takt.projects.router import get_project_direct
from takt.projects.router import router as projects_router
from takt.readiness.router import router as readiness_router
from takt.retros.router import router as retros_router
from takt.risks.router import router as risks_router
from takt.sprints.router import router as sprints_router
from takt.standups.router import router as standups_router
from takt.transfer.router import router as transfer_router
from takt.webhooks.router import router as webhooks_router
from takt.worker.router import router as worker_router
from takt.workflow.router import router as workflow_router

API_PREFIX = "/api/v1"
# Included by the app under API_PREFIX (takt.main).
api_router = APIRouter()
# The domain routers' routes are added to this one router rather than included as routers:
# FastAPI matches a request against every level of included routers again when it hands the
# request down (0.165: `_IncludedRouter._handle_selected`), so each level of nesting was one
# more walk of the routes' regular expressions. The routes carry everything their router gave
# them (tags, responses) from when they were declared, and no domain router has a prefix or
# dependencies of its own (tests/test_api_routes.py checks both). Measured in-process on the
# project detail: see bench/RESULTS.md, issue 19.
DOMAIN_ROUTERS = (
    # First: inbound webhooks are the busiest unauthenticated route, and a request is matched
    # against the routes in order (bench/reviews.py).
    integrations_router,
    auth_router,
    projects_router,
    workflow_router,
    items_router,
    sprints_router,
    risks_router,
    blockers_router,
    standups_router,
    delivery_router,
    readiness_router,
    deployments_router,
    incidents_router,
    retros_router,
    estimation_router,
    transfer_router,
    events_router,
    audit_router,
    metrics_router,
    webhooks_router,
    worker_router,
)


def _declared_routes() -> list[APIRoute]:
    routes = []
    for domain_router in DOMAIN_ROUTERS:
        for route in domain_router.routes:
            if not isinstance(route, APIRoute):  # a websocket or mount would need its own care
                raise TypeError(f"{route!r}: only API routes are expected in a domain router")
            routes.append(route)
    return routes


# Every API operation in declaration order (takt.core.routes.RouteIndex keeps that order).
API_ROUTES = _declared_routes()
api_router.routes.extend(API_ROUTES)

# The hottest GETs answered on the direct path where it can (takt.core.direct, PostgreSQL): path
# template under API_PREFIX, and its handler. Each keeps its documented route above.
DIRECT_READS: tuple[tuple[str, DirectHandler], ...] = (
    ("/projects/{project_key}", get_project_direct),
    ("/items/{item_key}", get_item_direct),
    ("/projects/{project_key}/items", list_items_direct),
)
