"""HTTPS through the guard: connect to the checked address, TLS checks the name."""

import datetime
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from integrations import http
from integrations.base import DeliveryError

HOST = "hooks.example"


def _self_signed(tmp_path, name):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def tls_server(tmp_path):
    cert_path, key_path = _self_signed(tmp_path, HOST)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server.server_address[1], cert_path
    server.shutdown()
    server.server_close()


@pytest.fixture
def resolve_to_loopback(monkeypatch, settings):
    """HOST resolves to 127.0.0.1, which the operator allowed."""
    settings.ALLOW_PRIVATE_TARGETS = False
    settings.ALLOWED_TARGET_NETWORKS = ["127.0.0.1/32"]
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host == HOST:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(http.socket, "getaddrinfo", fake)


def test_https_verifies_the_host_name_on_the_checked_address(
    tls_server, resolve_to_loopback, settings
):
    port, cert_path = tls_server
    settings.OUTBOUND_CA_BUNDLE = str(cert_path)
    response = http.request("POST", f"https://{HOST}:{port}/hook", json={})
    assert (response.status, response.body) == (200, b"ok")


def test_untrusted_certificate_is_a_transient_tls_error(
    tls_server, resolve_to_loopback, settings
):
    port, _cert_path = tls_server
    settings.OUTBOUND_CA_BUNDLE = ""  # public CAs only: the test certificate fails
    with pytest.raises(DeliveryError, match="TLS handshake or certificate") as e:
        http.request("POST", f"https://{HOST}:{port}/hook", json={})
    assert not e.value.permanent


def test_certificate_for_another_name_is_refused(tls_server, settings):
    port, cert_path = tls_server
    settings.ALLOW_PRIVATE_TARGETS = True
    settings.OUTBOUND_CA_BUNDLE = str(cert_path)
    # The address is right, the name (127.0.0.1) is not the certificate's.
    with pytest.raises(DeliveryError, match="TLS"):
        http.request("POST", f"https://127.0.0.1:{port}/hook", json={})
