"""Queued messages named their link factory by its import path; the outbox now finds
factories by a registered name, so rename the ones still queued."""

from django.db import migrations

OLD = "blend.apps.questionnaires.reminders.mint_links"
NEW = "questionnaire-link"


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("outbox", "Message").objects.filter(link_factory=OLD).update(link_factory=NEW)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("outbox", "Message").objects.filter(link_factory=NEW).update(link_factory=OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("questionnaires", "0001_initial"),
        ("outbox", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
