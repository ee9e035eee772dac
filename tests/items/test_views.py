"""Item rows are unpacked by position: the query's columns and the views' field list agree."""

from __future__ import annotations

from takt.items import repository as repo
from takt.items import views


def test_summary_fields_follow_the_query_columns() -> None:
    names = [column.key for column in repo.item_rows().selected_columns]
    assert tuple(names) == views.SUMMARY_FIELDS
    detail = [column.key for column in repo.item_rows(description=True).selected_columns]
    assert tuple(detail) == (*views.SUMMARY_FIELDS, "description")
