"""Data queries on the pages that show a participant's data: the "Raise query" control
beside a field (``{% raise_query participant form field object_id %}``) and a query's
field by its label (``{{ query|query_field }}``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from blend.apps.datamanagement.fields import field_label

register = template.Library()


@register.inclusion_tag("datamanagement/_raise_query_link.html", takes_context=True)
def raise_query(
    context: template.Context, participant: Any, form: str, field: str, object_id: Any = ""
) -> dict[str, Any]:
    """A small link that opens the query form prefilled with this form and field, for the
    roles that raise queries (``query.raise``); nothing for the others."""
    if "query.raise" not in (context.get("caps") or ()):
        return {"show": False}
    request = context.get("request")
    params = {"form": form, "field": field, "object": object_id or ""}
    if request is not None:
        params["next"] = request.get_full_path()
    url = reverse("datamanagement:raise-query", args=[participant.study_id])
    return {
        "show": True,
        "url": f"{url}?{urlencode(params)}",
        "label": field_label(form, field),
        "field": field,
    }


@register.filter
def query_field(query: Any) -> str:
    """The label of the field a query is on (its form when it is on no field)."""
    return field_label(query.form, query.field) or query.form
