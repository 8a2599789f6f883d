"""Patient pages (opened by a personal link, no login) and staff pages.

Every link that must not open anything (unknown, reused after submission, expired,
another state) gets the same neutral page with the same status, so a link reveals
nothing about whether it ever existed or whose it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.audit.guards import WriteRefused
from blend.apps.followup.models import Assessment, ExtraAssessment
from blend.apps.followup.services import statuses
from blend.apps.questionnaires import checks, own_results, services
from blend.apps.questionnaires import domain as qpages
from blend.apps.questionnaires.models import Mode, ResponseStatus
from blend.instruments import get_instrument, instrument_codes
from blend.instruments.translations import coverage, installed_dir
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


def _groups(page: qpages.Page, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows under their headers, so a template shows each header once, above the
    questions it belongs to."""
    by_key = {row["f"].key: row for row in rows}
    return [
        {"header": header, "rows": [by_key[f.key] for f in fields]}
        for header, fields in page.groups
    ]


def _chosen_language(request: HttpRequest, token: str, assessment: Assessment) -> str:
    """The patient's preferred language, unless they switched on the page (kept per link)."""
    key = "qlang:" + services.hash_token(token)[:16]
    if request.GET.get("lang") in {"nl", "en"}:
        request.session[key] = request.GET["lang"]
    return request.session.get(key) or _language(assessment)


