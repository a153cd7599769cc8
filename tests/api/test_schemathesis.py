"""Fuzz the live API with schemathesis from its own OpenAPI schema.

Bounded: a few positive and negative examples per operation of all three versions,
so `make test` stays quick. Expected: no server error and no response that
contradicts the schema (status code, content type, headers, body).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from checks.models import Status
from tests.factories import ChannelFactory, CheckFactory, ProjectFactory, api_key_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = 6


@pytest.fixture
def world() -> dict[str, Any]:
    project = ProjectFactory()
    ChannelFactory(project=project, name="ops")
    checks = [
        CheckFactory(project=project, tags="prod db", status=Status.UP),
        CheckFactory(project=project, kind="cron", schedule="*/5 * * * *"),
        CheckFactory(project=project, status=Status.PAUSED),
    ]
    return {"key": api_key_for(project), "codes": [str(c.code) for c in checks]}


def load_schema() -> Any:
    # The document /api/v3/schema/ serves (test_schema.py pins that).
    document = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(document)
    # The test sends a valid key itself; auth is tested in test_auth.py.
    schema.config.generation.update(with_security_parameters=False)
    return schema


def fuzz(operation: Any, mode: GenerationMode, url: str, world: dict[str, Any]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        params = case.path_parameters or {}
        if (
            mode == GenerationMode.POSITIVE
            and "code" in params
            and len(str(case.body)) % 2
        ):
            # Half the positive cases address a real check, the rest a random UUID.
            params["code"] = world["codes"][0]
        case.call_and_validate(
            base_url=url, headers={"X-Api-Key": world["key"]}, checks=CHECKS
        )

    run()


def test_api_answers_as_its_schema_says(
    live_server: Any, world: dict[str, Any]
) -> None:
    failures = []
    for result in load_schema().get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode, live_server.url, world)
            except Unsatisfiable:
                pass  # nothing to get wrong: no parameters and no body
            except Exception as e:  # noqa: BLE001 - collect all, report together
                failures.append(f"{operation.label} ({mode.value}): {e}")
    assert not failures, "\n\n".join(failures)
