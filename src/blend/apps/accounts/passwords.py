"""Passwords that only their owner knows (docs/security.md §6).

- **The breached-password rule** (``BreachedPasswordValidator``, in settings
  ``AUTH_PASSWORD_VALIDATORS``): a password on the list shipped in
  ``accounts/data/breached-passwords.txt`` (40,101 passwords known from data breaches,
  Django's own list included; where it comes from is in ``data/README.md``) is refused
  with a message that names the rule.
- **One-time set-password links.** An account an administrator creates has no usable
  password; its owner chooses one through a link (``set_password_link``) that is valid
  once: Django's ``PasswordResetTokenGenerator`` signs the account's current password
  hash, so the link dies the moment a password is set, and after
  ``PASSWORD_RESET_TIMEOUT`` (3 days) in any case. The same link serves a forgotten
  password (the reset form).
- **Sent through the outbox.** The accounts app sits below the outbox (docs/architecture.md),
  so the outbox registers the function that queues a staff e-mail (``register_mailer``)
  and mints the link at delivery with ``mint_links`` (``LINK_FACTORY``): the stored
  message body holds only a mark where the link goes, so reading the outbox (which an
  administrator may) never shows a link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from blend.apps.accounts.models import User

BREACHED_PASSWORDS = Path(__file__).parent / "data" / "breached-passwords.txt"

#: The name under which the outbox knows ``mint_links``.
LINK_FACTORY = "accounts.set_password_link"
#: Where the link goes in a ``LinkMail`` body (the outbox puts its own mark there).
LINK = "{link}"


class BreachedPasswordValidator(CommonPasswordValidator):
    """Refuse a password that is on the shipped list of breached passwords (compared in
    lower case, as Django's ``CommonPasswordValidator`` does)."""

    def __init__(self, password_list_path: Path | str = BREACHED_PASSWORDS) -> None:
        super().__init__(password_list_path=password_list_path)

    def validate(self, password: str, user: Any = None) -> None:
        if password.lower().strip() in self.passwords:
            raise ValidationError(self.get_error_message(), code="password_breached")

    def get_error_message(self) -> str:
        return _(
            "Breached-password rule: this password is on a list of %(count)s passwords "
            "known from data breaches; choose another."
        ) % {"count": f"{len(self.passwords):,}"}

    def get_help_text(self) -> str:
        return _("Your password cannot be one known from data breaches.")


def set_password_link(user: User) -> str:
    """The one-time link with which ``user`` sets their own password (absolute URL)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password-set", args=[uid, token])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def mint_links(batch: list[dict[str, Any]]) -> list[str | None]:
    """The outbox's link factory: a fresh link per message at delivery, or None (the
    message is cancelled) when the account is gone or deactivated."""
    ids = [args.get("user") for args in batch]
    users = {user.pk: user for user in User.objects.filter(pk__in=ids, is_active=True)}
    return [
        set_password_link(users[pk]) if isinstance(pk, int) and pk in users else None for pk in ids
    ]


@dataclass(frozen=True)
class LinkMail:
    """A staff e-mail with a one-time link where ``LINK`` stands in ``body``."""

    to_address: str
    subject: str
    body: str
    language: str
    dedup_key: str
    template_code: str = "staff.password_link"
    link_args: dict[str, Any] = field(default_factory=dict)


Mailer = Callable[[LinkMail], Any]
_mailers: list[Mailer] = []


def register_mailer(mailer: Mailer) -> None:
    """The outbox's ``AppConfig.ready`` registers the function that queues a ``LinkMail``."""
    _mailers[:] = [mailer]


def send_link_mail(mail: LinkMail) -> None:
    if not _mailers:
        raise RuntimeError("accounts: no mailer registered (the outbox app is not installed)")
    _mailers[0](mail)
