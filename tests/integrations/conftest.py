"""Channel tests reach the local receiver, so they allow private targets.

The outbound-guard tests (test_http.py) turn the guard back on themselves.
"""

import pytest


@pytest.fixture
def receiver(http_receiver, settings):
    """The local HTTP receiver, with the outbound guard allowing 127.0.0.1."""
    settings.ALLOW_PRIVATE_TARGETS = True
    return http_receiver
