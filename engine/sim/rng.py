"""Seeding: one SeedSequence per run, and named child streams with stable spawn keys.

A stream's name (e.g. ``"isr.mq9.3"``) maps to a spawn key through SHA-256, never Python's
salted ``hash()``, so a unit draws the same numbers on every machine and in every process, and
adding a unit does not shift another unit's draws.

A stream is the PCG64 generator of the child ``SeedSequence(entropy, spawn_key=(*run key,
stable_key(name)))``. numpy builds one in about 20 us, and a run makes about 30; :class:`_Child`
computes the same seed words in a few microseconds: the run's part of numpy's mixing once per
run, each name's part once per process (numpy keeps the SeedSequence algorithm stable, NEP 19;
``tests/sim/test_rng.py`` compares the two on many seeds and names).
"""

from __future__ import annotations

import functools
import hashlib
import sys
from typing import Any, cast

import numpy as np
from numpy.random.bit_generator import ISeedSequence

Seed = int | np.random.SeedSequence


@functools.lru_cache(maxsize=8192)  # names repeat in every run; the hash is pure
def stable_key(name: str) -> int:
    """A 63-bit integer derived from a stream name, identical on every platform."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 1


# ---- numpy's SeedSequence mixing (numpy/random/bit_generator.pyx), in 32-bit words ----------
_MASK = 0xFFFFFFFF
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875  # the entropy hash
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED  # the output hash
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_POOL = 4  # numpy's DEFAULT_POOL_SIZE (the hot loops below index it by i & 3)


def _words(n: int) -> list[int]:
    """A non-negative int as little-endian 32-bit words (numpy's _int_to_uint32_array)."""
    out = [n & _MASK]
    n >>= 32
    while n:
        out.append(n & _MASK)
        n >>= 32
    return out


def _constants(init: int, mult: int, n: int) -> tuple[int, ...]:
    """A hash's first n constants, numpy's hash_const before each call: init * mult**i."""
    return tuple(init * pow(mult, i, 1 << 32) & _MASK for i in range(n))


_IN = _constants(_INIT_A, _MULT_A, 64)  # enough for a run's pool and a stream's key


def _hashmix(value: int, calls: int) -> int:
    """numpy's hashmix, as its ``calls``-th call: its hash constant depends only on that."""
    c = _IN if calls + 1 < len(_IN) else _constants(_INIT_A, _MULT_A, calls + 2)
    value = (value ^ c[calls]) * c[calls + 1] & _MASK
    return value ^ value >> 16


def _mix(x: int, y: int) -> int:
    r = (_MIX_L * x - _MIX_R * y) & _MASK
    return r ^ r >> 16


def _run_pool(seq: np.random.SeedSequence) -> tuple[tuple[int, ...], int]:
    """numpy's pool after mixing a child's entropy words up to its last spawn-key entry (the
    run's entropy, zero-padded to the pool, and the run's own spawn key), and the number of
    hashmix calls made so far."""
    entropy = _words(int(cast("int", seq.entropy)))
    entropy += [0] * (_POOL - len(entropy)) + [w for k in seq.spawn_key for w in _words(int(k))]
    mixer = [_hashmix(entropy[i], i) for i in range(_POOL)]
    calls = _POOL
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                mixer[dst] = _mix(mixer[dst], _hashmix(mixer[src], calls))
                calls += 1
    for word in entropy[_POOL:]:
        for dst in range(_POOL):
            mixer[dst] = _mix(mixer[dst], _hashmix(word, calls))
            calls += 1
    return tuple(mixer), calls


@functools.lru_cache(maxsize=8192)  # keys repeat in every run; the terms do not depend on it
def _key_terms(key: int, calls: int) -> tuple[int, ...]:
    """The hashed words a last spawn-key entry mixes into the pool, in mixing order, when the
    pool has seen ``calls`` hashmix calls before it."""
    terms = []
    for word in _words(key):
        for _ in range(_POOL):
            terms.append(_hashmix(word, calls))
            calls += 1
    return tuple(terms)


_OUT = _constants(_INIT_B, _MULT_B, 17)  # enough for PCG64's 8 words; longer outputs compute theirs
# the seed words as uint32 in memory are the uint64 words numpy makes of them (little-endian)
_VIEW_AS_WIDE = sys.byteorder == "little"


class _Child(ISeedSequence):
    """The seed words of a run's child with the last spawn-key entry ``key``, exactly as
    numpy's SeedSequence gives them (numpy accepts any ISeedSequence as a bit generator's
    seed)."""

    __slots__ = ("pool",)

    def __init__(self, run: tuple[tuple[int, ...], int], key: int) -> None:
        mixer, calls = run
        pool = list(mixer)
        for i, term in enumerate(_key_terms(key, calls)):  # numpy's mix, inlined: per stream
            r = (_MIX_L * pool[i & 3] - _MIX_R * term) & _MASK
            pool[i & 3] = r ^ r >> 16
        self.pool = pool

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray[Any, Any]:
        """numpy's SeedSequence.generate_state."""
        wide = dtype is np.uint64 or np.dtype(dtype) == np.dtype(np.uint64)
        if not wide and np.dtype(dtype) != np.dtype(np.uint32):
            raise ValueError("only support uint32 or uint64")
        n = 2 * n_words if wide else n_words
        c = _OUT if n < len(_OUT) else _constants(_INIT_B, _MULT_B, n + 1)
        pool = self.pool
        out = [(v := (pool[i & 3] ^ c[i]) * c[i + 1] & _MASK) ^ v >> 16 for i in range(n)]
        if wide and _VIEW_AS_WIDE:  # word 2i low, 2i + 1 high, as numpy pairs them
            return np.array(out, dtype=np.uint32).view(np.uint64)
        if wide:
            return np.array([out[i] | out[i + 1] << 32 for i in range(0, n, 2)], dtype=np.uint64)
        return np.array(out, dtype=np.uint32)


def _fast_run(seq: np.random.SeedSequence) -> tuple[tuple[int, ...], int] | None:
    """The run's part of the fast path, or None for a sequence it does not cover (a pool of
    another size, entropy given as a list of words): numpy then builds every stream."""
    if seq.pool_size != _POOL or not isinstance(seq.entropy, int):
        return None
    return _run_pool(seq)


def run_sequence(seed: Seed) -> np.random.SeedSequence:
    """The root SeedSequence of one run, from an int seed or an existing sequence."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def describe(seq: np.random.SeedSequence) -> dict[str, Any]:
    """JSON-ready description from which :func:`from_description` rebuilds the sequence."""
    # run_sequence always builds from one int, so the entropy is an int (numpy types it as
    # int | Sequence[int] | None for sequences made other ways).
    entropy = cast("int", seq.entropy)
    return {"entropy": int(entropy), "spawn_key": [int(k) for k in seq.spawn_key]}


def from_description(d: dict[str, Any]) -> np.random.SeedSequence:
    return np.random.SeedSequence(int(d["entropy"]), spawn_key=tuple(d["spawn_key"]))


class Streams:
    """Named independent generators drawn from one run's SeedSequence, created on first use."""

    def __init__(self, seed: Seed) -> None:
        self._seq = run_sequence(seed)
        self._run = _fast_run(self._seq)
        self._made: dict[str, np.random.Generator] = {}

    @property
    def sequence(self) -> np.random.SeedSequence:
        return self._seq

    def _bits(self, name: str) -> np.random.PCG64:
        """PCG64 of SeedSequence(entropy, spawn_key=(*run key, stable_key(name))), made fast."""
        if self._run is None:
            return np.random.PCG64(np.random.SeedSequence(
                self._seq.entropy, spawn_key=(*self._seq.spawn_key, stable_key(name)),
                pool_size=self._seq.pool_size))
        child = _Child(self._run, stable_key(name))
        return np.random.PCG64(cast("np.random.SeedSequence", child))

    def __call__(self, name: str) -> np.random.Generator:
        gen = self._made.get(name)
        if gen is None:
            gen = self._made[name] = np.random.Generator(self._bits(name))
        return gen

    def reseed(self, seed: Seed) -> None:
        """Switch every stream, in place, to the same-named stream of another root seed: units
        holding a generator draw the new numbers from now on (a fork with a new seed)."""
        self._seq = run_sequence(seed)
        self._run = _fast_run(self._seq)
        for name, gen in self._made.items():
            gen.bit_generator.state = self._bits(name).state
