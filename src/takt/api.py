"""The `/api/v1` router: includes every domain router and nothing else."""

from fastapi import APIRouter

from takt.audit.router import router as audit_router
from takt.auth.router import router as auth_router
from takt.blockers.router import router as blockers_router
from takt.delivery.router import router as delivery_router
from takt.deployments.router import router as deployments_router
from takt.estimation.router import router as estimation_router
from takt.events.router import router as events_router
from takt.incidents.router import router as incidents_router
from takt.integrations.router import router as integrations_router
from takt.items.router import router as items_router
from takt.metrics.router import router as metrics_router
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

api_router = APIRouter(prefix="/api/v1")
# First: inbound webhooks are the busiest unauthenticated route, and a request is matched
# against the routes in order (bench/reviews.py).
api_router.include_router(integrations_router)
api_router.include_router(auth_router)
api_router.include_router(projects_router)
api_router.include_router(workflow_router)
api_router.include_router(items_router)
api_router.include_router(sprints_router)
api_router.include_router(risks_router)
api_router.include_router(blockers_router)
api_router.include_router(standups_router)
api_router.include_router(delivery_router)
api_router.include_router(readiness_router)
api_router.include_router(deployments_router)
api_router.include_router(incidents_router)
api_router.include_router(retros_router)
api_router.include_router(estimation_router)
api_router.include_router(transfer_router)
api_router.include_router(events_router)
api_router.include_router(audit_router)
api_router.include_router(metrics_router)
api_router.include_router(webhooks_router)
api_router.include_router(worker_router)
