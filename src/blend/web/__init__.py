"""The Django project: settings, URLs, WSGI, shared templates and static files."""
