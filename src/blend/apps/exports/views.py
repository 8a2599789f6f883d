from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
from pathlib import Path

from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.exports import jobs
from blend.apps.exports.models import ExportLog, ImportJob
from blend.apps.exports.services import FULL_FORMATS, export_analysis, export_full
from blend.apps.trials.http import current_trial

logger = logging.getLogger(__name__)


def _overview_context() -> dict[str, object]:
    return {"formats": FULL_FORMATS, "log": ExportLog.objects.select_related("user")[:100]}


@require(Cap.EXPORT)
def overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "exports/overview.html", _overview_context())


def _zip(folder: Path, name: str) -> FileResponse:
    """The files of ``folder`` zipped into an anonymous temporary file.

    ``TemporaryFile`` has no name in the temporary folder (on Linux it is created
    unlinked) and is deleted when closed; ``FileResponse`` closes it when the response
    ends, also when the client goes away half-way.
    """
    archive = tempfile.TemporaryFile(prefix="blend-export-", suffix=".zip")  # noqa: SIM115
    try:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    bundle.write(path, path.relative_to(folder).as_posix())
        archive.seek(0)
    except BaseException:
        archive.close()
        raise
    return FileResponse(archive, as_attachment=True, filename=f"{name}.zip")


@require(Cap.EXPORT)
@require_POST
def download(request: AuthenticatedHttpRequest, kind: str) -> HttpResponseBase:
    """Export into a private temporary folder, zip it, and remove the folder before the
    response is sent, whatever happens (docs/security.md, section 11)."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    try:
        with tempfile.TemporaryDirectory(prefix="blend-export-") as work:
            folder = Path(work) / "export"
            if kind == "analysis":
                trial = current_trial(request)
                export_analysis(folder, user=request.user, via="web", trial=trial)
                kind = f"analysis-{trial}"
            else:
                chosen = [f for f in request.POST.getlist("format") if f in FULL_FORMATS] or list(
                    FULL_FORMATS
                )
                export_full(folder, chosen, user=request.user, via="web")
            return _zip(folder, f"blend-{kind}-{stamp}")
    except OSError as error:
        # A full disk or a read-only temporary folder: say so instead of a 500 (nothing is
        # left behind, the folder is gone), and log it for the operator.
        logger.error("export %s could not be written: %s", kind, error)
        return render(
            request,
            "exports/overview.html",
            {
                **_overview_context(),
                "error": _(
                    "The export could not be written (%(error)s). Nothing was kept; "
                    "ask the administrator to check the server's temporary folder."
                )
                % {"error": error.strerror or error},
            },
            status=503,
        )


@require(Cap.IMPORT)
def import_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Upload a CSV; the report lists rejected rows. All or nothing, as on the command line.
    An upload of more than ``jobs.BACKGROUND_ROWS`` rows is imported by the background
    worker, and the page of its job shows the progress."""
    from blend.apps.exports.forms import ImportForm
    from blend.apps.exports.imports import import_participants, import_questionnaires

    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        kind, dry_run = form.cleaned_data["kind"], form.cleaned_data["dry_run"]
        rows = jobs.count_rows(upload.chunks())
        if rows > jobs.BACKGROUND_ROWS:
            job = jobs.start_import(
                upload.chunks(), name=upload.name, kind=kind, dry_run=dry_run, rows=rows,
                user=request.user,
            )  # fmt: skip
            return redirect("exports:import-job", pk=job.pk)
        path = Path(tempfile.mkdtemp(prefix="blend-import-")) / upload.name.replace("/", "_")
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        run = import_participants if kind == "participants" else import_questionnaires
        try:
            report = run(path, user=request.user, dry_run=dry_run)
        except ValueError as error:
            form.add_error("file", str(error))
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)
    return render(
        request,
        "exports/import.html",
        {
            "form": form,
            "report": report,
            "jobs": ImportJob.objects.filter(user=request.user)[:10],
        },
        status=400 if form.errors or (report and not report.ok) else 200,
    )


@require(Cap.IMPORT)
def import_job(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A background import's progress (the page polls this while it runs), then its report.
    Only the user who started it sees it."""
    job = get_object_or_404(ImportJob, pk=pk, user=request.user)
    template = (
        "exports/_import_job.html"
        if request.headers.get("HX-Request")
        else "exports/import_job.html"
    )
    return render(request, template, {"job": job, "report": jobs.report_of(job)})
