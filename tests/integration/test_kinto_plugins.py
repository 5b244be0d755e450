"""Kinto's own third-party plugins, from PyPI, running unchanged on our server.

``kinto-attachment`` 9.0.1 and ``kinto-emailer`` 4.0.0 are installed beside our packages with
``pip install --no-deps`` (``nox -s integration`` does it) and enabled by ``kinto.includes``;
they import Kinto's module names (``kinto.core.utils``, ``kinto.authorization``,
``kinto.views.records``...), which the compatibility layer provides.

* attachment: a multipart upload to ``.../records/<id>/attachment`` stores the file with the
  plugin's local filesystem backend (served here by a static HTTP server on 127.0.0.1, as a
  deployment serves ``attachment.base_url``), the record gets the ``attachment`` field, and
  ``DELETE`` removes both;
* emailer: a collection's ``kinto-emailer`` hooks send an email on record creation, received
  by an SMTP server (aiosmtpd) the test starts on 127.0.0.1.
"""

from __future__ import annotations

import email
import functools
import hashlib
import http.server
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import webtest

from kinto.core.testing import basic_auth_header
from kinto.server import main
from kinto.server.testing import free_port

pytest.importorskip("kinto_attachment", reason="nox -s integration installs kinto-attachment (--no-deps)")
pytest.importorskip("kinto_emailer", reason="nox -s integration installs kinto-emailer (--no-deps)")

ALICE, BOB = basic_auth_header("alice"), basic_auth_header("bob")
RECORD = "/v1/buckets/b/collections/c/records/r1"


def build_app(tmp_path: Path, **settings: Any) -> webtest.TestApp:
    url = f"sqlite:///{tmp_path}/kinto.sqlite"
    base = {
        "kinto.userid_hmac_secret": "plugins-integration",
        "kinto.storage_backend": "kinto.core.storage.sqlite",
        "kinto.storage_url": url,
        "kinto.permission_backend": "kinto.core.permission.sqlite",
        "kinto.permission_url": url,
        "kinto.cache_backend": "kinto.core.cache.memory",
        "kinto.bucket_create_principals": "system.Authenticated",
        "multiauth.policies": "basicauth",
    }
    wsgi = main({}, **base, **settings)
    for kind in ("storage", "permission", "cache"):
        getattr(wsgi.registry, kind).initialize_schema()
    return webtest.TestApp(wsgi)


def create_collection(app: webtest.TestApp, collection: dict[str, Any] | None = None) -> None:
    app.put_json("/v1/buckets/b", {"data": {}}, headers=ALICE, status=201)
    app.put_json("/v1/buckets/b/collections/c", {"data": collection or {}}, headers=ALICE, status=201)


# --- kinto-attachment ----------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """The attachments folder, served over HTTP as a deployment serves ``attachment.base_url``."""
    folder = tmp_path / "attachments"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def attachment_app(tmp_path: Path, files: tuple[Path, str]) -> webtest.TestApp:
    folder, base_url = files
    return build_app(
        tmp_path,
        **{
            "kinto.includes": "kinto_attachment",
            "attachment.base_path": str(folder),
            "attachment.base_url": base_url,
            "attachment.extensions": "any",
        },
    )


def upload(
    app: webtest.TestApp, content: bytes, headers: dict[str, str], status: int | str = "*", **fields: str
) -> webtest.TestResponse:
    return app.post(
        RECORD + "/attachment",
        params=fields,
        upload_files=[("attachment", "report.txt", content)],
        headers=headers,
        status=status,
    )


def test_the_server_announces_the_attachments_capability(attachment_app):
    capabilities = attachment_app.get("/v1/").json["capabilities"]
    assert capabilities["attachments"]["version"] == "9.0.1"
    assert capabilities["attachments"]["base_url"].startswith("http://127.0.0.1:")


def test_an_upload_creates_the_record_with_its_attachment_and_the_file_is_served(attachment_app, files):
    folder, base_url = files
    create_collection(attachment_app)
    content = b"quarterly figures\n"

    answer = upload(attachment_app, content, ALICE, data='{"title": "Q3"}', status=201)

    attachment = answer.json
    assert answer.headers["Location"].endswith(RECORD)
    assert attachment["filename"] == "report.txt"
    assert attachment["size"] == len(content)
    assert attachment["hash"] == hashlib.sha256(content).hexdigest()
    assert attachment["mimetype"] == "text/plain"
    assert attachment["location"].startswith(base_url)
    record = attachment_app.get(RECORD, headers=ALICE).json["data"]
    assert record["title"] == "Q3"
    assert record["attachment"] == attachment
    with urllib.request.urlopen(attachment["location"], timeout=10) as served:
        assert served.read() == content
    assert [path.read_bytes() for path in folder.iterdir()] == [content]


def test_a_second_upload_replaces_the_file_of_an_existing_record(attachment_app, files):
    folder, _ = files
    create_collection(attachment_app)
    attachment_app.put_json(RECORD, {"data": {"title": "kept"}}, headers=ALICE, status=201)

    upload(attachment_app, b"v1", ALICE, status=200)
    second = upload(attachment_app, b"version two", ALICE, status=200).json

    record = attachment_app.get(RECORD, headers=ALICE).json["data"]
    assert record["title"] == "kept"
    assert record["attachment"]["size"] == len(b"version two")
    assert [path.read_bytes() for path in folder.iterdir()] == [b"version two"]
    assert second["location"] == record["attachment"]["location"]


