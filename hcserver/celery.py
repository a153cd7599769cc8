"""The Celery app: Redis broker from REDIS_URL, tasks discovered in the apps.

Run `celery -A hcserver worker` (any number, any host) and exactly one
`celery -A hcserver beat`. Queues: `alerts` (scans, quick DB work), `deliver`
(notifications, may wait on slow targets) and `celery` (everything else), so
that a worker started with `-Q alerts` keeps scanning while deliveries are slow.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hcserver.settings")

app = Celery("hcserver")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# AWS autoscaling: drain the event queues, repair drift (integrations/aws/tasks.py).
@app.on_after_configure.connect
def aws_schedule(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    sender.add_periodic_task(
        float(settings.AWS_POLL_INTERVAL), sender.signature("aws.poll"), name="aws-poll"
    )
    sender.add_periodic_task(
        float(settings.AWS_RECONCILE_INTERVAL),
        sender.signature("aws.reconcile"),
        name="aws-reconcile",
    )
