"""The stdlib-only Lambda: events -> Management API calls, against a local server."""

import importlib.util
import json
from pathlib import Path

import pytest
from django.conf import settings

from tests.integrations.aws import samples

IID = "i-0123456789abcdef0"
SOURCE = Path(settings.BASE_DIR) / "integrations" / "aws" / "lambda" / "handler.py"
KEY = "hcw_" + "k" * 28


def load():
    spec = importlib.util.spec_from_file_location("hc_lambda", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fn(http_receiver, monkeypatch):
    monkeypatch.setenv("HC_API_URL", f"{http_receiver.url}/api/v3/")
    monkeypatch.setenv("HC_API_KEY", KEY)
    monkeypatch.setenv("HC_TIMEOUT", "600")
    return load()


def test_launch_upserts_a_check_by_slug(fn, http_receiver):
    result = fn.handler(samples.asg_event(samples.LAUNCH, IID, "web"))
    assert result == {"result": "created"}
    [request] = http_receiver.requests
    assert (request.method, request.path) == ("POST", "/api/v3/checks/")
    assert request.headers["X-Api-Key"] == KEY
    body = request.json()
    assert body["slug"] == f"web-{IID}"
    assert body["unique"] == ["slug"]
    assert body["timeout"] == 600
    assert body["tags"] == f"aws web {IID}"


def test_terminate_deletes_checks_tagged_with_the_instance(fn, http_receiver):
    found = {"checks": [{"uuid": "5b2c7d7e-1c1a-4c8e-9a0d-6a7b9c1d2e3f"}]}
    http_receiver.response_body = json.dumps(found).encode()
    result = fn.handler(samples.ec2_event("terminated", IID))
    assert result == {"result": "deleted 1"}
    methods = [(r.method, r.path) for r in http_receiver.requests]
    assert methods == [
        ("GET", f"/api/v3/checks/?tag={IID}"),
        ("DELETE", "/api/v3/checks/5b2c7d7e-1c1a-4c8e-9a0d-6a7b9c1d2e3f"),
    ]


def test_pause_policy_pauses_instead(fn, http_receiver, monkeypatch):
    monkeypatch.setenv("HC_ON_SCALE_IN", "pause")
    http_receiver.response_body = b'{"checks": [{"uuid": "u1"}]}'
    fn.handler(samples.asg_event(samples.TERMINATE, IID, "web"))
    assert http_receiver.requests[-1].path == "/api/v3/checks/u1/pause"


def test_group_not_listed_is_ignored(fn, http_receiver, monkeypatch):
    monkeypatch.setenv("HC_GROUPS", "batch-*")
    assert fn.handler(samples.asg_event(samples.LAUNCH, IID, "web")) == {
        "result": "ignored"
    }
    assert http_receiver.requests == []


def test_warm_pool_launch_is_ignored(fn, http_receiver):
    event = samples.asg_event(samples.LAUNCH, IID, "web", Destination="WarmPool")
    assert fn.handler(event) == {"result": "ignored"}


def test_server_error_raises_so_lambda_retries(fn, http_receiver):
    http_receiver.status = 503
    with pytest.raises(fn.Retry):
        fn.handler(samples.asg_event(samples.LAUNCH, IID, "web"))


def test_api_key_is_not_logged(fn, http_receiver, caplog):
    http_receiver.status = 400
    fn.handler(samples.asg_event(samples.LAUNCH, IID, "web"))
    assert "refused" in caplog.text
    assert KEY not in caplog.text


def test_lambda_imports_only_the_standard_library():
    import sys

    tree = SOURCE.read_text()
    imported = {
        line.split()[1].split(".")[0]
        for line in tree.splitlines()
        if line.startswith(("import ", "from ")) and "__future__" not in line
    }
    assert imported <= set(sys.stdlib_module_names)


@pytest.mark.django_db(transaction=True)
def test_launch_then_terminate_against_the_real_api(live_server, monkeypatch):
    from checks import services
    from checks.models import Check
    from tests.factories import ProjectFactory

    project = ProjectFactory()
    _, key = services.create_api_key(project=project, name="lambda", read_only=False)
    monkeypatch.setenv("HC_API_URL", f"{live_server.url}/api/v3/")
    monkeypatch.setenv("HC_API_KEY", key)
    fn = load()
    launch = samples.asg_event(samples.LAUNCH, IID, "web")
    fn.handler(launch)
    fn.handler(launch)  # a redelivery upserts the same check
    check = Check.objects.get(project=project)
    assert check.slug == f"web-{IID}"
    fn.handler(samples.ec2_event("terminated", IID))
    assert not Check.objects.filter(project=project).exists()