def test_deleting_the_attachment_removes_the_file_and_the_field(attachment_app, files):
    folder, _ = files
    create_collection(attachment_app)
    upload(attachment_app, b"to be removed", ALICE, status=201)

    attachment_app.delete(RECORD + "/attachment", headers=ALICE, status=204)

    record = attachment_app.get(RECORD, headers=ALICE).json["data"]
    # Kinto 26.5 keeps the field as null (its PATCH stores nulls); the core's PATCH semantics decide here.
    assert record.get("attachment") is None
    assert list(folder.iterdir()) == []


def test_deleting_the_record_removes_its_file(attachment_app, files):
    folder, _ = files
    create_collection(attachment_app)
    upload(attachment_app, b"goes with its record", ALICE, status=201)

    attachment_app.delete(RECORD, headers=ALICE, status=200)

    assert list(folder.iterdir()) == []


def test_uploading_needs_the_permissions_of_the_record(attachment_app, files):
    folder, _ = files
    create_collection(attachment_app)

    anonymous = upload(attachment_app, b"x", {}, status=401).json
    stranger = upload(attachment_app, b"x", BOB, status=403).json

    assert (anonymous["errno"], stranger["errno"]) == (104, 121)
    assert list(folder.iterdir()) == []
    attachment_app.patch_json(
        "/v1/buckets/b/collections/c",
        {"permissions": {"record:create": ["system.Authenticated"]}},
        headers=ALICE,
        status=200,
    )
    upload(attachment_app, b"bob's file", BOB, status=201)
    # Bob created the record, so he may write it; Alice may, through the bucket.
    upload(attachment_app, b"alice's file", ALICE, status=200)


def test_an_upload_without_a_file_is_a_400_in_kintos_format(attachment_app):
    create_collection(attachment_app)

    answer = attachment_app.post(
        RECORD + "/attachment",
        params={"data": "{}"},
        headers=ALICE,
        content_type="multipart/form-data; boundary=xyz",
        status=400,
    ).json

    assert (answer["code"], answer["errno"], answer["message"]) == (400, 109, "Attachment missing.")


# --- kinto-emailer ---------------------------------------------------------------------------------


class Inbox:
    """The messages an aiosmtpd server received."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.received = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls it by this name
        self.messages.append(email.message_from_bytes(envelope.content))
        self.received.set()
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def emailer_app(tmp_path: Path, smtp: tuple[Inbox, int]) -> webtest.TestApp:
    _, port = smtp
    return build_app(
        tmp_path,
        **{
            "kinto.includes": "kinto_emailer",
            "mail.host": "127.0.0.1",
            "mail.port": str(port),
            "mail.default_sender": "kinto@example.com",
        },
    )


HOOKS = {
    "kinto-emailer": {
        "hooks": [
            {
                "resource_name": "record",
                "action": "create",
                "sender": "kinto@example.com",
                "subject": "New {resource_name} in {bucket_id}/{collection_id}",
                "template": "Record {record_id} was created by {user_id}.",
                "recipients": ["reviewers@example.com"],
            }
        ]
    }
}


def test_a_configured_hook_sends_an_email_when_a_record_is_created(emailer_app, smtp):
    inbox, _ = smtp
    create_collection(emailer_app, HOOKS)

    emailer_app.put_json(RECORD, {"data": {"title": "hello"}}, headers=ALICE, status=201)

    assert inbox.received.wait(10)
    [message] = inbox.messages
    assert message["To"] == "reviewers@example.com"
    assert message["From"] == "kinto@example.com"
    assert message["Subject"] == "New record in b/c"
    body = message.get_payload(decode=True).decode()
    assert body.startswith("Record r1 was created by basicauth:")


def test_no_email_for_actions_the_hooks_do_not_name(emailer_app, smtp):
    inbox, _ = smtp
    create_collection(emailer_app, HOOKS)
    emailer_app.put_json(RECORD, {"data": {"title": "hello"}}, headers=ALICE, status=201)
    assert inbox.received.wait(10)
    inbox.received.clear()

    emailer_app.patch_json(RECORD, {"data": {"title": "changed"}}, headers=ALICE, status=200)
    emailer_app.delete(RECORD, headers=ALICE, status=200)

    assert len(inbox.messages) == 1


def test_invalid_hooks_are_refused_with_kintos_400(emailer_app, smtp):
    emailer_app.put_json("/v1/buckets/b", {"data": {}}, headers=ALICE, status=201)

    answer = emailer_app.put_json(
        "/v1/buckets/b/collections/c",
        {"data": {"kinto-emailer": {"hooks": [{"template": "x", "recipients": []}]}}},
        headers=ALICE,
        status=400,
    ).json

    assert (answer["errno"], answer["message"]) == (107, "body: Empty list of recipients.")
    emailer_app.get("/v1/buckets/b/collections/c", headers=ALICE, status=404)
