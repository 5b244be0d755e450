"""The real ``kinto start`` process under real traffic: idle and active clients, slow ones, big bodies, signals.

Every test starts the command as users run it (``python -m kinto.server start``,
SQLite in a temporary folder) and talks to it over sockets: nothing here runs
in-process. Each scenario runs against granian (the default) and against the
optional servers, gunicorn and waitress, with the same options.
"""

from __future__ import annotations

import base64
import http.client
import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from kinto.server.serving import WORKERS_KILL_TIMEOUT
from kinto.server.testing import LiveServer

pytestmark = pytest.mark.serving

SERVERS = ("granian", "gunicorn", "waitress")
AUTH = "Basic " + base64.b64encode(b"alice:secret").decode()
#: Short timeouts so that the slow-client scenarios end quickly; the defaults are checked elsewhere.
FAST_TIMEOUTS = ["--keep-alive-timeout", "2", "--body-timeout", "4"]
MAX_BODY = 1024 * 1024


def _start(tmp_path_factory: pytest.TempPathFactory, server: str, *args: str) -> LiveServer:
    folder = tmp_path_factory.mktemp(f"serve-{server}")
    env = {"KINTO_MAX_REQUEST_BODY_BYTES": str(MAX_BODY)}
    return LiveServer(cwd=folder, args=["--server", server, *args], env=env).start()


