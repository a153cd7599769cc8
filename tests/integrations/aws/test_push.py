"""Push endpoints: SNS -> HTTPS with real RSA signatures, and the API destination.

The signing certificate is a self-signed one made here and served by a local HTTP
server; the allowed certificate host is set to that server for the tests.
"""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.utils import timezone

from checks.models import Check, key_digest
from integrations.aws import config, sns
from integrations.aws.models import AwsInstance
from tests.factories import AwsIntegrationFactory, AwsRuleFactory
from tests.integrations.aws import samples
from tests.servers import HttpReceiver

pytestmark = pytest.mark.django_db

TOPIC = "arn:aws:sns:us-east-1:123456789012:hc-events"
IID = "i-0123456789abcdef0"


def make_cert() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def signing():
    return make_cert()


@pytest.fixture
def cert_server(signing, settings, monkeypatch):
    """Serves the certificate; 127.0.0.1 over http is the allowed cert host."""
    server = HttpReceiver(response_body=signing[1])
    server.start()
    settings.AWS_SNS_CERT_HOST_PATTERN = r"^127\.0\.0\.1$"
    monkeypatch.setattr(sns, "CERT_SCHEMES", ("http",))
    monkeypatch.setattr(sns, "_certs", {})
    yield server
    server.stop()


@pytest.fixture
def rule():
    integration = AwsIntegrationFactory(sns_topic_arns=TOPIC)
    return AwsRuleFactory(integration=integration, asg_pattern="web")


def signed(message, key, version="2"):
    """Sign as SNS does: 'Key\\nvalue\\n' for the type's keys, in order, if present."""
    if message["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token"]
        keys += ["TopicArn", "Type"]
    text = "".join(f"{k}\n{message[k]}\n" for k in keys if k in message)
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303
    signature = key.sign(text.encode(), padding.PKCS1v15(), digest)
    return {
        **message,
        "SignatureVersion": version,
        "Signature": base64.b64encode(signature).decode(),
    }


def notification(cert_url, event, *, age=timedelta(0), topic=TOPIC):
    return {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": topic,
        "Subject": "EC2 event",
        "Message": json.dumps(event),
        "Timestamp": (timezone.now() - age).isoformat(timespec="milliseconds"),
        "SigningCertURL": cert_url,
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    }


def post_sns(client, integration, body):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(
        f"/integrations/aws/{integration.code}/sns/",
        data,
        content_type="text/plain; charset=UTF-8",
        HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification",
    )


def launch_event():
    return samples.asg_event(samples.LAUNCH, IID, "web")


@pytest.mark.parametrize("version", ["1", "2"])
def test_signed_notification_creates_check(client, rule, cert_server, signing, version):
    message = notification(f"{cert_server.url}/cert.pem", launch_event())
    response = post_sns(client, rule.integration, signed(message, signing[0], version))
    assert response.status_code == 200
    assert Check.objects.get().slug == f"web-{IID}"


def test_tampered_notification_is_refused(client, rule, cert_server, signing):
    message = signed(
        notification(f"{cert_server.url}/c.pem", launch_event()), signing[0]
    )
    message["Message"] = json.dumps(samples.asg_event(samples.LAUNCH, IID, "web-x"))
    response = post_sns(client, rule.integration, message)
    assert response.status_code == 403
    assert not AwsInstance.objects.exists()


def test_message_signed_by_another_key_is_refused(client, rule, cert_server):
    other_key, _ = make_cert()
    message = signed(
        notification(f"{cert_server.url}/c.pem", launch_event()), other_key
    )
    assert post_sns(client, rule.integration, message).status_code == 403
    assert not Check.objects.exists()


def test_certificate_from_wrong_host_is_refused(client, rule, cert_server, signing):
    # The same server under another name: the host check refuses it unfetched.
    url = cert_server.url.replace("127.0.0.1", "localhost") + "/c.pem"
    message = signed(notification(url, launch_event()), signing[0])
    assert post_sns(client, rule.integration, message).status_code == 403
    assert cert_server.requests == []
    assert not Check.objects.exists()


def test_replayed_old_notification_is_refused(client, rule, cert_server, signing):
    old = notification(
        f"{cert_server.url}/c.pem", launch_event(), age=timedelta(hours=2)
    )
    assert (
        post_sns(client, rule.integration, signed(old, signing[0])).status_code == 403
    )
    assert not Check.objects.exists()


def test_unsigned_notification_is_refused(client, rule, cert_server):
    message = notification(f"{cert_server.url}/c.pem", launch_event())
    assert post_sns(client, rule.integration, message).status_code == 403


def test_notification_from_topic_not_allowed_is_refused(
    client, rule, cert_server, signing
):
    topic = "arn:aws:sns:us-east-1:123456789012:other"
    message = notification(f"{cert_server.url}/c.pem", launch_event(), topic=topic)
    assert (
        post_sns(client, rule.integration, signed(message, signing[0])).status_code
        == 403
    )
    assert not Check.objects.exists()


