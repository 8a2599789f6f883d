from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from blend.apps.accounts.permissions import require
from blend.apps.accounts.roles import Cap
from blend.apps.exports.models import ExportLog
from blend.apps.exports.services import FULL_FORMATS, export_analysis, export_full


@require(Cap.EXPORT)
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "exports/overview.html", {"formats": FULL_FORMATS,
                  "log": ExportLog.objects.select_related("user")[:100]})


def _zip(folder: Path, name: str) -> FileResponse:
    archive = shutil.make_archive(str(folder.parent / name), "zip", folder)
    return FileResponse(open(archive, "rb"), as_attachment=True, filename=f"{name}.zip")  # noqa: SIM115


@require(Cap.EXPORT)
@require_POST
def download(request: HttpRequest, kind: str) -> HttpResponse:
    work = Path(tempfile.mkdtemp(prefix="blend-export-"))
    folder = work / "export"
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if kind == "analysis":
        export_analysis(folder, user=request.user, via="web")
    else:
        chosen = [f for f in request.POST.getlist("format") if f in FULL_FORMATS] or list(FULL_FORMATS)
        export_full(folder, chosen, user=request.user, via="web")
    return _zip(folder, f"blend-{kind}-{stamp}")
