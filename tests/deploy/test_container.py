"""Dockerfile, docker-compose.yml and .env.example, checked without a Docker engine.

The image and compose file start hcserver only through deploy/entrypoint.sh; the
roles it runs are exercised for real by test_prod_local.py.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENTRYPOINT = (ROOT / "deploy" / "entrypoint.sh").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
DOCS = (ROOT / "docs" / "configuration.md").read_text() + (
    ROOT / "docs" / "deploy.md"
).read_text()


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    pairs = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def _entrypoint_roles() -> set[str]:
    return set(re.findall(r"^\s{2}(\w+)\)$", ENTRYPOINT, re.M))


def _env_example_names() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE, re.M))


def test_compose_services_depend_only_on_defined_services():
    services = COMPOSE["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"


def test_compose_uses_only_declared_named_volumes():
    declared = set(COMPOSE["volumes"])
    for service in COMPOSE["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared


def test_compose_app_services_run_entrypoint_roles():
    roles = _entrypoint_roles()
    for name, service in COMPOSE["services"].items():
        if service.get("image", "").startswith("${HC_IMAGE"):
            assert service["command"][0] in roles, name


def test_compose_has_every_role_of_the_process_layout():
    commands = {s["command"][0] for s in COMPOSE["services"].values() if "build" in s}
    assert commands == {"migrate", "bootstrap", "web", "worker", "beat", "smtpd"}


def test_compose_waits_for_migrations_before_serving():
    for name in ("web", "worker", "beat", "bootstrap"):
        migrate = COMPOSE["services"][name]["depends_on"]["migrate"]
        assert migrate["condition"] == "service_completed_successfully"


def test_compose_databases_have_volumes_and_health_checks():
    for name in ("postgres", "redis"):
        service = COMPOSE["services"][name]
        assert service["volumes"]
        assert service["healthcheck"]["test"]


def test_every_compose_variable_is_in_env_example():
    text = (ROOT / "docker-compose.yml").read_text().replace("$$", "")
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    assert used
    assert used <= _env_example_names()


def test_every_env_example_variable_is_documented():
    for name in _env_example_names():
        assert f"`{name}`" in DOCS, f"{name} is not in docs/configuration.md"


def test_dockerfile_uses_slim_python_312():
    assert ("FROM", "python:3.12-slim") in _dockerfile_instructions()


def test_dockerfile_runs_as_non_root_user():
    users = [rest for keyword, rest in _dockerfile_instructions() if keyword == "USER"]
    assert users
    assert users[-1] not in ("root", "0")


def test_dockerfile_entrypoint_is_the_role_script():
    instructions = dict(_dockerfile_instructions())
    assert instructions["ENTRYPOINT"] == '["deploy/entrypoint.sh"]'
    assert instructions["CMD"] == '["web"]'
    assert os.access(ROOT / "deploy" / "entrypoint.sh", os.X_OK)


def test_dockerfile_healthcheck_runs_the_health_probe():
    instructions = dict(_dockerfile_instructions())
    assert instructions["HEALTHCHECK"].endswith(
        'CMD ["python", "deploy/healthcheck.py"]'
    )


def test_requirements_are_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line.strip()), line


def test_dockerignore_keeps_what_the_image_needs():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in ("deploy", "deploy/", "manage.py", "requirements.txt", "checks"):
        assert needed not in ignored


@pytest.mark.slow
def test_dockerfile_collectstatic_step_runs(tmp_path):
    (run,) = [
        rest
        for keyword, rest in _dockerfile_instructions()
        if keyword == "RUN" and "collectstatic" in rest
    ]
    # The build step as written, with the build directory moved into tmp_path.
    command = run.replace("/tmp/build", str(tmp_path / "build"))  # noqa: S108
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run(["/bin/sh", "-c", command], cwd=ROOT, env=env, check=True)  # noqa: S603
    assert (ROOT / "staticfiles" / "hc" / "app.css").exists()


def test_entrypoint_handles_every_role():
    assert {"web", "worker", "beat", "migrate", "bootstrap", "smtpd"} <= (
        _entrypoint_roles()
    )


def test_entrypoint_web_role_uses_the_gunicorn_config():
    (line,) = [s for s in ENTRYPOINT.splitlines() if "gunicorn" in s and "exec" in s]
    assert "deploy/gunicorn.conf.py" in shlex.split(line)
