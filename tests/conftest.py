"""Shared fixtures. Postgres/Redis-only tests skip with a reason when not configured."""

import os
import uuid

import pytest
from django.conf import settings
from hypothesis import settings as hypothesis_settings

from tests.servers import HttpReceiver, SmtpServer

# No test may reach real AWS: fake credentials, no shared config or instance
# metadata, and a default endpoint where nothing listens. Tests that use AWS
# point boto3 at moto explicitly (tests/integrations/aws/conftest.py).
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
)


# No per-example deadline: tests never assert on timing, and a loaded 2-core CI
# machine makes an occasional example slow (a false "DeadlineExceeded").
hypothesis_settings.register_profile("hcserver", deadline=None)
hypothesis_settings.load_profile("hcserver")


def pytest_configure(config: pytest.Config) -> None:
    # PBKDF2 costs ~0.5 s per user on a busy 2-core machine; factories make many.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(
                    reason="needs PostgreSQL: set DATABASE_URL=postgres://..."
                )
            )
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(
                pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://...")
            )


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server in-process; Django's mail goes to it for the test."""
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


@pytest.fixture
def http_receiver():
    """A real local HTTP server that records requests (webhook targets)."""
    receiver = HttpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Tasks run in-process whatever REDIS_URL says (not in `workers` tests)."""
    from hcserver.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = "workers" not in request.keywords
    yield
    app.conf.task_always_eager = old


@pytest.fixture(autouse=True)
def _isolated_cache(request, settings):
    """Each test gets its own empty cache: rate-limit counters (logins, API keys,
    verification emails) never carry over. Redis-marked tests use the configured
    cache on purpose."""
    if request.node.get_closest_marker("redis") is None:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"test-{uuid.uuid4()}",
            }
        }


@pytest.fixture
def test_kinds(monkeypatch):
    """Register the test-only channel kinds `record` and `post` (tests/alerting)."""
    from integrations import registry
    from tests.alerting.kinds import TEST_KINDS, RecordKind

    monkeypatch.setattr(registry, "KINDS", {**registry.KINDS, **TEST_KINDS})
    registry.get.cache_clear()
    RecordKind.sent.clear()
    yield RecordKind.sent
    registry.get.cache_clear()
