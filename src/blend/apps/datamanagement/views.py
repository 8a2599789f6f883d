from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.accounts.services import ReauthenticationFailed
from blend.apps.datamanagement import fields, services
from blend.apps.datamanagement.forms import QueryForm, QueryMessageForm, ReasonForm, SignOffForm
from blend.apps.datamanagement.models import Query, QueryStatus
from blend.apps.datamanagement.runner import check_data
from blend.apps.registry.models import Participant
from blend.apps.trials.http import current_trial

Error = (services.DataManagementError,)


@require(Cap.PARTICIPANT_VIEW)
def overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    trial = current_trial(request)
    queries = Query.objects.select_related("participant").order_by("-opened_at")
    if status in QueryStatus.values:
        queries = queries.filter(status=status)
    counts = {s: Query.objects.filter(status=s).count() for s in QueryStatus.values}
    return render(
        request,
        "datamanagement/overview.html",
        {
            "queries": queries[:300],
            "counts": counts,
            "status": status,
            "db_lock": services.active_lock(None),
            "trial": trial,
            "trial_db_lock": services.active_lock(None, trial),
            "reason_form": ReasonForm(),
        },
    )


@require(Cap.QUERY_MANAGE)
@require_POST
def run_checks(request: AuthenticatedHttpRequest) -> HttpResponse:
    run = check_data(user=request.user)
    messages.success(
        request,
        _("%(n)s findings; opened %(o)s queries, closed %(c)s resolved.")
        % {"n": len(run.issues), "o": run.opened, "c": run.closed},
    )
    return redirect("datamanagement:overview")


@require(Cap.PARTICIPANT_VIEW)
def query_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    query = get_object_or_404(Query.objects.select_related("participant"), pk=pk)
    form = QueryMessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = {
            "answer": services.answer_query,
            "close": services.close_query,
            "reopen": services.reopen_query,
        }.get(request.POST.get("action", ""))
        if action is None:
            form.add_error(None, _("action: expected answer, close or reopen"))
        else:
            try:
                action(query, form.cleaned_data["text"], user=request.user)
            except Error as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Query updated."))
                return redirect("datamanagement:query", pk=pk)
    return render(
        request,
        "datamanagement/query.html",
        {"query": query, "thread": query.messages.select_related("author"), "form": form},
        status=400 if form.errors else 200,
    )


def _safe_next(request: HttpRequest, url: str) -> str:
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and allowed else ""


@require(Cap.PARTICIPANT_VIEW, Cap.QUERY_RAISE)
def raise_query(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    """Raise a query on a form, or on one field of it (``?form=…&field=…&object=…``, as the
    "Raise query" control beside each field links it). Under htmx only the form is returned,
    to open in place; without JavaScript the same link opens this page."""
    participant = get_object_or_404(Participant, study_id=study_id)
    asked = {k: request.GET.get(k, "") for k in ("form", "field", "object", "next")}
    prefilled = bool(asked["form"]) or bool(request.POST.get("field"))
    form = QueryForm(
        request.POST or None, initial=asked, participant=participant, prefilled=prefilled
    )
    refused = ""
    if request.method == "POST" and form.is_valid() and form.target is not None:
        data = form.cleaned_data
        try:
            query = services.open_query(
                form.target, data["text"], assigned_role=data["assigned_role"], user=request.user
            )
        except Error as error:
            form.add_error(None, str(error))
        else:
            label = fields.field_label(query.form, query.field)
            messages.success(
                request, _("Query raised on %(what)s.") % {"what": label or query.form}
            )
            back = _safe_next(request, data.get("next", ""))
            return redirect(back) if back else redirect("datamanagement:query", pk=query.pk)
    if request.method == "GET" and asked["form"]:
        try:
            services.query_target(participant, asked["form"], asked["field"], asked["object"])
        except services.DataManagementError as error:
            refused = str(error)
    label = fields.field_label(
        form["form"].value() or "", form["field"].value() or ""
    )  # what the query is about, shown by its label
    in_place = bool(request.headers.get("HX-Request"))
    template = (
        "datamanagement/_raise_query_form.html" if in_place else "datamanagement/raise_query.html"
    )
    refused_status = 200 if in_place else 400  # htmx swaps no 4xx: the refusal must show in place
    return render(
        request,
        template,
        {
            "form": form,
            "participant": participant,
            "about_form": form["form"].value() if prefilled else "",
            "about_label": label,
            "refused": refused,
        },
        status=refused_status if form.errors or refused else 200,
    )


def _reason_action(
    request: HttpRequest, participant: Participant | None, action, title: str
) -> HttpResponse:
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            action(user=request.user, reason=form.cleaned_data["reason"])
        except Error as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Done: %(t)s.") % {"t": title})
            if participant is None:
                return redirect("datamanagement:overview")
            return redirect("participant-detail", study_id=participant.study_id)
    return render(
        request,
        "datamanagement/simple_form.html",
        {"form": form, "participant": participant, "title": title},
        status=400 if form.errors else 200,
    )


def _scope(request: HttpRequest) -> str:
    """The lock or sign-off's scope from ``?scope=``: empty for the cohort, else a trial
    code (checked by the service, which names the known ones)."""
    return str(request.GET.get("scope") or request.POST.get("scope") or "")


def _scoped(title: str, scope: str) -> str:
    return _("%(t)s in %(trial)s") % {"t": title, "trial": scope} if scope else title


@require(Cap.LOCK)
def lock(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    scope = _scope(request)
    return _reason_action(
        request,
        participant,
        lambda **kw: services.lock_participant(participant, trial=scope, **kw),
        _scoped(_("lock participant %(id)s") % {"id": study_id}, scope),
    )


@require(Cap.LOCK)
def unlock(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    scope = _scope(request)
    return _reason_action(
        request,
        participant,
        lambda **kw: services.unlock_participant(participant, trial=scope, **kw),
        _scoped(_("unlock participant %(id)s") % {"id": study_id}, scope),
    )


@require(Cap.LOCK)
def lock_database(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope = _scope(request)
    return _reason_action(
        request,
        None,
        lambda **kw: services.lock_database(trial=scope, **kw),
        _scoped(_("lock the database"), scope),
    )


@require(Cap.LOCK)
def unlock_database(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope = _scope(request)
    return _reason_action(
        request,
        None,
        lambda **kw: services.unlock_database(trial=scope, **kw),
        _scoped(_("unlock the database"), scope),
    )


@require(Cap.SOURCE_VERIFY)
@require_POST
def verify(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    try:
        services.source_verify(
            participant,
            request.POST.get("form", ""),
            visit=request.POST.get("visit", ""),
            user=request.user,
        )
        messages.success(request, _("Marked source-verified."))
    except Error as error:
        messages.error(request, str(error))
    return redirect("participant-detail", study_id=study_id)


@require(Cap.PARTICIPANT_VIEW, Cap.SIGN_OFF)
def sign_off(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    scope = _scope(request)
    try:
        meaning = services.signature_meaning(services.lock_scope(scope, request.user))
    except Error as error:
        messages.error(request, str(error))
        return redirect("participant-detail", study_id=study_id)
    form = SignOffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_off(
                participant,
                user=request.user,
                password=form.cleaned_data["password"],
                request=request,
                trial=scope,
            )
        except ReauthenticationFailed as error:
            form.add_error("password", str(error))
        else:
            messages.success(request, _("Signed."))
            return redirect("participant-detail", study_id=study_id)
    return render(
        request,
        "datamanagement/sign_off.html",
        {"form": form, "participant": participant, "meaning": meaning, "scope": scope},
        status=400 if form.errors else 200,
    )
