"""The registry: every kind the issue names is registered and loads."""

import pytest
from rest_framework import serializers

from integrations import registry
from integrations.base import ChannelKind

EXPECTED = {
    "email", "webhook", "slack", "mattermost", "discord", "msteams", "telegram",
    "pagerduty", "opsgenie", "ntfy", "gotify", "pushover", "matrix", "zulip", "shell",
}  # fmt: skip


def test_every_expected_kind_is_registered():
    assert set(registry.KINDS) == EXPECTED


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_kind_loads_with_matching_name_label_and_config(kind):
    loaded = registry.get(kind)
    assert isinstance(loaded, ChannelKind)
    assert loaded.kind == kind
    assert loaded.label
    assert issubclass(loaded.config, serializers.Serializer)


def test_unknown_kind_is_a_key_error():
    with pytest.raises(KeyError):
        registry.get("carrier-pigeon")


def test_choices_list_labels():
    assert ("msteams", "Microsoft Teams") in registry.choices()
