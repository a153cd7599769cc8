"""Without Redis, the embedded alert loop polls the AWS event queues too."""

import pytest

from checks.models import Check
from tests.alerting.test_embedded import alert_loop, wait_until
from tests.integrations.aws import samples
from tests.integrations.aws.test_e2e import fleet, publish, scale  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.mark.django_db(transaction=True)
def test_embedded_loop_polls_the_event_queue(aws, fleet):  # noqa: F811
    launched, _ = scale(aws, 2)
    publish(aws, samples.LAUNCH, launched)
    with alert_loop():
        created = wait_until(lambda: Check.objects.count() == 2)
    assert created
    assert sorted(Check.objects.values_list("slug", flat=True)) == [
        f"web-fleet-{iid}" for iid in launched
    ]
