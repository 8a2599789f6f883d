"""Patient pages (opened by a personal link, no login) and staff pages.

Every link that must not open anything (unknown, reused after submission, expired,
another state) gets the same neutral page with the same status, so a link reveals
nothing about whether it ever existed or whose it was."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.followup.models import Assessment
from blend.apps.followup.services import statuses
from blend.apps.questionnaires import domain as qpages
from blend.apps.questionnaires import services
from blend.apps.questionnaires.models import Mode, ResponseStatus
from blend.protocol.schedule import load_schedule


def _language(assessment: Assessment) -> str:
    identity = getattr(assessment.participant, "identity", None)
    return identity.preferred_language if identity else "nl"


def _invalid(request: HttpRequest) -> HttpResponse:
    response = render(request, "questionnaires/patient/invalid.html", status=404)
    response["Cache-Control"] = "no-store"
    return response


def _fields(
    page: qpages.Page,
    stored: dict[str, Any],
    raw: dict[str, str],
    errors: dict[str, str],
    prefix: str = "",
) -> list[dict[str, Any]]:
    rows = []
    for fld in page.fields:
        value = raw.get(fld.key, "") if fld.key in raw else stored.get(fld.key)
        rows.append(
            {
                "f": fld,
                "name": prefix + fld.key,
                "value": "" if value is None else str(value),
                "error": errors.get(fld.key, ""),
            }
        )
    return rows


def _chosen_language(request: HttpRequest, token: str, assessment: Assessment) -> str:
    """The patient's preferred language, unless they switched on the page (kept per link)."""
    key = "qlang:" + services.hash_token(token)[:16]
    if request.GET.get("lang") in {"nl", "en"}:
        request.session[key] = request.GET["lang"]
    return request.session.get(key) or _language(assessment)


@never_cache
def patient(request: HttpRequest, token: str) -> HttpResponse:
    assessment = services.resolve_token(token)
    if assessment is None:
        return _invalid(request)
    language = _chosen_language(request, token, assessment)
    with translation.override(language):
        return _patient_page(request, token, assessment, language)


def _patient_page(
    request: HttpRequest, token: str, assessment: Assessment, language: str
) -> HttpResponse:
    pages = services.pages_for(assessment, language)
    response = services.response_of(assessment)
    answers = response.answers if response else {}
    index = _page_index(request, len(pages), pages, answers)
    if request.method == "POST" and request.POST.get("action") == "submit":
        services.submit(assessment, mode=Mode.WEB)
        return render(request, "questionnaires/patient/thanks.html", {"language": language})
    raw: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST" and index < len(pages):
        page = pages[index]
        raw = {f.key: request.POST.get(f.key, "") for f in page.fields}
        values, errors = qpages.parse_page(page, raw, language)
        response = services.save_answers(
            assessment, page.code, values, mode=Mode.WEB, language=language
        )
        answers = response.answers
        if request.headers.get("HX-Request"):
            return render(
                request,
                "questionnaires/patient/_save_status.html",
                {"errors": errors, "saved_at": response.updated_at},
            )
        if not errors:
            return redirect(reverse("questionnaires:patient", args=[token]) + f"?page={index + 1}")
    done, total = qpages.answered(pages, answers)
    context = {
        "token": token,
        "pages": pages,
        "index": index,
        "language": language,
        "timepoint": load_schedule().timepoint(assessment.timepoint).label(language),
        "closes_on": assessment.closes_on,
        "done": done,
        "total": total,
        "percent": round(100 * done / total) if total else 100,
    }
    if index == len(pages):
        context["unanswered"] = total - done
        return render(request, "questionnaires/patient/review.html", context)
    page = pages[index]
    context.update(
        page=page, rows=_fields(page, answers.get(page.code, {}), raw, errors), errors=errors
    )
    return render(
        request, "questionnaires/patient/page.html", context, status=400 if errors else 200
    )


