"""Imports every model module so `metadata` knows all tables (for Alembic and tests)."""

from takt.auth import models as auth_models
from takt.blockers import models as blocker_models
from takt.core import audit, events, idempotency, jobs, ratelimit
from takt.core.models import Base
from takt.delivery import models as delivery_models
from takt.deployments import models as deployment_models
from takt.estimation import models as estimation_models
from takt.incidents import models as incident_models
from takt.integrations import models as integration_models
from takt.items import models as item_models
from takt.metrics import models as metric_models
from takt.projects import models as project_models
from takt.readiness import models as readiness_models
from takt.retros import models as retro_models
from takt.risks import models as risk_models
from takt.sprints import models as sprint_models
from takt.standups import models as standup_models
from takt.webhooks import models as webhook_models
from takt.workflow import models as workflow_models

metadata = Base.metadata

__all__ = [
    "audit",
    "auth_models",
    "blocker_models",
    "delivery_models",
    "deployment_models",
    "estimation_models",
    "events",
    "idempotency",
    "incident_models",
    "integration_models",
    "item_models",
    "jobs",
    "metadata",
    "metric_models",
    "project_models",
    "ratelimit",
    "readiness_models",
    "retro_models",
    "risk_models",
    "sprint_models",
    "standup_models",
    "webhook_models",
    "workflow_models",
]
