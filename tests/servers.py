"""Real local peers for tests: an SMTP server (aiosmtpd) and an HTTP receiver."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    # The client's (address, port): one per SMTP connection.
    peer: tuple[str, int] | None = None

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""


class _Collect:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        self.server.recipient_peers.append(session.peer)
        if address in self.server.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        message = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        with self.server.lock:
            self.server.messages.append(
                ReceivedMail(
                    envelope.mail_from or "",
                    list(envelope.rcpt_tos),
                    message,  # type: ignore[arg-type]
                    session.peer,  # type: ignore[arg-type]
                )
            )
            self.server.lock.notify_all()
        return "250 OK"


class SmtpServer:
    """An in-process SMTP server; `messages` holds what it received."""

    def __init__(self) -> None:
        self.messages: list[ReceivedMail] = []
        # Recipients answered `550 No such user` at RCPT.
        self.refuse: set[str] = set()
        # The client's (address, port) of every RCPT, accepted or not.
        self.recipient_peers: list[tuple[str, int]] = []
        self.lock = threading.Condition()
        self.port = free_port()
        self.controller = self._controller()

    def _controller(self) -> Controller:
        return Controller(_Collect(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def restart(self) -> None:
        """Stop (dropping every client connection) and listen again, same port."""
        self.controller.stop()
        self.controller = self._controller()
        self.controller.start()

    def wait_for(self, count: int = 1, timeout: float = 10) -> list[ReceivedMail]:
        """Block until at least `count` messages arrived; return them all."""
        with self.lock:
            self.lock.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """A local HTTP server recording every request; answers `status` (default 200)."""

    requests: list[ReceivedRequest] = field(default_factory=list)
    status: int = 200
    response_body: bytes = b"ok"
    response_headers: dict[str, str] = field(default_factory=dict)
    # path -> (status, headers, body), overriding the defaults above for that path.
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver.lock:
                    receiver.requests.append(
                        ReceivedRequest(
                            self.command, self.path, dict(self.headers), body
                        )
                    )
                    receiver.lock.notify_all()
                status, headers, answer = receiver.routes.get(
                    self.path.split("?", 1)[0],
                    (
                        receiver.status,
                        receiver.response_headers,
                        receiver.response_body,
                    ),
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval: shutdown() waits for it, once per test.
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.02,), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int = 1, timeout: float = 10) -> list[ReceivedRequest]:
        with self.lock:
            self.lock.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            return list(self.requests)