def test_body_that_is_not_json_is_bad_request(client, rule):
    assert post_sns(client, rule.integration, "{nope").status_code == 400


def test_unknown_integration_is_not_found(client):
    response = client.post(
        "/integrations/aws/3f1f6b6c-1111-4c6c-9d1e-0c2a8f1e2b3c/sns/",
        "{}",
        content_type="text/plain",
    )
    assert response.status_code == 404


def test_get_is_not_allowed(client, rule):
    assert (
        client.get(f"/integrations/aws/{rule.integration.code}/sns/").status_code == 405
    )


def test_subscription_confirmation_visits_subscribe_url(
    client, rule, cert_server, signing
):
    message = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a98",
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe to the topic.\nTo confirm, visit it.",
        "SubscribeURL": f"{cert_server.url}/?Action=ConfirmSubscription&Token=x",
        "Timestamp": timezone.now().isoformat(),
        "SigningCertURL": f"{cert_server.url}/c.pem",
    }
    response = post_sns(client, rule.integration, signed(message, signing[0], "1"))
    assert response.status_code == 200
    paths = [r.path for r in cert_server.requests]
    assert "/?Action=ConfirmSubscription&Token=x" in paths
    rule.integration.refresh_from_db()
    assert rule.integration.sns_confirmed_at is not None


def test_unsubscribe_confirmation_is_reported_not_followed(
    client, rule, cert_server, signing
):
    message = {
        "Type": "UnsubscribeConfirmation",
        "MessageId": "47138184-6831-46b8-8f7c-afc488602d7d",
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f7",
        "TopicArn": TOPIC,
        "Message": "You have chosen to deactivate subscription.",
        "SubscribeURL": f"{cert_server.url}/?Action=ConfirmSubscription",
        "Timestamp": timezone.now().isoformat(),
        "SigningCertURL": f"{cert_server.url}/c.pem",
    }
    assert (
        post_sns(client, rule.integration, signed(message, signing[0])).status_code
        == 200
    )
    assert [r.path for r in cert_server.requests] == ["/c.pem"]
    rule.integration.refresh_from_db()
    assert "deleted" in rule.integration.last_error


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.us-east-1.amazonaws.com.evil.example/c.pem",
        "https://evil.example/sns.us-east-1.amazonaws.com/c.pem",
        "http://sns.us-east-1.amazonaws.com/c.pem",
        "https://sns.us-east-1.amazonaws.com:8443/c.pem",
        "https://user@sns.us-east-1.amazonaws.com/c.pem",
        "https://s3.amazonaws.com/sns.us-east-1.amazonaws.com/c.pem",
        "https://sns.us-east-1.amazonaws.com\\@evil.example/c.pem",
    ],
)
def test_certificate_urls_off_aws_are_refused(url):
    with pytest.raises(sns.SnsError):
        sns.check_aws_url(url)


def test_certificate_url_on_sns_host_is_accepted():
    sns.check_aws_url(
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem"
    )


# --- EventBridge API destination ---------------------------------------------------


def post_event(client, integration, body, secret):
    headers = {"HTTP_X_HC_AWS_SECRET": secret} if secret is not None else {}
    return client.post(
        f"/integrations/aws/{integration.code}/events/",
        body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        **headers,
    )


def test_api_destination_with_secret_creates_check(client, rule):
    secret = config.rotate_push_secret(integration=rule.integration)
    response = post_event(client, rule.integration, launch_event(), secret)
    assert response.status_code == 200
    assert response.json() == {"result": "created"}
    assert Check.objects.count() == 1


def test_push_secret_is_stored_as_a_digest_only(rule):
    secret = config.rotate_push_secret(integration=rule.integration)
    rule.integration.refresh_from_db()
    assert rule.integration.push_secret_hash == key_digest(secret)
    assert secret not in rule.integration.push_secret_hash


@pytest.mark.parametrize("secret", [None, "", "hcaws_wrong"])
def test_api_destination_without_right_secret_is_refused(client, rule, secret):
    config.rotate_push_secret(integration=rule.integration)
    response = post_event(client, rule.integration, launch_event(), secret)
    assert response.status_code == 401
    assert not Check.objects.exists()


def test_api_destination_is_off_without_a_secret(client, rule):
    assert post_event(client, rule.integration, launch_event(), "x").status_code == 401


def test_api_destination_malformed_event_is_bad_request(client, rule):
    secret = config.rotate_push_secret(integration=rule.integration)
    assert post_event(client, rule.integration, "{", secret).status_code == 400
    bad = {"detail-type": "EC2 Instance Launch Successful", "detail": []}
    assert post_event(client, rule.integration, bad, secret).status_code == 400
