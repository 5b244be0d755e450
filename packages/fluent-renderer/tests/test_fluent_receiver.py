"""The stand-in Fluentd decodes the forward protocol as clients send it."""

import gzip
import socket
import struct

import msgpack
import pytest

from kinto_fluent.testing import ForwardReceiver, decode_time


def event_time(seconds: int, nanoseconds: int) -> msgpack.ExtType:
    return msgpack.ExtType(0, struct.pack(">II", seconds, nanoseconds))


def send(receiver: ForwardReceiver, *messages: object) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", receiver.port))
    connection.sendall(b"".join(msgpack.packb(message) for message in messages))
    return connection


def test_message_mode_with_integer_and_event_times(receiver):
    with send(receiver, ["app", 1700000000, {"a": 1}], ["app", event_time(1700000000, 500_000_000), {"a": 2}]):
        events = receiver.wait_for(2)

    assert [(event.tag, event.time, event.record, event.mode) for event in events] == [
        ("app", 1700000000.0, {"a": 1}, "message"),
        ("app", 1700000000.5, {"a": 2}, "message"),
    ]


def test_forward_mode_carries_several_events(receiver):
    with send(receiver, ["app", [[1, {"n": 1}], [2, {"n": 2}]], {}]):
        events = receiver.wait_for(2)

    assert [(event.time, event.record, event.mode) for event in events] == [
        (1.0, {"n": 1}, "forward"),
        (2.0, {"n": 2}, "forward"),
    ]


@pytest.mark.parametrize("as_str", [False, True], ids=["bin", "str"])
def test_packed_forward_mode_as_bin_or_str(receiver, as_str):
    entries = msgpack.packb([1, {"n": 1}]) + msgpack.packb([event_time(2, 0), {"n": "é"}])
    payload = entries.decode("utf-8", "surrogateescape") if as_str else entries
    packer = msgpack.Packer(use_bin_type=not as_str, unicode_errors="surrogateescape")
    connection = socket.create_connection(("127.0.0.1", receiver.port))
    with connection:
        connection.sendall(packer.pack(["app", payload]))
        events = receiver.wait_for(2)

    assert [(event.record, event.mode) for event in events] == [
        ({"n": 1}, "packed_forward"),
        ({"n": "é"}, "packed_forward"),
    ]


def test_compressed_packed_forward_and_chunk_ack(receiver):
    entries = gzip.compress(msgpack.packb([3, {"n": 3}]))
    with send(receiver, ["app", entries, {"compressed": "gzip", "chunk": "c1"}]) as connection:
        events = receiver.wait_for(1)
        ack = msgpack.unpackb(connection.recv(1024))

    assert [event.record for event in events] == [{"n": 3}]
    assert ack == {"ack": "c1"}


def test_a_stopped_receiver_refuses_connections_and_comes_back_on_the_same_port(receiver):
    port = receiver.port
    receiver.stop()

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port)).close()

    receiver.start()
    with send(receiver, ["app", 1, {"back": True}]):
        assert [event.record for event in receiver.wait_for(1)] == [{"back": True}]
    assert receiver.port == port


def test_a_time_that_is_neither_seconds_nor_event_time_is_refused():
    with pytest.raises(ValueError):
        decode_time("yesterday")
