"""The test peers themselves: a broken fixture would make other tests meaningless."""

import requests
from django.core.mail import send_mail


def test_smtp_server_receives_django_mail(smtp_server):
    send_mail("Hello", "body text", "from@example.org", ["to@example.org"])
    [mail] = smtp_server.wait_for(1)
    assert mail.subject == "Hello"
    assert mail.rcpt_tos == ["to@example.org"]
    assert "body text" in mail.text()


def test_http_receiver_records_request_and_answers_status(http_receiver):
    http_receiver.status = 418
    response = requests.post(f"{http_receiver.url}/hook", data=b"payload", timeout=5)
    [request] = http_receiver.wait_for(1)
    assert response.status_code == 418
    assert (request.method, request.path, request.body) == ("POST", "/hook", b"payload")
