"""Verify SNS HTTP(S) messages: signature v1 (SHA1) / v2 (SHA256), cert URL, age.

Only the signed body is trusted; SNS's x-amz-sns-* headers are informational.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings

from integrations.aws.events import parse_time

NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
REQUIRED = ("Type", "MessageId", "TopicArn", "Timestamp", "Signature", "SigningCertURL")
# Tests serve their certificate over plain HTTP from an ephemeral port: they add
# "http" here. Production accepts only https URLs without a port.
CERT_SCHEMES: tuple[str, ...] = ("https",)
# Future timestamps within this much clock skew are fine.
SKEW = timedelta(minutes=5)

_certs: dict[str, rsa.RSAPublicKey] = {}
_certs_lock = threading.Lock()


class SnsError(ValueError):
    """A message that must be refused (403); the text says why."""


def check_aws_url(url: str) -> None:
    """SnsError unless `url` is on an SNS host (cert and subscribe URLs)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise SnsError("malformed URL") from e
    if parts.scheme not in CERT_SCHEMES:
        raise SnsError("URL is not https")
    if port is not None and CERT_SCHEMES == ("https",):
        raise SnsError("URL has a port")
    host = parts.hostname or ""
    if (
        parts.username
        or parts.password
        or not re.match(settings.AWS_SNS_CERT_HOST_PATTERN, host)
    ):
        raise SnsError("URL host is not an SNS host")


def fetch_cert(url: str) -> rsa.RSAPublicKey:
    """The RSA key of a signing certificate, cached per URL (they rotate rarely)."""
    with _certs_lock:
        if url in _certs:
            return _certs[url]
    try:
        response = requests.get(url, timeout=5, allow_redirects=False)
    except requests.RequestException as e:
        raise SnsError("signing certificate could not be fetched") from e
    if response.status_code != 200:
        raise SnsError("signing certificate could not be fetched")
    try:
        key = x509.load_pem_x509_certificate(response.content).public_key()
    except ValueError as e:
        raise SnsError("signing certificate is not a PEM certificate") from e
    if not isinstance(key, rsa.RSAPublicKey):
        raise SnsError("signing certificate has no RSA key")
    with _certs_lock:
        _certs[url] = key
    return key


def string_to_sign(message: dict[str, Any]) -> bytes:
    keys = NOTIFICATION_KEYS if message["Type"] == "Notification" else CONFIRMATION_KEYS
    text = "".join(f"{k}\n{message[k]}\n" for k in keys if k in message)
    return text.encode()


def verify(
    message: Any,
    *,
    now: datetime,
    max_age: timedelta,
    get_key: Callable[[str], rsa.RSAPublicKey] = fetch_cert,
) -> dict[str, Any]:
    """The message if its signature, cert URL and age check out; else SnsError."""
    if not isinstance(message, dict):
        raise SnsError("not a JSON object")
    if any(not isinstance(message.get(k), str) for k in REQUIRED):
        raise SnsError("missing signed fields")
    if message["Type"] not in TYPES:
        raise SnsError("unknown message type")
    if any(
        k in message and not isinstance(message[k], str)
        for k in NOTIFICATION_KEYS + CONFIRMATION_KEYS
    ):
        raise SnsError("malformed signed fields")
    version = message.get("SignatureVersion")
    if version == "1":
        algorithm: hashes.HashAlgorithm = hashes.SHA1()  # noqa: S303 - SNS v1 is SHA1
    elif version == "2":
        algorithm = hashes.SHA256()
    else:
        raise SnsError("unsupported signature version")
    check_aws_url(message["SigningCertURL"])
    if not urlsplit(message["SigningCertURL"]).path.endswith(".pem"):
        raise SnsError("certificate URL is not a .pem")
    try:
        signature = base64.b64decode(message["Signature"], validate=True)
    except (binascii.Error, ValueError) as e:
        raise SnsError("signature is not base64") from e
    key = get_key(message["SigningCertURL"])
    try:
        key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm)
    except InvalidSignature as e:
        raise SnsError("bad signature") from e
    # Only after the signature: the timestamp is now known to be SNS's own.
    sent = parse_time(message["Timestamp"])
    if sent is None:
        raise SnsError("bad timestamp")
    if sent < now - max_age or sent > now + SKEW:
        raise SnsError("message too old (or from the future): replay refused")
    return message


def confirm_subscription(url: str) -> None:
    """Visit a verified SubscribeURL (host re-checked: no redirects, short timeout)."""
    check_aws_url(url)
    try:
        response = requests.get(url, timeout=5, allow_redirects=False)
    except requests.RequestException as e:
        raise SnsError("subscription confirmation failed") from e
    if response.status_code != 200:
        raise SnsError(f"subscription confirmation answered {response.status_code}")
