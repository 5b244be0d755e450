import msgpack
from hypothesis import given
from hypothesis import strategies as st

from kinto_fluent.sender import count_packets, keep_newest, packet_starts

packets = st.lists(
    st.tuples(st.just("kinto"), st.integers(0, 2**32 - 1), st.dictionaries(st.text(max_size=5), st.text(max_size=50))),
    max_size=30,
).map(lambda items: [msgpack.packb(item) for item in items])


@given(packets)
def test_packet_starts_finds_every_packet(items):
    data = b"".join(items)

    starts = packet_starts(data)

    ends = [*starts[1:], len(data)] if starts else []
    assert [data[start:end] for start, end in zip(starts, ends, strict=True)] == items
    assert count_packets(data) == len(items)


@given(packets, st.integers(0, 2000))
def test_keep_newest_keeps_the_longest_suffix_of_whole_packets_that_fits(items, limit):
    data = b"".join(items)

    kept, cut = keep_newest(data, limit)

    assert kept == b"".join(items[cut:])
    assert len(kept) <= limit
    if cut:
        assert len(b"".join(items[cut - 1 :])) > limit


def test_a_truncated_tail_is_not_counted():
    data = msgpack.packb(["kinto", 1, {"a": 1}]) * 2

    assert count_packets(data[:-3]) == 1
