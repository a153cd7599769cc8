"""The Celery app: Redis broker from REDIS_URL, tasks discovered in the apps."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hcserver.settings")

app = Celery("hcserver")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
