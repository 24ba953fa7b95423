"""Seeding (engine/sim/rng.py): stable spawn keys, independent named streams, reseeding in
place, and the seed descriptions a log keeps."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from engine.sim.rng import (
    Streams,
    _Child,
    _run_pool,
    describe,
    from_description,
    run_sequence,
    stable_key,
)


def _draws(gen: np.random.Generator, n: int = 5) -> list[float]:
    return [float(x) for x in gen.random(n)]


def test_stable_key_is_a_fixed_63_bit_sha256_prefix():
    # pinned: a change here shifts every unit's draws and every golden log
    assert stable_key("isr.mq9.3") == 3159979977181070811
    assert stable_key("red.decision") == 4758532607659504130
    digest = hashlib.sha256(b"c2.usfj").digest()[:8]
    assert stable_key("c2.usfj") == int.from_bytes(digest, "big") >> 1
    assert all(0 <= stable_key(n) < 2**63 for n in ("", "a", "x" * 500, "é"))


def test_a_named_stream_draws_the_same_numbers_in_every_process():
    assert float(Streams(0)("isr.mq9.0").random()) == 0.7273895096843473


def test_same_seed_and_name_give_the_same_stream_and_one_generator_per_name():
    a, b = Streams(11), Streams(11)
    assert _draws(a("isr.mq9.0")) == _draws(b("isr.mq9.0"))
    assert a("cyber.apt") is a("cyber.apt")


def test_a_stream_does_not_depend_on_other_streams_or_the_order_they_are_made():
    lone = _draws(Streams(5)("salvo.mlr12.b1"), 20)
    busy = Streams(5)
    for name in ("isr.mq9.0", "isr.mq9.1", "c2.usfj", "red.decision"):
        busy(name).random(1000)  # other units draw heavily first
    assert _draws(busy("salvo.mlr12.b1"), 20) == lone


def test_different_names_and_different_seeds_give_different_streams():
    s = Streams(3)
    assert _draws(s("isr.mq9.0")) != _draws(s("isr.mq9.1"))
    assert _draws(Streams(3)("isr.mq9.0")) != _draws(Streams(4)("isr.mq9.0"))


def test_streams_are_uncorrelated():
    s = Streams(0)
    x, y = s("a").random(20000), s("b").random(20000)
    assert abs(np.corrcoef(x, y)[0, 1]) < 0.03


def test_reseed_switches_held_generators_in_place_to_the_new_seeds_streams():
    s = Streams(1)
    held = s("isr.mq9.0")
    held.random(7)  # partway through the old stream
    s.reseed(2)
    fresh = Streams(2)
    assert s("isr.mq9.0") is held, "units keep the generator object they hold"
    assert _draws(held) == _draws(fresh("isr.mq9.0"))
    assert _draws(s("made.after.reseed")) == _draws(fresh("made.after.reseed"))
    assert s.sequence.entropy == 2


def test_reseed_with_the_same_seed_restarts_the_streams():
    s = Streams(9)
    first = _draws(s("x"))
    s.reseed(9)
    assert _draws(s("x")) == first


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True, None])
def test_run_sequence_refuses_what_is_not_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="seed"):
        run_sequence(bad)


def test_run_sequence_takes_ints_numpy_ints_and_sequences():
    assert run_sequence(np.int64(4)).entropy == 4
    seq = np.random.SeedSequence(8, spawn_key=(1, 2))
    assert run_sequence(seq) is seq
    assert _draws(Streams(np.int64(4))("u")) == _draws(Streams(4)("u"))


def test_sequences_sharing_a_root_draw_apart_by_spawn_key():
    def seq(*key):
        return np.random.SeedSequence(7, spawn_key=key)

    a, b, c = seq(0, 0), seq(1, 0), seq(0, 1)
    assert a.entropy == b.entropy == c.entropy == 7
    draws = [_draws(Streams(x)("isr.mq9.0")) for x in (a, b, c)]
    assert draws[0] != draws[1] and draws[0] != draws[2] and draws[1] != draws[2]
    assert _draws(Streams(seq(1, 0))("isr.mq9.0")) == draws[1]


def test_a_described_sequence_rebuilds_the_same_streams():
    seq = np.random.SeedSequence(12, spawn_key=(3, 4))  # as given from Python, or a fork's
    d = describe(seq)
    assert d == {"entropy": 12, "spawn_key": [3, 4]}
    again = from_description(d)
    assert _draws(Streams(again)("c2.isr_ops")) == _draws(Streams(seq)("c2.isr_ops"))
    assert describe(run_sequence(5)) == {"entropy": 5, "spawn_key": []}


def _numpy_stream(seq: np.random.SeedSequence, name: str) -> np.random.Generator:
    """A stream as numpy builds it: the child SeedSequence and PCG64 (what Streams computes
    faster; the two must agree bit for bit)."""
    child = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, stable_key(name)),
                                   pool_size=seq.pool_size)
    return np.random.Generator(np.random.PCG64(child))


@pytest.mark.parametrize("entropy", [0, 1, 7, 2**32 - 1, 2**32, 2**40 + 3, 2**63 + 5,
                                     2**64, 2**130 + 17, 3**200])
@pytest.mark.parametrize("spawn_key", [(), (0,), (5, 2**33), (2**62, 0, 9)])
def test_streams_draw_exactly_what_numpys_seed_sequence_gives(entropy, spawn_key):
    seq = np.random.SeedSequence(entropy, spawn_key=spawn_key)
    s = Streams(seq)
    for name in ("", "a", "c2.usfj", "isr.mq9.3", "partner.share.quad", "x" * 300):
        assert s(name).bit_generator.state == _numpy_stream(seq, name).bit_generator.state
        assert _draws(s(name), 3) == _draws(_numpy_stream(seq, name), 3)


def test_the_fast_child_seed_gives_numpys_words_for_any_length_and_width():
    rnd = np.random.default_rng(1)
    for _ in range(200):
        entropy = int(rnd.integers(0, 2**63)) << int(rnd.integers(0, 80))
        key = tuple(int(k) for k in rnd.integers(0, 2**63, size=int(rnd.integers(0, 3))))
        last = int(rnd.integers(0, 2**63))
        ours = _Child(_run_pool(np.random.SeedSequence(entropy, spawn_key=key)), last)
        ref = np.random.SeedSequence(entropy, spawn_key=(*key, last))
        assert ours.pool == [int(x) for x in ref.pool]
        for n in (1, 4, 8, 9, 33):
            for dtype in (np.uint32, np.uint64, "u4", "uint64"):
                a, b = ours.generate_state(n, dtype), ref.generate_state(n, dtype)
                assert a.dtype == b.dtype and a.tolist() == b.tolist()
    with pytest.raises(ValueError, match="uint32 or uint64"):
        ours.generate_state(2, np.int64)


@pytest.mark.parametrize("last", [0, 1, 2**32 - 1, 2**32, 2**63 - 1])
def test_a_last_key_of_one_word_mixes_like_numpys(last):
    # a stable key below 2**32 is one 32-bit word, not two (numpy's _int_to_uint32_array)
    ours = _Child(_run_pool(np.random.SeedSequence(3)), last)
    assert ours.pool == [int(x) for x in np.random.SeedSequence(3, spawn_key=(last,)).pool]


@pytest.mark.parametrize("seq", [np.random.SeedSequence([1, 2, 3]),
                                 np.random.SeedSequence(7, pool_size=8),
                                 np.random.SeedSequence([2**40, 5], spawn_key=(3,))])
def test_sequences_the_fast_path_does_not_cover_get_numpys_streams(seq):
    s = Streams(seq)
    for name in ("a", "c2.usfj"):
        assert s(name).bit_generator.state == _numpy_stream(seq, name).bit_generator.state