def _page_index(
    request: HttpRequest, count: int, pages: list[qpages.Page], answers: dict[str, Any]
) -> int:
    """The requested page, or (first visit, resuming) the first page with a blank answer."""
    given = request.POST.get("page") if request.method == "POST" else request.GET.get("page")
    if given is not None and given.isdigit():
        return min(int(given), count)
    for i, page in enumerate(pages):
        stored = answers.get(page.code, {})
        keys = ["any"] if page.code == "omed" else [f.key for f in page.fields]
        if any(stored.get(k) is None for k in keys):
            return i
    return count


@require(Cap.PARTICIPANT_VIEW)
def assessment_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Answers and scores of a questionnaire; or, for staff who enter questionnaires,
    the paper/telephone entry form while it is open."""
    assessment = get_object_or_404(Assessment.objects.select_related("participant"), pk=pk)
    response = services.response_of(assessment)
    language = translation.get_language() or "en"
    pages = services.pages_for(assessment, "nl" if language == "nl" else "en")
    status = statuses([assessment])[assessment.pk]
    may_enter = (
        request.user.can(Cap.QUESTIONNAIRE_ENTER)
        and status not in {"stopped", "upcoming", "completed"}
        and not (response and response.status == ResponseStatus.SUBMITTED)
    )
    context: dict[str, Any] = {
        "assessment": assessment,
        "participant": assessment.participant,
        "response": response,
        "status": status,
        "may_enter": may_enter,
        "modes": [Mode.PAPER, Mode.TELEPHONE],
    }
    stored = response.answers if response else {}
    if request.method == "POST" and may_enter:
        return _staff_entry(request, assessment, pages, stored, context)
    context["sections"] = [
        {
            "page": p,
            "rows": _fields(p, stored.get(p.code, {}), {}, {}, f"{p.code}__"),
            "scores": (response.scores or {}).get(p.code) if response else None,
        }
        for p in pages
    ]
    context["today"] = timezone.localdate()
    return render(request, "questionnaires/assessment.html", context)


def _staff_entry(
    request: HttpRequest,
    assessment: Assessment,
    pages: list[qpages.Page],
    stored: dict[str, Any],
    context: dict[str, Any],
) -> HttpResponse:
    language = "nl" if translation.get_language() == "nl" else "en"
    answers, sections, has_errors = {}, [], False
    for page in pages:
        raw = {f.key: request.POST.get(f"{page.code}__{f.key}", "") for f in page.fields}
        values, errors = qpages.parse_page(page, raw, language)
        answers[page.code] = values
        has_errors = has_errors or bool(errors)
        sections.append(
            {
                "page": page,
                "rows": _fields(page, stored.get(page.code, {}), raw, errors, f"{page.code}__"),
                "scores": None,
            }
        )
    mode, completed_on = request.POST.get("mode", ""), request.POST.get("completed_on", "")
    form_errors = {}
    if mode not in {Mode.PAPER, Mode.TELEPHONE}:
        form_errors["mode"] = _("Expected paper or telephone.")
    try:
        completed = date.fromisoformat(completed_on)
        if not assessment.participant.registered_on <= completed <= timezone.localdate():
            form_errors["completed_on"] = _(
                "Expected a date between cohort entry and today, got %(d)s."
            ) % {"d": completed_on}
    except ValueError:
        form_errors["completed_on"] = _("Expected a date (YYYY-MM-DD), got %(d)s.") % {
            "d": completed_on or "nothing"
        }
    if has_errors or form_errors:
        context.update(
            sections=sections,
            form_errors=form_errors,
            mode=mode,
            completed_on=completed_on,
            today=timezone.localdate(),
        )
        return render(request, "questionnaires/assessment.html", context, status=400)
    services.enter_by_staff(
        assessment, answers, mode=mode, completed_on=completed, user=request.user
    )
    messages.success(request, _("Questionnaire entered and scored."))
    return redirect("questionnaires:assessment", pk=assessment.pk)
