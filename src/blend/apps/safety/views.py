from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.allocation import blinding
from blend.apps.datamanagement.locks import Locked
from blend.apps.registry.models import Participant
from blend.apps.safety import domain as ctcae
from blend.apps.safety import services
from blend.apps.safety.domain import strongest_relatedness
from blend.apps.safety.forms import (
    AdverseEventForm,
    DeathReviewForm,
    MarkReportedForm,
    term_groups,
)
from blend.apps.safety.models import AdverseEvent, Relatedness


@require(Cap.PARTICIPANT_VIEW)
def overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    hours = services.report_hours()
    events = list(AdverseEvent.objects.select_related("participant").order_by("-aware_at")[:200])
    saes = [
        {"ae": ae, "due": ae.report_due_at(hours), "overdue": ae.is_overdue(hours)}
        for ae in events
        if ae.serious
    ]
    return render(
        request,
        "safety/overview.html",
        {
            "saes": saes,
            "events": events,
            "hours": hours,
            "overdue": services.overdue_saes(),
            "deaths": services.deaths_needing_review(),
        },
    )


@require(Cap.PARTICIPANT_VIEW, Cap.AE_WRITE)  # the AE form's helpers: for its users only
def grades(request: HttpRequest, **_: object) -> HttpResponse:
    code = request.GET.get("term", "")
    return render(request, "safety/_grades.html", {"terms": _grade_terms(code)})


def _grade_terms(code: str) -> list[ctcae.Term]:
    """The chosen term's grade definitions; before a choice, those of BLEND's own terms
    (all 800-odd would bury the page)."""
    if code in ctcae.BY_CODE:
        return [ctcae.BY_CODE[code]]
    return [t for t in ctcae.TERMS if t.blend]


@require(Cap.PARTICIPANT_VIEW, Cap.AE_WRITE)
def terms(request: HttpRequest, **_: object) -> HttpResponse:
    """The term list's options filtered by the search box (htmx swaps them into the
    select); the term chosen now stays in the list."""
    query = request.GET.get("term_search", "")[:100]
    chosen = request.GET.get("term", "")
    found = ctcae.search(query, keep=chosen)
    return render(
        request,
        "safety/_term_options.html",
        {
            "groups": term_groups(found),
            "chosen": chosen,
            # what the words matched ("other" and the kept choice are always there)
            "count": sum(t.code not in {"other", chosen} for t in found),
        },
    )


@require(Cap.PARTICIPANT_VIEW, Cap.AE_WRITE)
@require_POST
def live_check(
    request: AuthenticatedHttpRequest, study_id: str | None = None, pk: int | None = None
) -> HttpResponse:
    """The edit checks while the form is being filled in (htmx, on every change); nothing is saved."""
    if pk is not None:
        participant = get_object_or_404(AdverseEvent, pk=pk).participant
    else:
        participant = get_object_or_404(Participant, study_id=study_id)
    form = AdverseEventForm(
        request.POST, participant=participant, editing=pk is not None and "edit" in request.path
    )
    touched = {
        name for name, value in request.POST.items() if value and name != "csrfmiddlewaretoken"
    }
    form.is_valid()
    codes = {check.code for check in form.edit_checks}
    findings = [
        (" ".join(str(text) for text in error), error.code)
        for name, errors in form.errors.as_data().items()
        if name == "__all__" or name in touched
        for error in errors
        if error.code in codes
    ]
    return render(request, "safety/_live_findings.html", {"findings": findings})


def _save(
    request: AuthenticatedHttpRequest,
    form: AdverseEventForm,
    participant: Participant,
    follow_up_of: AdverseEvent | None = None,
) -> AdverseEvent | None:
    try:
        return services.report_adverse_event(
            participant, form.data_fields(), user=request.user, follow_up_of=follow_up_of
        )
    except (services.SafetyError, Locked) as error:
        form.add_error(None, str(error))
        return None


def _done(request: HttpRequest, ae: AdverseEvent) -> HttpResponse:
    if ae.serious:
        _say_notification(request, ae)
    else:
        messages.success(request, _("Adverse event recorded."))
    return redirect("safety:detail", pk=ae.pk)


def _say_notification(request: HttpRequest, ae: AdverseEvent) -> None:
    """Say what happened to the SAE notification, read from the outbox after the attempt
    to send it on commit: sent, or queued and retrying (never "notified" when it was not)."""
    state = services.notification_state(ae)
    hours = {"h": services.report_hours()}
    deadline = _("Submit the SAE report within %(h)s hours.") % hours
    if state.delivered and state.sent:
        messages.warning(
            request,
            _("SAE recorded: the notification was sent to %(to)s.") % {"to": _join(state.sent)}
            + " "
            + deadline,
        )
        return
    parts = [_("SAE recorded.")]
    if state.sent:
        parts.append(_("The notification was sent to %(to)s.") % {"to": _join(state.sent)})
    if state.retrying:
        roles = [role for role, _message in state.retrying]
        next_at = min(message.send_after for _role, message in state.retrying)
        parts.append(
            _(
                "The notification to %(to)s could not be sent yet: it is queued, retrying "
                "(next attempt at %(at)s). Tell them yourself if it cannot wait."
            )
            % {"to": _join(roles), "at": f"{timezone.localtime(next_at):%H:%M}"}
        )
    if state.failed:
        parts.append(
            _("The notification to %(to)s could not be sent: tell them yourself.")
            % {"to": _join([role for role, _message in state.failed])}
        )
    if state.waiting:
        parts.append(
            _("The notification to %(to)s is queued and not sent yet.")
            % {"to": _join(state.waiting)}
        )
    if not (state.sent or state.retrying or state.failed or state.waiting):
        parts.append(
            _(
                "No one is set up to be notified of an SAE (notify in safety.toml): tell the PI and the trial office yourself."
            )
        )
    parts.append(deadline)
    messages.error(request, " ".join(parts))


