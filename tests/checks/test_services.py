"""Write services: ping log pruning, pause/resume/delete, keys, classification."""

import os
import subprocess
import sys
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from checks import services
from checks.models import (
    ApiKey,
    Check,
    Flip,
    Ping,
    PingKind,
    Project,
    Status,
    key_digest,
)
from checks.services import PingData
from tests.factories import CheckFactory, ProfileFactory, ProjectFactory
from tests.servers import free_port

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]


def add_pings(check: Check, count: int) -> None:
    now = timezone.now()
    Ping.objects.bulk_create(
        Ping(owner=check, n=n, created=now) for n in range(1, count + 1)
    )
    check.n_pings = count
    check.save(update_fields=["n_pings"])


# --- pruning ----------------------------------------------------------------------


def test_prune_keeps_the_newest_pings_up_to_the_limit():
    check = CheckFactory()
    add_pings(check, 30)
    assert services.prune_pings(check_id=check.id, limit=10) == 20
    assert list(Ping.objects.order_by("n").values_list("n", flat=True)) == list(
        range(21, 31)
    )


def test_prune_uses_the_owners_ping_log_limit():
    profile = ProfileFactory(ping_log_limit=5)
    check = CheckFactory(project=ProjectFactory(owner=profile.user))
    add_pings(check, 8)
    services.prune_pings(check_id=check.id)
    assert Ping.objects.count() == 5


def test_prune_defaults_to_100_pings_without_profile():
    check = CheckFactory()
    add_pings(check, 105)
    services.prune_pings(check_id=check.id)
    assert Ping.objects.count() == 100


def test_prune_leaves_other_checks_alone():
    check, other = CheckFactory(), CheckFactory()
    add_pings(check, 3)
    add_pings(other, 3)
    services.prune_pings(check_id=check.id, limit=1)
    assert Ping.objects.filter(owner=other).count() == 3


def test_prune_of_deleted_check_does_nothing():
    assert services.prune_pings(check_id=123456) == 0


def test_every_100th_ping_prunes_the_log_in_its_transaction(
    client, django_capture_on_commit_callbacks
):
    profile = ProfileFactory(ping_log_limit=10)
    check = CheckFactory(project=ProjectFactory(owner=profile.user))
    add_pings(check, 99)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert client.get(f"/ping/{check.code}").status_code == 200
    # Nothing is left for after the commit: no task, no broker.
    assert callbacks == []
    assert list(Ping.objects.filter(owner=check).values_list("n", flat=True)) == [
        *range(91, 101)
    ]


def test_other_pings_do_not_prune(client, settings):
    settings.PING_LOG_LIMIT = 10
    check = CheckFactory()
    add_pings(check, 150)
    client.get(f"/ping/{check.code}")
    assert Ping.objects.filter(owner=check).count() == 151


BROKER_DOWN_SCRIPT = textwrap.dedent(
    """
    import django
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone
    from checks.models import Ping
    from tests.factories import CheckFactory

    call_command("migrate", verbosity=0)
    settings.PING_LOG_LIMIT = 2
    check = CheckFactory(n_pings=99)
    for n in (97, 98, 99):
        Ping.objects.create(owner=check, n=n, created=timezone.now())
    response = Client().get(f"/ping/{check.code}", HTTP_HOST="127.0.0.1")
    kept = Ping.objects.filter(owner=check).values_list("n", flat=True)
    print(response.status_code, *sorted(kept))
    """
)


@pytest.mark.slow
def test_hundredth_ping_prunes_without_the_broker(tmp_path):
    # A real process with REDIS_URL pointing at a closed port: the 100th ping is
    # answered, kept, and prunes the log itself; nothing on the ping path publishes.
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "SECRET_KEY": "test",
        "DJANGO_SETTINGS_MODULE": "hcserver.settings",
        "PYTHONPATH": str(BASE_DIR),
    }
    result = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-c", BROKER_DOWN_SCRIPT],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.split() == ["200", "99", "100"], result.stderr
    assert "Cannot connect to redis" not in result.stderr


def test_publish_retry_is_bounded():
    policy = django_settings.CELERY_TASK_PUBLISH_RETRY_POLICY
    assert django_settings.CELERY_TASK_PUBLISH_RETRY
    assert policy["max_retries"] <= 3
    assert django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"]


# --- pause / resume / delete ---------------------------------------------------------


def test_pause_records_processed_flip_from_real_status():
    check = CheckFactory(status=Status.UP)
    stale = Check.objects.get(pk=check.pk)
    Check.objects.filter(pk=check.pk).update(status=Status.DOWN)
    now = timezone.now()
    assert services.pause_check(check=stale, now=now)
    flip = Flip.objects.get(owner=check)
    assert (flip.old_status, flip.new_status, flip.processed) == ("down", "paused", now)


def test_pause_clears_run_and_deadline():
    check = CheckFactory(
        status=Status.UP, last_start=timezone.now(), alert_after=timezone.now()
    )
    services.pause_check(check=check, now=timezone.now())
    check.refresh_from_db()
    assert (check.status, check.last_start, check.alert_after) == ("paused", None, None)


