"""The data manager's linkage page: write the NCR file, upload a BRP file, resolve the
conflicts. Views parse input, call ``services`` and render; every error is a page."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from blend.apps.accounts.domain import Cap
from blend.apps.accounts.http import AuthenticatedHttpRequest
from blend.apps.accounts.permissions import require
from blend.apps.linkage import services
from blend.apps.linkage.domain import BrpFileError
from blend.apps.linkage.forms import BrpUploadForm, ResolveForm
from blend.apps.linkage.models import LinkageConflict, LinkageRun

logger = logging.getLogger(__name__)


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "runs": LinkageRun.objects.select_related("user")[:50],
        "conflicts": services.open_conflicts(),
        "upload_form": BrpUploadForm(),
        **extra,
    }


@require(Cap.LINKAGE)
def overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "linkage/overview.html", _context())


@require(Cap.LINKAGE)
@require_POST
def export_ncr_file(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """Write the NCR file in a private temporary folder and send it; the file is read into
    an anonymous temporary file so nothing stays behind on the server."""
    name = f"ncr-linkage-{timezone.localtime():%Y%m%d-%H%M}.csv"
    try:
        with tempfile.TemporaryDirectory(prefix="blend-linkage-") as work:
            path = Path(work) / name
            services.export_ncr(path, user=request.user, via="web")
            copy = tempfile.TemporaryFile(prefix="blend-linkage-")  # noqa: SIM115 (FileResponse closes it)
            copy.write(path.read_bytes())
            copy.seek(0)
    except services.LinkageError as error:
        return render(request, "linkage/overview.html", _context(error=str(error)), status=400)
    except OSError as error:
        logger.error("NCR linkage file could not be written: %s", error)
        return render(
            request,
            "linkage/overview.html",
            _context(
                error=_("The file could not be written (%(error)s). Nothing was kept.")
                % {"error": error.strerror or error}
            ),
            status=503,
        )
    return FileResponse(copy, as_attachment=True, filename=name, content_type="text/csv")


@require(Cap.LINKAGE)
@require_POST
def import_brp_file(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = BrpUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "linkage/overview.html", _context(upload_form=form), status=400)
    upload = form.cleaned_data["file"]
    try:
        result = services.import_brp(
            upload.read(), file_name=upload.name, user=request.user, via="web"
        )
    except BrpFileError as error:
        return render(
            request,
            "linkage/overview.html",
            _context(upload_form=form, refused=error),
            status=400,
        )
    except services.LinkageError as error:
        return render(
            request,
            "linkage/overview.html",
            _context(upload_form=form, error=str(error)),
            status=400,
        )
    run = result.run
    messages.success(
        request,
        _(
            "Read %(rows)s rows: %(matched)s matched a member, %(applied)s recorded, "
            "%(unchanged)s unchanged, %(conflicts)s queued as conflicts."
        )
        % {
            "rows": run.rows,
            "matched": run.matched,
            "applied": run.applied,
            "unchanged": run.unchanged,
            "conflicts": run.conflicts,
        },
    )
    return redirect("linkage:overview")


@require(Cap.LINKAGE)
def conflict(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(LinkageConflict.objects.select_related("participant", "run"), pk=pk)
    form = ResolveForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.resolve_conflict(
                row,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
                user=request.user,
            )
        except services.LinkageError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Conflict resolved."))
            return redirect("linkage:overview")
    if form.errors:
        status = 400
    return render(request, "linkage/conflict.html", {"conflict": row, "form": form}, status=status)
