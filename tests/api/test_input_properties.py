"""Property-based: any JSON object sent to create/update gets a 2xx or a 400, never
a 500, and a 400 changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.api.serializers import CheckSpecSerializer
from checks.models import Check
from tests.factories import CheckFactory

pytestmark = pytest.mark.django_db

FIELDS = [*CheckSpecSerializer().fields, "api_key", "other"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=120)
    | st.sampled_from(["", "*", "POST", "name", "0 5 * * *", "Europe/Kiev", "UTC"])
    | st.integers(min_value=59, max_value=31536001)
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=5)
bodies = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_handled(response: Any) -> None:
    assert response.status_code in (200, 201, 400), response.content
    if response.status_code == 400:
        assert set(response.json()) == {"error"}


@PROPERTY_SETTINGS
@given(body=bodies)
def test_create_answers_any_json_object_without_a_server_error(api, project, body):
    assert_handled(api.post("checks/", body))


@PROPERTY_SETTINGS
@given(body=bodies)
def test_rejected_update_leaves_the_check_as_it_was(api, project, body):
    check = CheckFactory(project=project)
    before = Check.objects.filter(pk=check.pk).values().get()
    response = api.post(f"checks/{check.code}", body)
    assert_handled(response)
    if response.status_code == 400:
        assert Check.objects.filter(pk=check.pk).values().get() == before
