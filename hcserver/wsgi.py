"""WSGI entry point for gunicorn (and `manage.py serve`, through WSGI_APPLICATION).

Ping URLs take a shorter road through Django (checks/ping_handler.py); everything
else is Django's standard handler.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hcserver.settings")

django_application = get_wsgi_application()

from checks.ping_handler import PingHandler  # noqa: E402 - needs django.setup() first

application = PingHandler(fallback=django_application)
