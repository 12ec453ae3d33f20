"""Server-side paging, sorting and search for record tables: one implementation for every table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, FromClause, Select, SQLColumnExpression, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from models.params import offset_fits

MAX_PAGE_SIZE = 500

# A column to search, sort or key on: a Core column or label, or an ORM attribute
# (`Call.started_at`), which is not a ColumnElement but has the same operators.
ColumnExpr: TypeAlias = SQLColumnExpression[Any]


@dataclass(frozen=True)
class TablePage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    page_size: int

    @property
    def page_count(self) -> int:
        return max((self.total + self.page_size - 1) // self.page_size, 1)


def search_clause(columns: list[ColumnExpr], text: str | None) -> ColumnElement[bool] | None:
    """Case-insensitive "contains" over the given text columns; None when there is nothing to find."""
    text = (text or "").strip()
    return contains_clause(columns, text) if text else None


def contains_clause(columns: list[ColumnExpr], text: str) -> ColumnElement[bool]:
    """`search_clause` for text already known to be non-blank, so never None."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(*(func.lower(col).like(pattern.lower(), escape="\\") for col in columns))


def sort_order(
    column: ColumnExpr, descending: bool = False, main: FromClause | None = None
) -> ColumnElement[Any]:
    """ORDER BY `column` with empty values last either way (PostgreSQL and SQLite disagree
    on where NULLs go). A NOT NULL column of the `main` table (not outer-joined) is left
    bare, so an index on it can still give the order."""
    order = column.desc() if descending else column.asc()
    bare = main is not None and getattr(column, "table", None) is main
    return order if bare and getattr(column, "nullable", True) is False else order.nulls_last()


def page_order(
    sortable: Mapping[str, ColumnExpr],
    sort: str | None,
    descending: bool,
    default_sort: ColumnExpr | None,
    tiebreak: ColumnExpr | None,
) -> list[ColumnElement[Any]]:
    """ORDER BY of a table view: the whitelisted column asked for (else `default_sort`,
    newest first), then `tiebreak`; a paged table and its CSV export share it."""
    order = sortable.get(sort or "")
    ordering: list[ColumnElement[Any]]
    if order is None:
        ordering = [default_sort.desc()] if default_sort is not None else []
        descending = True
    else:
        ordering = [sort_order(order, descending, getattr(tiebreak, "table", None))]
    if tiebreak is not None:
        ordering.append(tiebreak.desc() if descending else tiebreak.asc())
    return ordering


def fetch_page(
    session: Session,
    stmt: Select[Any],
    *,
    sortable: Mapping[str, ColumnExpr],
    sort: str | None = None,
    descending: bool = False,
    default_sort: ColumnExpr | None = None,
    page: int = 0,
    page_size: int = 25,
    tiebreak: ColumnExpr | None = None,
    key: QueryableAttribute[Any] | None = None,
    offset: int | None = None,
) -> TablePage:
    """One page of `stmt` (already filtered and scoped) and the total count of its rows.

    Only columns named in `sortable` can be sorted on, so a forged sort key cannot reach SQL.
    With `key` (a unique column of the main table, labelled as in `stmt`), the count and
    the page's ordering select that column alone, so PostgreSQL drops the joins nobody
    uses and can answer both from an index; only the page's rows are then read whole.
    `offset` (rows to skip, the API's paging) replaces `page * page_size` when given; a
    page beyond anything SQL can skip to is empty rather than an overflow.
    """
    page_size = max(1, min(page_size or 25, MAX_PAGE_SIZE))
    page = max(page or 0, 0)
    offset = page * page_size if offset is None else max(offset, 0)
    page = offset // page_size
    narrow = stmt.with_only_columns(key) if key is not None else stmt
    total = session.scalar(select(func.count()).select_from(narrow.order_by(None).subquery())) or 0
    if not offset_fits(offset):
        return TablePage([], total, page, page_size)
    ordering = page_order(sortable, sort, descending, default_sort, tiebreak)
    if key is None:
        result = session.execute(
            stmt.order_by(*ordering).limit(page_size).offset(offset)
        ).mappings()
        return TablePage([dict(r) for r in result], total, page, page_size)
    keys = list(session.scalars(narrow.order_by(*ordering).limit(page_size).offset(offset)))
    found = {r[key.key]: dict(r) for r in session.execute(stmt.where(key.in_(keys))).mappings()}
    return TablePage([found[k] for k in keys if k in found], total, page, page_size)
