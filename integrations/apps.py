from typing import Any

from django.apps import AppConfig
from django.core import checks


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        checks.register(check_allowed_target_networks, checks.Tags.security)


def check_allowed_target_networks(**kwargs: Any) -> list[checks.CheckMessage]:
    """An unparseable ALLOWED_TARGET_NETWORKS is reported at startup, not per alert."""
    from django.core.exceptions import ImproperlyConfigured

    from integrations.http import allowed_networks

    try:
        allowed_networks()
    except ImproperlyConfigured as e:
        return [
            checks.Error(
                str(e),
                hint="Use comma-separated networks, e.g. 10.0.0.0/8,fd00::/8.",
                id="integrations.E001",
            )
        ]
    return []
