"""Results disclosure pages. Every page shows groups, so each needs ``allocation.view``
in the trial; releasing and reviewing also need the PI's signature (``sign_off``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import check
from blend.apps.disclosure import services
from blend.apps.disclosure.forms import (
    AnswerForm,
    QuestionForm,
    ReleaseForm,
    ReviewForm,
    TemplateForm,
)
from blend.apps.disclosure.models import (
    ArmGroup,
    Disclosure,
    DisclosureState,
    DisclosureTemplate,
    ResultsRelease,
)
from blend.apps.trials.lookup import UnknownTrial, get_trial, trials_by_code

MEMBERS_PER_PAGE = 100


def _trial(request: AuthenticatedHttpRequest, code: str) -> Any:
    try:
        config = get_trial(code)
    except UnknownTrial:
        raise Http404(f"no trial {code!r}") from None
    check(request.user, Cap.ALLOCATION_VIEW, trial=config.code)
    return config


@login_required
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    released = {r.trial: r for r in ResultsRelease.objects.all()}
    rows = [
        {"trial": t, "release": released.get(code)}
        for code, t in sorted(trials_by_code().items())
        if request.user.can(Cap.ALLOCATION_VIEW, trial=code)
    ]
    return render(request, "disclosure/index.html", {"rows": rows})


@login_required
def release_detail(request: AuthenticatedHttpRequest, trial: str) -> HttpResponse:
    config = _trial(request, trial)
    release = ResultsRelease.objects.filter(trial=config.code).first()
    context: dict[str, Any] = {"trial": config, "release": release}
    if release is None:
        context["form"] = ReleaseForm() if request.user.can(Cap.SIGN_OFF) else None
        return render(request, "disclosure/release.html", context)
    members = release.members.select_related("participant").order_by("participant__study_id")
    page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    counted = members.order_by().values_list("arm_group", "state").annotate(n=Count("id"))
    states = dict(DisclosureState.choices)
    templates = {t.arm_group: t for t in release.templates.all()}
    context.update(
        members=page,
        counts=sorted(((group, states[state]), n) for group, state, n in counted),
        groups=[
            {
                "code": group,
                "label": ArmGroup(group).label,
                "template": templates.get(group),
                "form": TemplateForm(instance=templates.get(group), prefix=group),
            }
            for group in sorted({group for group, _state, _n in counted})
        ],
        can_sign=request.user.can(Cap.SIGN_OFF),
        review_form=ReviewForm(),
    )
    return render(request, "disclosure/release.html", context)


@require_POST
@login_required
def release(request: AuthenticatedHttpRequest, trial: str) -> HttpResponse:
    config = _trial(request, trial)
    form = ReleaseForm(request.POST)
    if form.is_valid():
        try:
            services.release_results(
                config.code,
                on=form.cleaned_data["released_on"],
                summary=form.cleaned_data["summary"],
                user=request.user,
                password=form.cleaned_data["password"],
            )
        except services.DisclosureError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Results released; the list of participants is made."))
            return redirect("disclosure:release", trial=config.code)
    return render(request, "disclosure/release.html", {"trial": config, "form": form}, status=400)


@require_POST
@login_required
def template(request: AuthenticatedHttpRequest, trial: str, arm_group: str) -> HttpResponse:
    config = _trial(request, trial)
    release_row = get_object_or_404(ResultsRelease, trial=config.code)
    form = TemplateForm(request.POST, prefix=arm_group)
    if form.is_valid():
        try:
            services.save_template(release_row, arm_group, form.cleaned_data, user=request.user)
        except services.DisclosureError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Message saved; it needs the PI's review again."))
    else:
        messages.error(request, _("Fill in the subject and the message in both languages."))
    return redirect("disclosure:release", trial=config.code)


@require_POST
@login_required
def review(request: AuthenticatedHttpRequest, trial: str, arm_group: str) -> HttpResponse:
    config = _trial(request, trial)
    row = get_object_or_404(DisclosureTemplate, release__trial=config.code, arm_group=arm_group)
    try:
        services.review_template(row, user=request.user, password=request.POST.get("password", ""))
    except services.DisclosureError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Message reviewed."))
    return redirect("disclosure:release", trial=config.code)


@require_POST
@login_required
def send(request: AuthenticatedHttpRequest, trial: str) -> HttpResponse:
    config = _trial(request, trial)
    row = get_object_or_404(ResultsRelease, trial=config.code)
    try:
        counts = services.send_disclosures(row, user=request.user)
    except services.DisclosureError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Messages queued: %(n)s.") % {"n": counts.get("queued", 0)})
    return redirect("disclosure:release", trial=config.code)


@login_required
def member(request: AuthenticatedHttpRequest, trial: str, study_id: str) -> HttpResponse:
    config = _trial(request, trial)
    disclosure = get_object_or_404(
        Disclosure, release__trial=config.code, participant__study_id=study_id
    )
    question_form = QuestionForm(request.POST if "question" in request.POST else None)
    answer_form = AnswerForm(request.POST if "answer" in request.POST else None)
    for form, action in (
        (question_form, services.record_question),
        (answer_form, services.record_answer),
    ):
        if form.is_bound and form.is_valid():
            text = form.cleaned_data.get("question") or form.cleaned_data.get("answer") or ""
            try:
                action(disclosure, text, on=form.cleaned_data["on"], user=request.user)
            except services.DisclosureError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Saved."))
                return redirect("disclosure:member", trial=config.code, study_id=study_id)
    return render(
        request,
        "disclosure/member.html",
        {
            "trial": config,
            "d": disclosure,
            "question_form": question_form,
            "answer_form": answer_form,
        },
    )
