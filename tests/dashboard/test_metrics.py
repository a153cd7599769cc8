"""The project Prometheus endpoint (spec 4.6.17)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from checks import services
from checks.models import ApiKey, Status
from tests.factories import CheckFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return ProjectFactory()


@pytest.fixture
def ro_key(project):
    return services.create_api_key(project=project, name="prom", read_only=True)[1]


def _get(client, project, key):
    return client.get(f"/projects/{project.code}/metrics/{key}")


def test_metrics_reports_every_gauge(client, project, ro_key):
    now = timezone.now()
    up = CheckFactory(
        project=project, name="up", tags="a", status=Status.UP, last_ping=now
    )
    CheckFactory(
        project=project,
        name="down",
        tags="a b",
        status=Status.UP,
        last_ping=now - timedelta(days=3),
    )
    CheckFactory(project=project, name="paused", status=Status.PAUSED)
    response = _get(client, project, ro_key)
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert f'hc_check_up{{name="up", tags="a", unique_key="{up.unique_key}"}} 1' in body
    assert 'hc_check_up{name="down", tags="a b"' in body
    assert "# TYPE hc_check_grace gauge" in body
    assert 'hc_check_paused{name="paused", tags=""' in body
    assert 'hc_tag_up{tag="a"} 0' in body
    assert 'hc_tag_up{tag="b"} 0' in body
    assert "hc_checks_total 3\n" in body
    assert "hc_checks_down_total 1\n" in body


def test_metrics_marks_running_and_late_checks(client, project, ro_key):
    now = timezone.now()
    CheckFactory(
        project=project,
        name="late",
        status=Status.UP,
        last_ping=now - timedelta(days=1, minutes=5),
        last_start=now,
    )
    body = _get(client, project, ro_key).content.decode()
    assert 'hc_check_started{name="late"' in body
    assert body.split('hc_check_started{name="late"')[1].split("\n")[0].endswith(" 1")
    assert body.split('hc_check_grace{name="late"')[1].split("\n")[0].endswith(" 1")


def test_metrics_escapes_label_values(client, project, ro_key):
    CheckFactory(project=project, name='say "hi"\\\nnow')
    body = _get(client, project, ro_key).content.decode()
    assert 'name="say \\"hi\\"\\\\\\nnow"' in body


def test_metrics_accepts_bearer_header(client, project, ro_key):
    response = client.get(
        f"/projects/{project.code}/metrics/", HTTP_AUTHORIZATION=f"Bearer {ro_key}"
    )
    assert response.status_code == 200


def test_metrics_accepts_checks_path_form(client, project, ro_key):
    response = client.get(f"/projects/{project.code}/checks/metrics/{ro_key}")
    assert response.status_code == 200


def test_metrics_without_key_is_unauthorized(client, project):
    assert client.get(f"/projects/{project.code}/metrics/").status_code == 401


def test_metrics_with_key_of_wrong_length_is_bad_request(client, project):
    assert _get(client, project, "x" * 31).status_code == 400


def test_metrics_with_unknown_key_is_forbidden(client, project):
    assert _get(client, project, "hcr_" + "x" * 28).status_code == 403


def test_metrics_refuses_read_write_key(client, project):
    _, rw_key = services.create_api_key(project=project, name="rw", read_only=False)
    assert _get(client, project, rw_key).status_code == 403


def test_metrics_refuses_key_of_another_project(client, project):
    _, other_key = services.create_api_key(
        project=ProjectFactory(), name="ro", read_only=True
    )
    assert _get(client, project, other_key).status_code == 403


def test_metrics_records_key_use(client, project, ro_key):
    _get(client, project, ro_key)
    assert ApiKey.objects.get(project=project).last_used is not None


def test_metrics_query_count_does_not_grow_with_checks(
    client, project, ro_key, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _get(client, project, ro_key)  # the first use of a key records last_used
    counts = []
    for n in (1, 25):
        CheckFactory.create_batch(n, project=project, tags="t")
        with CaptureQueriesContext(connection) as ctx:
            _get(client, project, ro_key)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
