"""Data queries on the pages that show a participant's data: beside a field, its open
queries and the "Raise query" control (``{% raise_query participant form field object_id %}``);
a query's field by its label (``{{ query|query_field }}``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from blend.apps.datamanagement.fields import field_label
from blend.apps.datamanagement.models import QueryStatus

register = template.Library()


def _open_queries(participant: Any) -> dict[tuple[str, str, str], list[Any]]:
    """The participant's open and answered queries by (form, field, record): read once per
    page, however many fields it shows."""
    index = getattr(participant, "_open_queries_by_field", None)
    if index is None:
        index = {}
        for query in participant.queries.exclude(status=QueryStatus.CLOSED).order_by("pk"):
            index.setdefault((query.form, query.field, query.object_id), []).append(query)
        participant._open_queries_by_field = index
    return index


@register.inclusion_tag("datamanagement/_raise_query_link.html", takes_context=True)
def raise_query(
    context: template.Context, participant: Any, form: str, field: str, object_id: Any = ""
) -> dict[str, Any]:
    """Beside a field: its open queries (for everyone who sees the page), and a small link
    that opens the query form prefilled with this form and field, for the roles that raise
    queries (``query.raise``)."""
    record = str(object_id or participant.pk)
    pending = _open_queries(participant).get((form, field, record), [])
    shown: dict[str, Any] = {"show": False, "pending": pending, "field": field}
    if "query.raise" not in (context.get("caps") or ()):
        return shown
    request = context.get("request")
    params = {"form": form, "field": field, "object": object_id or ""}
    if request is not None:
        params["next"] = request.get_full_path()
    url = reverse("datamanagement:raise-query", args=[participant.study_id])
    return shown | {
        "show": True,
        "url": f"{url}?{urlencode(params)}",
        "label": field_label(form, field),
    }


@register.filter
def query_field(query: Any) -> str:
    """The label of the field a query is on (its form when it is on no field)."""
    return field_label(query.form, query.field) or query.form
