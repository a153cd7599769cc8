"""Shell command: off unless enabled, quoted placeholders, exit codes, timeout."""

import pytest

from checks.models import Status
from integrations.base import DeliveryError
from integrations.shell import Shell, ShellConfig
from tests.factories import ChannelFactory
from tests.integrations.helpers import send

pytestmark = pytest.mark.django_db


@pytest.fixture
def enabled(settings):
    settings.SHELL_ENABLED = True
    settings.SHELL_TIMEOUT = 5
    return settings


def test_down_runs_cmd_down_with_quoted_placeholders(enabled, tmp_path):
    out = tmp_path / "out"
    cmd = f"printf '%s|' $STATUS $NAME $TAG1 $CODE > {out}"
    notification = send("shell", {"cmd_down": cmd}, name="it's; rm -rf /")
    code = notification.owner.code
    assert out.read_text() == f"down|it's; rm -rf /|db|{code}|"


def test_up_runs_cmd_up(enabled, tmp_path):
    out = tmp_path / "out"
    send("shell", {"cmd_up": f"echo $STATUS $NOW > {out}"}, status=Status.UP)
    assert out.read_text() == "up 2026-11-27T12:30:15+00:00\n"


def test_command_does_not_see_the_worker_environment(enabled, tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "do-not-leak")
    out = tmp_path / "out"
    send("shell", {"cmd_down": f'echo "[$SECRET_KEY]" > {out}'})
    assert out.read_text() == "[]\n"


def test_non_zero_exit_is_an_error(enabled):
    with pytest.raises(DeliveryError, match="Command returned exit code 3") as e:
        send("shell", {"cmd_down": "exit 3"})
    assert not e.value.permanent


def test_command_running_too_long_is_killed(enabled):
    enabled.SHELL_TIMEOUT = 0.2
    with pytest.raises(DeliveryError, match="timed out"):
        send("shell", {"cmd_down": "sleep 30"})


def test_disabled_shell_refuses_to_run(settings, tmp_path):
    settings.SHELL_ENABLED = False
    out = tmp_path / "out"
    with pytest.raises(DeliveryError, match="SHELL_ENABLED") as e:
        send("shell", {"cmd_down": f"touch {out}"})
    assert e.value.permanent
    assert not out.exists()


def test_disabled_shell_rejects_new_config(settings):
    settings.SHELL_ENABLED = False
    serializer = ShellConfig(data={"cmd_down": "true"})
    assert not serializer.is_valid()
    assert "SHELL_ENABLED" in str(serializer.errors)


def test_config_needs_a_command(enabled):
    assert not ShellConfig(data={"cmd_down": "", "cmd_up": ""}).is_valid()


def test_empty_command_is_a_no_op():
    channel = ChannelFactory(kind="shell", config={"cmd_down": "true"})
    assert Shell().is_noop(channel, "up")
    assert not Shell().is_noop(channel, "down")
