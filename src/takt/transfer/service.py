"""Export a project as one document, and import a document as a new project.

Export, import, export gives the same document except the project key (and so the item keys):
people are named by username, items by key, and every id the server keeps is a reference local
to the document (`refs`). Import never makes anyone a member or an author: the importer becomes
the project's admin, other exported members join only when an instance admin imports, and the
people the history and comments name stay names (`*_name` columns, `imported` events). Blockers,
risks and stand-up entries have no place for a name: the people they name are the copy's members
of those usernames or nobody, so they are never anyone but a member the import itself allowed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.core.audit import ClientContext
from takt.core.audit import record_by as audit_by
from takt.core.statistics import refresh_after_bulk_write, rows_inserted
from takt.projects.policies import ProjectAccess
from takt.transfer import exporting, importing
from takt.transfer.schemas import ExportDocument, ImportRequest


async def export_project(session: AsyncSession, access: ProjectAccess) -> ExportDocument:
    """The whole project as a document (any member may export what they can read)."""
    return await exporting.document(session, access)


async def import_project(
    session: AsyncSession, principal: Principal, request: ImportRequest, *, client: ClientContext
) -> ProjectAccess:
    """Recreate an exported project under `request.key`, in steps: check the document whole
    (nothing is written for a broken one), create the project, bring in members (instance admins
    only), its workflow, sprints, items and what hangs off them, its risks and blockers, its
    stand-ups, its environments, deployments and incidents, its readiness policy, then its
    history."""
    doc = request.document
    importing.check(doc)
    inserted_before = await rows_inserted(session)
    plan = importing.Plan(doc, old_key=doc.project.key, new_key=request.key)
    access = await importing.create_project(session, principal, request, plan, client=client)
    members = await importing.add_members(session, access, doc, client=client)
    await importing.write_workflow(session, access.project.id, plan)
    await importing.write_sprints(session, access.project.id, plan, members)
    await importing.write_items(session, access.project.id, plan, members)
    await importing.write_risks_and_blockers(session, access.project.id, plan, members)
    await importing.write_standups(session, access.project.id, plan, members)
    await importing.write_delivery(session, access.project.id, plan, members)
    await importing.write_readiness_policy(session, access, plan)
    await importing.write_history(session, access.project.id, plan)
    await audit_by(
        session,
        principal,
        "project.imported",
        client=client,
        project_id=access.project.id,
        target_type="project",
        target_id=access.project.key,
        details={
            "from_key": plan.old_key,
            "version": doc.version,
            "items": len(doc.items),
            "members": len(members),
        },
    )
    await session.flush()
    # The import grew tables by thousands of rows at once: the reads that follow it (its own
    # export first of all) must not be planned on figures that still call those tables empty.
    await refresh_after_bulk_write(session, inserted_before)
    await session.refresh(access.project)
    return access
