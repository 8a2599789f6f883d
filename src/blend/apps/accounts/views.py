from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from blend.apps.accounts.roles import CAPABILITY_HELP, ROLE_CAPABILITIES, ROLE_LABELS, Cap, Role


def locked(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/locked.html", status=403)


@login_required
def role_matrix(request: HttpRequest) -> HttpResponse:
    rows = [
        {"cap": cap.value, "help": CAPABILITY_HELP[cap], "cells": [cap in ROLE_CAPABILITIES[r] for r in Role]}
        for cap in Cap
    ]
    return render(request, "accounts/roles.html", {"roles": [ROLE_LABELS[r] for r in Role], "rows": rows})