@pytest.fixture(scope="module", params=SERVERS)
def server_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def live(server_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The server with its default options, collection ``b1/c1`` and a 1 MiB body limit."""
    yield from _serving(tmp_path_factory, server_name)


@pytest.fixture(scope="module")
def impatient(server_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The same with short timeouts (2 s keep-alive and headers, 4 s for a body)."""
    yield from _serving(tmp_path_factory, server_name, *FAST_TIMEOUTS)


def _serving(tmp_path_factory: pytest.TempPathFactory, name: str, *args: str) -> Iterator[LiveServer]:
    server = _start(tmp_path_factory, name, *args)
    try:
        for path in ("/v1/buckets/b1", "/v1/buckets/b1/collections/c1"):
            assert _request(server, "PUT", path, {"data": {}})[0] in (200, 201)
        yield server
    finally:
        server.stop()


# --- small HTTP helpers over raw sockets -----------------------------------------------------------


def _request(server: LiveServer, method: str, path: str, body: object = None, timeout: float = 30) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": AUTH, "Content-Type": "application/json"}
        connection.request(method, path, payload, headers)
        response = connection.getresponse()
        text = response.read()
        return response.status, json.loads(text) if text else {}
    finally:
        connection.close()


def _raw(port: int, data: bytes, timeout: float = 30) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(data)
    return sock


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response (Content-Length framed) from ``sock``."""
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {buffer!r}")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes ``sock`` (EOF or reset) within ``within`` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def _heartbeat_request() -> bytes:
    return b"GET /v1/__lbheartbeat__ HTTP/1.1\r\nHost: test\r\n\r\n"


def _new_client_wait(port: int) -> float:
    """Seconds a brand new client waits for its answer (raises if it gets none within 30 s)."""
    start = time.monotonic()
    sock = _raw(port, _heartbeat_request())
    try:
        status, _, _ = _read_response(sock)
        assert status == 200
        return time.monotonic() - start
    finally:
        sock.close()


# --- idle and active clients -------------------------------------------------------------------------


def test_two_thousand_idle_keep_alive_connections_leave_new_clients_answered(live):
    idle = []
    try:
        for _ in range(2000):
            sock = _raw(live.port, _heartbeat_request())
            status, headers, _ = _read_response(sock)
            assert status == 200
            assert headers.get("connection", "").lower() != "close"
            idle.append(sock)
        waits = [_new_client_wait(live.port) for _ in range(20)]
        # And the idle connections still work: they were kept, not dropped.
        for sock in idle[-50:]:
            sock.sendall(_heartbeat_request())
            assert _read_response(sock)[0] == 200
    finally:
        for sock in idle:
            sock.close()
    assert len(waits) == 20


def test_idle_keep_alive_connections_are_closed_after_the_timeout(impatient):
    sock = _raw(impatient.port, _heartbeat_request())
    try:
        assert _read_response(sock)[0] == 200
        assert _closed_by_server(sock, within=15)
    finally:
        sock.close()


def test_256_simultaneous_clients_are_all_answered(live):
    barrier = threading.Barrier(256)

    def client(index: int) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=60)
        try:
            # All start together, each connecting then sending at once: a connection opened before
            # the barrier would sit idle while 255 threads start, which on a loaded machine can
            # outlast the server's keep-alive timeout (it then closes it, as it should).
            barrier.wait(timeout=60)
            connection.connect()
            body = json.dumps({"data": {"index": index}}).encode()
            connection.request(
                "POST",
                "/v1/buckets/b1/collections/c1/records",
                body,
                {"Authorization": AUTH, "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            text = response.read()
            payload = json.loads(text)
            if response.status == 503:
                assert response.getheader("Retry-After")
                assert payload["code"] == 503
            elif response.status != 201:
                unexpected.append((response.status, text[:300]))
            return response.status
        finally:
            connection.close()

    unexpected: list[tuple[int, bytes]] = []
    with ThreadPoolExecutor(256) as pool:
        statuses = list(pool.map(client, range(256)))
    assert len(statuses) == 256
    assert all(status in (201, 503) for status in statuses), (sorted(set(statuses)), unexpected[:3])
    assert statuses.count(201) >= 1


# --- slow clients ----------------------------------------------------------------------------------


def _trickle(port: int, head: bytes, stop: threading.Event, closed: list[bool]) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        for byte in head:
            if stop.is_set():
                return
            sock.sendall(bytes([byte]))
            time.sleep(0.5)
        closed.append(False)
    except OSError:
        closed.append(True)
    finally:
        sock.close()


@pytest.mark.parametrize("part", ["headers", "body"])
def test_slow_clients_hold_no_thread_and_are_cut(impatient, part):
    live = impatient
    if part == "headers":
        head = b"GET /v1/__heartbeat__ HTTP/1.1\r\nHost: test\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
        prefix = b""
    else:
        prefix = (
            b"PUT /v1/buckets/slow HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Authorization: " + AUTH.encode() + b"\r\nContent-Length: 300\r\n\r\n"
        )
        head = b'{"data": {}}' + b" " * 288
    stop = threading.Event()
    closed: list[bool] = []
    slow = []
    for _ in range(12):  # three times the threads of a worker

        def run(prefix: bytes = prefix) -> None:
            if prefix:
                sock = _raw(live.port, prefix)
                try:
                    for byte in head:
                        if stop.is_set():
                            return
                        sock.sendall(bytes([byte]))
                        time.sleep(0.5)
                    closed.append(False)
                except OSError:
                    closed.append(True)
                finally:
                    sock.close()
            else:
                _trickle(live.port, head, stop, closed)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        slow.append(thread)
    try:
        time.sleep(1)
        waits = [_new_client_wait(live.port) for _ in range(5)]
        assert len(waits) == 5
        for thread in slow:
            thread.join(timeout=30)
        assert closed == [True] * 12
    finally:
        stop.set()
    status, _ = _request(live, "GET", "/v1/buckets/slow")
    assert status in (403, 404)  # nothing was stored from a body cut short


# --- bodies over the limit ---------------------------------------------------------------------------


def _send_chunked(port: int, path: str, total: int) -> tuple[int | None, bytes]:
    """PUT ``total`` bytes of JSON-ish body, chunked; the status answered (None when cut without one)."""
    sock = _raw(
        port,
        (
            f"PUT {path} HTTP/1.1\r\nHost: test\r\nAuthorization: {AUTH}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode(),
    )
    chunk = b" " * 65536
    sent = 0
    try:
        sock.sendall(b'%x\r\n{"data": {}}\r\n' % len(b'{"data": {}}'))
        while sent < total:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server stopped reading: its answer is waiting
    try:
        status, _, body = _read_response(sock)
        return status, body
    except OSError:
        return None, b""
    finally:
        sock.close()


def test_chunked_bodies_over_the_limit_are_413_and_store_nothing(live):
    status, body = _send_chunked(live.port, "/v1/buckets/chunky", 4 * MAX_BODY)
    assert status == 413
    assert json.loads(body)["errno"] == 113
    assert _request(live, "GET", "/v1/buckets/chunky")[0] in (403, 404)
    # Under the limit, the same framing is accepted.
    status, _ = _send_chunked(live.port, "/v1/buckets/chunked-ok", 1000)
    assert status == 201


def test_content_length_over_the_limit_is_413_without_reading_the_body(live):
    sock = _raw(
        live.port,
        (
            f"PUT /v1/buckets/big HTTP/1.1\r\nHost: test\r\nAuthorization: {AUTH}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {20 * MAX_BODY}\r\n\r\n"
        ).encode(),
    )
    try:
        status, _, body = _read_response(sock)
    finally:
        sock.close()
    assert status == 413
    assert json.loads(body)["code"] == 413


#: HTTP/2 (cleartext, prior knowledge) is served by granian only.
SERVES_HTTP2 = ("granian",)


def _h2_put(port: int, path: str, total: int, declare_length: bool) -> tuple[int | None, bytes]:
    """PUT ``total`` bytes over HTTP/2, within flow control; the status answered (None when reset)."""
    import h2.config
    import h2.connection
    import h2.events

    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    connection.initiate_connection()
    stream = connection.get_next_available_stream_id()
    headers = [
        (":method", "PUT"),
        (":path", path),
        (":scheme", "http"),
        (":authority", "test"),
        ("authorization", AUTH),
        ("content-type", "application/json"),
    ]
    body = b'{"data": {}}'.ljust(total, b" ")
    if declare_length:
        headers.append(("content-length", str(len(body))))
    connection.send_headers(stream, headers)
    status: int | None = None
    answer = b""
    sent = 0
    finished = False
    try:
        while not finished:
            window = min(connection.local_flow_control_window(stream), connection.max_outbound_frame_size)
            if status is None and sent < len(body) and window > 0:
                piece = body[sent : sent + window]
                sent += len(piece)
                connection.send_data(stream, piece, end_stream=sent == len(body))
                sock.sendall(connection.data_to_send())
                continue
            sock.sendall(connection.data_to_send())
            data = sock.recv(65536)
            if not data:
                break
            for event in connection.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    status = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.DataReceived):
                    answer += event.data
                    connection.acknowledge_received_data(event.flow_controlled_length, stream)
                elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                    finished = True
    finally:
        sock.close()
    return status, answer


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "streamed"])
def test_http2_bodies_over_the_limit_are_413_and_store_nothing(live, server_name, declare_length):
    if server_name not in SERVES_HTTP2:
        pytest.skip(f"{server_name} does not serve HTTP/2")
    status, body = _h2_put(live.port, "/v1/buckets/h2big", 4 * MAX_BODY, declare_length)
    assert status == 413
    assert json.loads(body)["errno"] == 113
    assert _request(live, "GET", "/v1/buckets/h2big")[0] in (403, 404)
    # The live server is shared by the module: one bucket per parametrisation, so each is a creation.
    status, body = _h2_put(live.port, f"/v1/buckets/h2ok-{int(declare_length)}", 1000, declare_length)
    assert status == 201, body


@pytest.mark.parametrize(
    "head",
    [
        b"GET /v1/" + b"a" * 5000 + b" HTTP/1.1\r\nHost: test\r\n\r\n",
        b"GET /v1/ HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
        b"GET /v1/ HTTP/1.1\r\n\r\n",
        b"NOT HTTP\r\n\r\n",
    ],
    ids=["long-line", "long-field", "no-host", "garbage"],
)
def test_heads_gunicorn_refuses_are_answered_in_kinto_format(live, server_name, head):
    if server_name != "gunicorn":
        pytest.skip("the limits and checks of gunicorn's own request parser")
    sock = _raw(live.port, head)
    try:
        status, headers, body = _read_response(sock)
    finally:
        sock.close()
    assert 400 <= status < 500
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["code"] == status


def _responses(sock: socket.socket, count: int) -> list[tuple[int, bytes]]:
    """The next ``count`` answers on ``sock``, in order: (status, body)."""
    reader = sock.makefile("rb")
    answers = []
    for _ in range(count):
        status = int(reader.readline().split()[1])
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        answers.append((status, reader.read(length)))
    return answers


def test_pipelined_requests_are_answered_in_order(live):
    # Three requests in one write, a body in the middle: each framed where the last one ended.
    record = json.dumps({"data": {"n": 1}}).encode()
    path = "/v1/buckets/b1/collections/c1/records/piped"
    sock = _raw(
        live.port,
        _heartbeat_request()
        + (
            f"PUT {path} HTTP/1.1\r\nHost: test\r\nAuthorization: {AUTH}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(record)}\r\n\r\n"
        ).encode()
        + record
        + f"GET {path} HTTP/1.1\r\nHost: test\r\nAuthorization: {AUTH}\r\n\r\n".encode(),
    )
    try:
        (first, _), (second, created), (third, read) = _responses(sock, 3)
    finally:
        sock.close()
    assert (first, second, third) == (200, 201, 200)
    assert json.loads(created)["data"]["n"] == json.loads(read)["data"]["n"] == 1


def test_a_request_sent_a_byte_at_a_time_is_answered(live):
    record = json.dumps({"data": {"slow": True}}).encode()
    request = (
        f"PUT /v1/buckets/b1/collections/c1/records/bytewise HTTP/1.1\r\nHost: test\r\nAuthorization: {AUTH}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(record)}\r\n\r\n"
    ).encode() + record
    sock = socket.create_connection(("127.0.0.1", live.port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        for index in range(len(request)):
            sock.sendall(request[index : index + 1])
        [(status, body)] = _responses(sock, 1)
    finally:
        sock.close()
    assert status in (200, 201) and json.loads(body)["data"]["slow"] is True


def test_http10_bytes_after_headers_without_length_are_never_a_body(live):
    # A request has no close-delimited body (RFC 9112, 6.3): without Content-Length or chunked framing the
    # request is body-less, and what follows is not read as its body, however long.
    path = "/v1/buckets/b1/collections/c1/records/http10"
    sock = _raw(
        live.port,
        (
            f"PUT {path} HTTP/1.0\r\nHost: test\r\nAuthorization: {AUTH}\r\nContent-Type: application/json\r\n\r\n"
        ).encode(),
    )
    try:
        sock.sendall(b'{"data": {"leak": true}}')
        sent = 0
        while sent < 20 * MAX_BODY:
            sock.sendall(b" " * 65536)
            sent += 65536
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the server answered the body-less request and closed: what it should do
    finally:
        sock.close()
    status, body = _request(live, "GET", path)
    assert status == 404 or "leak" not in body["data"]
    assert _new_client_wait(live.port) >= 0


def test_answers_to_unread_bodies_keep_the_connection_usable(live):
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
    body = json.dumps({"data": {"x": "y" * 2000}}).encode()
    try:
        for index in range(400):
            # No /v1 prefix: answered 307 without the application reading the body.
            connection.request("PUT", f"/buckets/r{index}", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            assert response.status == 307 or response.getheader("Connection", "").lower() == "close"
    finally:
        connection.close()


# --- signals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_no_acknowledged_write_is_lost_when_the_server_is_stopped(tmp_path_factory, server, sig):
    live = _start(tmp_path_factory, server)
    folder = live.cwd
    acknowledged: list[str] = []
    stop = threading.Event()
    try:
        assert _request(live, "PUT", "/v1/buckets/b1", {"data": {}})[0] in (200, 201)
        assert _request(live, "PUT", "/v1/buckets/b1/collections/c1", {"data": {}})[0] in (200, 201)

        def writer(index: int) -> None:
            number = 0
            while not stop.is_set():
                number += 1
                record = f"w{index}-{number}"
                try:
                    status, _ = _request(
                        live,
                        "PUT",
                        f"/v1/buckets/b1/collections/c1/records/{record}",
                        {"data": {"n": number}},
                        timeout=10,
                    )
                except (OSError, http.client.HTTPException):  # killed mid-answer: IncompleteRead
                    continue
                if status == 201:
                    acknowledged.append(record)

        threads = [threading.Thread(target=writer, args=(index,), daemon=True) for index in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        process = live.process
        assert process is not None
        process.send_signal(sig)
        process.wait(timeout=40)
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
    finally:
        stop.set()
        live.stop()
    assert acknowledged
    again = LiveServer(cwd=folder, args=["--server", server]).start()
    try:
        listing = _request(again, "GET", "/v1/buckets/b1/collections/c1/records?_limit=10000")[1]
        stored = {record["id"] for record in listing["data"]}
    finally:
        again.stop()
    assert set(acknowledged) <= stored


def _new_client_outcome(port: int, within: float) -> str:
    """What a client connecting now gets: "refused", "closed" (EOF or reset), "answered", or "hung"."""
    try:
        sock = _raw(port, _heartbeat_request(), timeout=within)
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "hung"
    except OSError:
        return "closed"
    try:
        _read_response(sock)
        return "answered"
    except TimeoutError:
        return "hung"
    except OSError:
        return "closed"
    finally:
        sock.close()


@pytest.mark.parametrize("server", SERVERS)
def test_sigterm_finishes_the_request_in_flight_and_turns_new_clients_away(tmp_path_factory, server):
    live = _start(tmp_path_factory, server)
    folder = live.cwd
    process = live.process
    assert process is not None
    body = json.dumps({"data": {"note": "in flight " + "x" * 2000}}).encode()
    half = len(body) // 2
    try:
        # Connected, headers and half of the body sent: the request is in flight when SIGTERM arrives.
        sock = _raw(
            live.port,
            (
                f"PUT /v1/buckets/inflight HTTP/1.1\r\nHost: test\r\nAuthorization: {AUTH}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body[:half],
        )
        time.sleep(1)
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        time.sleep(1)
        with ThreadPoolExecutor(1) as pool:
            newcomer = pool.submit(_new_client_outcome, live.port, WORKERS_KILL_TIMEOUT + 10)
            time.sleep(0.5)
            sock.sendall(body[half:])
            try:
                status, _, answer = _read_response(sock)
            finally:
                sock.close()
            assert status == 201, answer
            assert newcomer.result() in ("refused", "closed", "answered")
        process.wait(timeout=WORKERS_KILL_TIMEOUT + 10)
        assert time.monotonic() - stopped_at < WORKERS_KILL_TIMEOUT + 10
    finally:
        live.stop()
    again = LiveServer(cwd=folder, args=["--server", server]).start()
    try:
        status, stored = _request(again, "GET", "/v1/buckets/inflight")
    finally:
        again.stop()
    assert status == 200
    assert stored["data"]["note"].startswith("in flight")