def _join(roles: list[str]) -> str:
    return _(" and ").join(roles) if len(roles) <= 2 else ", ".join(roles)


def _form_page(
    request: HttpRequest, form: AdverseEventForm, participant: Participant, title: str
) -> HttpResponse:
    return render(
        request,
        "safety/form.html",
        {
            "form": form,
            "participant": participant,
            "title": title,
            "terms": _grade_terms(form["term"].value() or ""),
        },
        status=400 if form.errors else 200,
    )


@require(Cap.PARTICIPANT_VIEW, Cap.AE_WRITE)
def report(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    form = AdverseEventForm(request.POST or None, participant=participant)
    if request.method == "POST" and form.is_valid():
        ae = _save(request, form, participant)
        if ae is not None:
            return _done(request, ae)
    return _form_page(request, form, participant, _("Report an adverse event"))


def _refuse_blinded(request: AuthenticatedHttpRequest, ae: AdverseEvent) -> None:
    """A correction or follow-up opens the report with its relatedness to SBRT, which
    reads differently by arm: it needs ``allocation.view`` in the event's trial (a new
    report starts empty, the same for both arms, and needs only ``ae.write``)."""
    if not blinding.shows_arm_specific_fields(request.user, ae):
        raise PermissionDenied(
            _(
                "This report's relatedness to SBRT would reveal the arm in %(trial)s, and you "
                "may not see arms there: ask a colleague with access to the arms to correct "
                "it or add the follow-up report."
            )
            % {"trial": ae.trial}
        )


@require(Cap.PARTICIPANT_VIEW, Cap.AE_WRITE)
def follow_up(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    initial = get_object_or_404(AdverseEvent, pk=pk).initial
    _refuse_blinded(request, initial)
    form = AdverseEventForm(
        request.POST or None,
        participant=initial.participant,
        initial={n: getattr(initial, n) for n in AdverseEventForm.Meta.fields},
    )
    if request.method == "POST" and form.is_valid():
        ae = _save(request, form, initial.participant, follow_up_of=initial)
        if ae is not None:
            return _done(request, ae)
    return _form_page(request, form, initial.participant, _("Follow-up report"))


@require(Cap.PARTICIPANT_VIEW, Cap.AE_WRITE)
def edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ae = get_object_or_404(AdverseEvent, pk=pk)
    _refuse_blinded(request, ae)
    form = AdverseEventForm(
        request.POST or None,
        instance=AdverseEvent.objects.get(pk=pk),
        participant=ae.participant,
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        changes = {n: form.cleaned_data[n] for n in form.changed_data if n != "reason"}
        try:
            updated = services.update_adverse_event(
                ae, changes, user=request.user, reason=form.cleaned_data["reason"]
            )
        except (services.SafetyError, Locked) as error:
            form.add_error(None, str(error))
        else:
            if updated.serious and not ae.serious:  # it became an SAE: notified on save
                _say_notification(request, updated)
            else:
                messages.success(request, _("Saved."))
            return redirect("safety:detail", pk=pk)
    return _form_page(request, form, ae.participant, _("Edit adverse event"))


@require(Cap.PARTICIPANT_VIEW)
def detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ae = get_object_or_404(
        AdverseEvent.objects.select_related("participant", "follow_up_of"), pk=pk
    )
    hours = services.report_hours()
    sees_arm = blinding.shows_arm_specific_fields(request.user, ae)
    related = strongest_relatedness(ae.related_sbrt, ae.related_surgery)
    return render(
        request,
        "safety/detail.html",
        {
            "ae": ae,
            # Without the arm: one relatedness, to trial treatment (allocation.blinding).
            "sees_arm": sees_arm,
            "related_treatment": Relatedness(related).label if related and not sees_arm else "–",
            "initial": ae.initial,
            "follow_ups": ae.initial.follow_ups.all(),
            "due": ae.report_due_at(hours),
            "overdue": ae.is_overdue(hours),
            "grade_text": ctcae.BY_CODE[ae.term].grades.get(ae.grade, ""),
            "reported_form": MarkReportedForm(),
            "notification": services.notification_state(ae) if ae.serious else None,
        },
    )


@require(Cap.AE_WRITE)
def reported(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ae = get_object_or_404(AdverseEvent, pk=pk)
    form = MarkReportedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.mark_sae_reported(ae, user=request.user, at=form.cleaned_data["reported_at"])
            messages.success(request, _("SAE report submission recorded."))
        except (services.SafetyError, Locked) as error:
            messages.error(request, str(error))
    return redirect("safety:detail", pk=pk)


@require(Cap.PARTICIPANT_VIEW, Cap.AE_WRITE)
def death_review(request: AuthenticatedHttpRequest, study_id: str) -> HttpResponse:
    participant = get_object_or_404(Participant, study_id=study_id)
    pending = dict(services.deaths_needing_review([participant]))
    if participant not in pending:
        messages.info(request, _("No death awaiting SAE review for %(id)s.") % {"id": study_id})
        return redirect("safety:overview")
    form = DeathReviewForm(request.POST or None)
    choice = form.fields["adverse_event"]
    assert isinstance(choice, ModelChoiceField)
    choice.queryset = AdverseEvent.objects.filter(participant=participant, serious=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_death(
                participant,
                death_date=pending[participant],
                user=request.user,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
                adverse_event=form.cleaned_data["adverse_event"],
            )
        except (services.SafetyError, Locked) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Death review recorded."))
            return redirect("safety:overview")
    return render(
        request,
        "safety/death_review.html",
        {"form": form, "participant": participant, "death_date": pending[participant]},
        status=400 if form.errors else 200,
    )