def test_pause_updates_the_callers_instance():
    check = CheckFactory(status=Status.UP, alert_after=timezone.now())
    services.pause_check(check=check, now=timezone.now())
    assert (check.status, check.alert_after) == (Status.PAUSED, None)


def test_pausing_paused_check_changes_nothing():
    check = CheckFactory(status=Status.PAUSED)
    assert not services.pause_check(check=check, now=timezone.now())
    assert not Flip.objects.exists()


def test_resume_makes_check_new_and_forgets_pings():
    check = CheckFactory(status=Status.PAUSED, last_ping=timezone.now())
    assert services.resume_check(check=check, now=timezone.now())
    check.refresh_from_db()
    assert (check.status, check.last_ping, check.alert_after) == ("new", None, None)
    flip = Flip.objects.get(owner=check)
    assert (flip.old_status, flip.new_status) == ("paused", "new")
    assert flip.processed is not None


def test_resume_of_unpaused_check_changes_nothing():
    check = CheckFactory(status=Status.UP)
    assert not services.resume_check(check=check, now=timezone.now())
    check.refresh_from_db()
    assert check.status == Status.UP
    assert not Flip.objects.exists()


def test_delete_removes_check_and_its_pings():
    check = CheckFactory()
    add_pings(check, 3)
    services.delete_check(check=check)
    assert not Check.objects.exists()
    assert not Ping.objects.exists()


def test_ping_after_delete_is_not_found(client):
    check = CheckFactory()
    services.delete_check(check=check)
    assert client.get(f"/ping/{check.code}").status_code == 404


# --- record_ping details -------------------------------------------------------------


def test_start_on_down_check_sets_no_deadline():
    check = CheckFactory(status=Status.DOWN)
    services.ping_by_code(
        code=check.code, ping=PingData(action=PingKind.START), now=timezone.now()
    )
    check.refresh_from_db()
    assert check.last_start is not None
    assert check.alert_after is None


def test_ping_by_code_of_unknown_check_is_none():
    ping = services.ping_by_code(code=uuid.uuid4(), ping=PingData(), now=timezone.now())
    assert ping is None


def test_match_keywords_ignores_empty_items():
    assert not services.match_keywords("anything", " , ,")
    assert services.match_keywords("it FAILED", "ERROR, FAILED")


def test_email_ping_classified_by_subject():
    check = CheckFactory(filter_subject=True, failure_kw="FAIL")
    ping = PingData(method="", email_subject="backup FAIL", email_text="ok")
    assert services.classify(check, ping) == PingKind.FAIL


def test_email_ping_ignores_methods_and_http_filter():
    check = CheckFactory(methods="POST", filter_http_body=True, failure_kw="FAIL")
    ping = PingData(method="", body=b"FAIL", email_subject="hi", email_text="FAIL")
    assert services.classify(check, ping) == PingKind.SUCCESS


# --- projects and keys ---------------------------------------------------------------


def test_create_project_gives_it_a_ping_key():
    project = services.create_project(owner=ProfileFactory().user, name="Ops")
    assert len(project.ping_key) == 22


def test_api_key_is_stored_only_as_digest():
    project = ProjectFactory()
    key, full = services.create_api_key(project=project, name="ci", read_only=False)
    assert full.startswith("hcw_")
    assert len(full) == 32
    stored = ApiKey.objects.get(pk=key.pk)
    assert full not in (stored.prefix, stored.digest)
    assert stored.digest == key_digest(full)


def test_find_api_key_finds_the_key():
    project = ProjectFactory()
    key, full = services.create_api_key(project=project, name="ci", read_only=True)
    found = services.find_api_key(full)
    assert found == key
    assert found.read_only
    assert found.project == project


@pytest.mark.parametrize("wrong", ["", "x" * 32, "hcw_" + "a" * 28, "hcw_short"])
def test_find_api_key_refuses_unknown_keys(wrong):
    services.create_api_key(project=ProjectFactory(), name="ci", read_only=False)
    assert services.find_api_key(wrong) is None


def test_find_api_key_refuses_key_with_same_prefix_and_other_secret():
    _, full = services.create_api_key(
        project=ProjectFactory(), name="ci", read_only=False
    )
    forged = full[:12] + ("A" if full[12] != "A" else "B") + full[13:]
    assert services.find_api_key(forged) is None


def test_find_api_key_tells_read_only_from_read_write():
    _, full = services.create_api_key(
        project=ProjectFactory(), name="ci", read_only=False
    )
    assert services.find_api_key("hcr_" + full[4:]) is None


def test_touch_api_key_records_use_at_most_every_few_minutes():
    key, _ = services.create_api_key(
        project=ProjectFactory(), name="ci", read_only=False
    )
    now = timezone.now()
    services.touch_api_key(key=key, now=now)
    services.touch_api_key(key=key, now=now + timedelta(minutes=1))
    key.refresh_from_db()
    assert key.last_used == now


def test_rotate_ping_key_replaces_it():
    project = ProjectFactory()
    old = project.ping_key
    new = services.rotate_ping_key(project=project)
    assert new != old
    assert Project.objects.get(pk=project.pk).ping_key == new