def _is_submit(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("action") == "submit"


@never_cache
def patient(request: HttpRequest, token: str) -> HttpResponse:
    assessment = services.resolve_token(token)
    if assessment is None:
        sent = services.just_submitted(token) if _is_submit(request) else None
        if sent is None:
            return _invalid(request)
        # The same "send" again (a double tap, a retry): the same answer as the first.
        with translation.override(_chosen_language(request, token, sent)):
            return _thanks(request, sent)
    language = _chosen_language(request, token, assessment)
    with translation.override(language):
        if services.write_refusal(assessment) is not None:
            return _unavailable(request)
        try:
            return _patient_page(request, token, assessment, language)
        except WriteRefused:  # locked between the check above and the save
            return _unavailable(request)


def _thanks(request: HttpRequest, assessment: Assessment) -> HttpResponse:
    """The thank-you page; it links the member's own results when the cohort returns them."""
    link = None
    if own_results.enabled():
        link = reverse(
            "questionnaires:own-results", args=[own_results.link_token(assessment.participant)]
        )
    return render(request, "questionnaires/patient/thanks.html", {"own_results_url": link})


@never_cache
def my_results(request: HttpRequest, token: str) -> HttpResponse:
    """A member's own scores over time, in plain words (no trial, no arm, no login)."""
    participant = own_results.participant_for(token) if own_results.enabled() else None
    if participant is None:
        return render(request, "questionnaires/patient/invalid.html", status=404)
    language = request.GET.get("lang")
    if language not in {"nl", "en"}:
        identity = getattr(participant, "identity", None)
        language = identity.preferred_language if identity else "nl"
    with translation.override(language):
        return render(
            request,
            "questionnaires/patient/own_results.html",
            {"scales": own_results.own_results(participant, language), "language": language},
        )


def _unavailable(request: HttpRequest) -> HttpResponse:
    """Answers cannot be saved now (the record is locked, for one). The patient gets a
    calm page that names no trial, no study ID and no reason; autosave gets a line in
    its status area, so nothing fails silently."""
    if request.headers.get("HX-Request"):
        return render(request, "questionnaires/patient/_save_status.html", {"refused": True})
    return render(request, "questionnaires/patient/unavailable.html")


@dataclass(frozen=True)
class Position:
    """Where the patient is: instrument page ``page`` (``len(pages)`` = the review) and
    step ``step`` of it; ``number`` counts steps across the whole questionnaire."""

    page: int
    step: int
    number: int
    total: int


def _steps(pages: list[qpages.Page]) -> list[list[qpages.Page]]:
    return [qpages.split_steps(p) for p in pages]


def _position(
    request: HttpRequest, steps: list[list[qpages.Page]], answers: dict[str, Any]
) -> Position:
    """The requested step, or (first visit, resuming) the first step with a blank answer."""
    data = request.POST if request.method == "POST" else request.GET
    given, part = data.get("page"), data.get("step", "0")
    if given is not None and given.isdigit():
        page = min(int(given), len(steps))
        step = min(int(part), len(steps[page]) - 1) if page < len(steps) and part.isdigit() else 0
        return _numbered(steps, page, step)
    for p, page_steps in enumerate(steps):
        for i, step_page in enumerate(page_steps):
            if _has_blank(step_page, answers.get(step_page.code, {})):
                return _numbered(steps, p, i)
    return _numbered(steps, len(steps), 0)


def _has_blank(step: qpages.Page, stored: dict[str, Any]) -> bool:
    keys = ["any"] if step.code == "omed" else [f.key for f in step.fields]
    return any(stored.get(k) is None for k in keys)


def _numbered(steps: list[list[qpages.Page]], page: int, step: int) -> Position:
    number = sum(len(s) for s in steps[:page]) + step
    return Position(page, step, number, sum(len(s) for s in steps))


def _next(steps: list[list[qpages.Page]], at: Position) -> tuple[int, int]:
    if at.step + 1 < len(steps[at.page]):
        return at.page, at.step + 1
    return at.page + 1, 0


def _previous(steps: list[list[qpages.Page]], at: Position) -> tuple[int, int] | None:
    if at.step > 0:
        return at.page, at.step - 1
    if at.page > 0:
        return at.page - 1, len(steps[at.page - 1]) - 1
    return None


def _step_url(token: str, page: int, step: int) -> str:
    return reverse("questionnaires:patient", args=[token]) + f"?page={page}&step={step}"


def _with_errors(page: qpages.Page, step: qpages.Page, errors: dict[str, str]) -> qpages.Page:
    """The step, plus any question of the same page that has an error: a form may send
    questions of other steps, and the patient must see every one to correct."""
    shown = {f.key for f in step.fields} | set(errors)
    return replace(step, fields=tuple(f for f in page.fields if f.key in shown))


def _posted_answers(request: HttpRequest, page: qpages.Page, step: qpages.Page) -> dict[str, str]:
    """The answers a step's form sent. A question of the step that is missing from the
    form was cleared (an unticked choice sends nothing); questions of the same page
    outside the step count only when sent. "Clear answer" empties its own question."""
    step_keys = {f.key for f in step.fields}
    raw = {
        f.key: request.POST.get(f.key, "")
        for f in page.fields
        if f.key in step_keys or f.key in request.POST
    }
    cleared = request.POST.get("clear", "")
    if cleared in step_keys:
        raw[cleared] = ""
    return raw


def _patient_page(
    request: HttpRequest, token: str, assessment: Assessment, language: str
) -> HttpResponse:
    pages = services.pages_for(assessment, language)
    steps = _steps(pages)
    response = services.response_of(assessment)
    answers = response.answers if response else {}
    at = _position(request, steps, answers)
    done, total = qpages.answered(pages, answers)
    context: dict[str, Any] = {
        "token": token,
        "pages": pages,
        "index": at.page,
        "step": at.step,
        "position": at,
        "language": language,
        "timepoint": load_schedule().timepoint(assessment.timepoint).label(language),
        "closes_on": assessment.closes_on,
        "done": done,
        "total": total,
        "percent": round(100 * done / total) if total else 100,
    }
    if at.page == len(pages):
        return _review(request, assessment, pages, steps, context)
    page, step_page = pages[at.page], steps[at.page][at.step]
    raw: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        raw = _posted_answers(request, page, step_page)
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
        if request.POST.get("clear"):
            cleared = request.POST["clear"]
            return redirect(_step_url(token, at.page, at.step) + f"#item-{cleared}")
        if not errors:
            return redirect(_step_url(token, *_next(steps, at)))
        done, total = qpages.answered(pages, answers)
        context.update(done=done, percent=round(100 * done / total) if total else 100)
        step_page = _with_errors(page, step_page, errors)
    rows = _fields(step_page, answers.get(page.code, {}), raw, errors)
    back = _previous(steps, at)
    context.update(
        page=step_page,
        groups=_groups(step_page, rows),
        errors=errors,
        back_url=_step_url(token, *back) if back else "",
    )
    return render(
        request, "questionnaires/patient/page.html", context, status=400 if errors else 200
    )


def _review(
    request: HttpRequest,
    assessment: Assessment,
    pages: list[qpages.Page],
    steps: list[list[qpages.Page]],
    context: dict[str, Any],
) -> HttpResponse:
    """The last step: what is left blank, links back, and "send". Sending with nothing
    answered explains that instead of sending an empty questionnaire."""
    context.update(
        unanswered=context["total"] - context["done"],
        sections=[{"title": p.title, "page": i} for i, p in enumerate(pages)],
        back_url=_step_url(context["token"], len(pages) - 1, len(steps[-1]) - 1) if pages else "",
    )
    if context["done"] == 0:
        context["nothing_answered"] = True
    if _is_submit(request):
        try:
            services.submit(assessment, mode=Mode.WEB)
        except services.NothingToSubmit:
            return render(request, "questionnaires/patient/review.html", context, status=400)
        return _thanks(request, assessment)
    return render(request, "questionnaires/patient/review.html", context)


def _section(page: qpages.Page, rows: list[dict[str, Any]], response: Any = None) -> dict[str, Any]:
    return {
        "page": page,
        "rows": rows,
        "groups": _groups(page, rows),
        "scores": (response.scores or {}).get(page.code) if response else None,
    }


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
        refused = _staff_entry(
            request,
            assessment.participant,
            pages,
            stored,
            context,
            lambda entry: services.enter_by_staff(
                assessment,
                entry.answers,
                mode=entry.mode,
                completed_on=entry.completed_on_date,
                user=request.user,
            ),
        )
        if refused is not None:
            return refused
        messages.success(request, _("Questionnaire entered and scored."))
        return redirect("questionnaires:assessment", pk=assessment.pk)
    return _answers_page(request, context, pages, stored, response)


@dataclass
class StaffEntry:
    """A posted paper/telephone questionnaire, parsed: the answers per instrument, the
    form sections to show again, and what is wrong (nothing when ``ok``)."""

    answers: dict[str, dict[str, Any]]
    sections: list[dict[str, Any]]
    has_errors: bool
    mode: str
    completed_on: str
    completed: date | None
    form_errors: dict[str, str]

    @property
    def ok(self) -> bool:
        return not (self.has_errors or self.form_errors)

    @property
    def completed_on_date(self) -> date:
        if self.completed is None:  # only asked of a form that parsed
            raise ValueError("completed_on: expected a parsed date, got none")
        return self.completed


def _parse_entry(
    request: HttpRequest, participant: Any, pages: list[qpages.Page], stored: dict[str, Any]
) -> StaffEntry:
    language = "nl" if translation.get_language() == "nl" else "en"
    answers, sections, has_errors = {}, [], False
    for page in pages:
        raw = {f.key: request.POST.get(f"{page.code}__{f.key}", "") for f in page.fields}
        values, errors = qpages.parse_page(page, raw, language)
        answers[page.code] = values
        has_errors = has_errors or bool(errors)
        sections.append(
            _section(page, _fields(page, stored.get(page.code, {}), raw, errors, f"{page.code}__"))
        )
    mode, completed_on = request.POST.get("mode", ""), request.POST.get("completed_on", "")
    form_errors = {}
    if mode not in {Mode.PAPER, Mode.TELEPHONE}:
        form_errors["mode"] = _("Expected paper or telephone.")
    completed = None
    try:
        completed = date.fromisoformat(completed_on)
        if not participant.registered_on <= completed <= timezone.localdate():
            form_errors["completed_on"] = _(
                "Expected a date between cohort entry and today, got %(d)s."
            ) % {"d": completed_on}
    except ValueError:
        form_errors["completed_on"] = _("Expected a date (YYYY-MM-DD), got %(d)s.") % {
            "d": completed_on or "nothing"
        }
    return StaffEntry(answers, sections, has_errors, mode, completed_on, completed, form_errors)


def _entry_refused(
    request: HttpRequest, entry: StaffEntry, context: dict[str, Any]
) -> HttpResponse:
    context.update(
        sections=entry.sections,
        form_errors=entry.form_errors,
        mode=entry.mode,
        completed_on=entry.completed_on,
        today=timezone.localdate(),
    )
    return render(request, "questionnaires/assessment.html", context, status=400)


def _staff_entry(
    request: HttpRequest,
    participant: Any,
    pages: list[qpages.Page],
    stored: dict[str, Any],
    context: dict[str, Any],
    enter: Callable[[StaffEntry], object],
) -> HttpResponse | None:
    """Parse a posted paper/telephone form and ``enter`` it; the page again with what is
    wrong (400), or None once it is entered."""
    entry = _parse_entry(request, participant, pages, stored)
    if not entry.ok:
        return _entry_refused(request, entry, context)
    try:
        enter(entry)
    except services.QuestionnaireError as refused:  # a blank form, or entered meanwhile
        return _entry_refused(
            request, replace(entry, form_errors={"answers": str(refused)}), context
        )
    return None


def _answers_page(
    request: HttpRequest,
    context: dict[str, Any],
    pages: list[qpages.Page],
    stored: dict[str, Any],
    response: Any,
) -> HttpResponse:
    context["sections"] = [
        _section(p, _fields(p, stored.get(p.code, {}), {}, {}, f"{p.code}__"), response)
        for p in pages
    ]
    context["today"] = timezone.localdate()
    return render(request, "questionnaires/assessment.html", context)


@require(Cap.PARTICIPANT_VIEW)
def extra_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A trial's extra measurement: its answers and scores, or the paper/telephone entry
    form while it is open. An extra reveals the arm, so without ``allocation.view`` in
    its trial it does not exist (404, as for an unknown one)."""
    extra = get_object_or_404(ExtraAssessment.objects.select_related("participant"), pk=pk)
    if not services.may_see_extra(extra, request.user):
        raise Http404
    response = services.extra_response_of(extra)
    language = "nl" if translation.get_language() == "nl" else "en"
    pages = services.extra_pages_for(extra, language)
    status = services.extra_status(extra)
    context: dict[str, Any] = {
        "assessment": extra,
        "heading": f"{extra.trial} · {extra.label}",
        "extra": extra,
        "participant": extra.participant,
        "response": response,
        "status": status,
        "may_enter": response is None
        and status in services.ENTERABLE
        and services.may_enter_extra(extra, request.user),
        "modes": [Mode.PAPER, Mode.TELEPHONE],
    }
    stored = response.answers if response else {}
    if request.method == "POST" and context["may_enter"]:
        refused = _staff_entry(
            request,
            extra.participant,
            pages,
            stored,
            context,
            lambda entry: services.enter_extra_by_staff(
                extra,
                entry.answers,
                mode=entry.mode,
                completed_on=entry.completed_on_date,
                user=request.user,
            ),
        )
        if refused is not None:
            return refused
        messages.success(request, _("Extra measurement entered and scored."))
        return redirect("questionnaires:extra", pk=extra.pk)
    return _answers_page(request, context, pages, stored, response)


@require(Cap.QUERY_MANAGE)
def translations(request: AuthenticatedHttpRequest) -> HttpResponse:
    """For the data manager: which questionnaire lacks its licensed wording in which
    language, and how to install it. Patient-facing questionnaires come first:
    ``check --deploy`` refuses production while one of them shows a placeholder."""
    patient = checks.patient_instruments()
    licensed = tuple(c for c in instrument_codes() if get_instrument(c).licensed)
    codes = patient + tuple(c for c in licensed if c not in patient)
    rows = [
        {**row, "patient": row["code"] in patient, "language_name": _language_name(row)}
        for row in coverage(codes)
    ]
    return render(
        request,
        "questionnaires/translations.html",
        {
            "rows": rows,
            "missing": sum(1 for r in rows if r["patient"] and not r["complete"]),
            "installed_dir": installed_dir(),
        },
    )


def _language_name(row: dict[str, Any]) -> str:
    return str(dict(settings.LANGUAGES).get(row["language"], row["language"]))
