"""Staff e-mails with a one-time link of the accounts app (set-password invitations and
resets, docs/security.md §6). The accounts app sits below the outbox, so it offers
``accounts.passwords.register_mailer`` and the outbox plugs in here from ``ready``.

The stored body keeps the ``[[link]]`` mark; the link is minted at delivery by the
accounts app's factory (``accounts.passwords.mint_links``), so the outbox table, which
an administrator may read, never holds a link to someone else's account."""

from __future__ import annotations

from blend.apps.accounts import passwords
from blend.apps.outbox.models import LINK_MARK, Audience, Channel
from blend.apps.outbox.services import queue_message, register_link_factory
from blend.apps.outbox.tasks import send_on_commit


def queue_link_mail(mail: passwords.LinkMail) -> None:
    """Queue ``mail`` (once per key) and send it as soon as the transaction commits."""
    message = queue_message(
        audience=Audience.STAFF,
        channel=Channel.EMAIL,
        to_address=mail.to_address,
        template_code=mail.template_code,
        context={"subject": mail.subject, "body": mail.body.replace(passwords.LINK, LINK_MARK)},
        language=mail.language,
        dedup_key=mail.dedup_key,
        link_factory=passwords.LINK_FACTORY,
        link_args=mail.link_args,
    )
    send_on_commit([message])


def connect() -> None:
    register_link_factory(passwords.LINK_FACTORY, passwords.mint_links)
    passwords.register_mailer(queue_link_mail)
