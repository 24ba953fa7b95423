"""Seeding: one SeedSequence per run, and named child streams with stable spawn keys.

A stream's name (e.g. ``"isr.mq9.3"``) maps to a spawn key through SHA-256, never Python's
salted ``hash()``, so a unit draws the same numbers on every machine and in every process, and
adding a unit does not shift another unit's draws.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any, cast

import numpy as np

Seed = int | np.random.SeedSequence


@functools.lru_cache(maxsize=8192)  # names repeat in every run; the hash is pure
def stable_key(name: str) -> int:
    """A 63-bit integer derived from a stream name, identical on every platform."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 1


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
        self._made: dict[str, np.random.Generator] = {}

    @property
    def sequence(self) -> np.random.SeedSequence:
        return self._seq

    def _bits(self, name: str) -> np.random.PCG64:
        child = np.random.SeedSequence(
            self._seq.entropy, spawn_key=(*self._seq.spawn_key, stable_key(name))
        )
        return np.random.PCG64(child)

    def __call__(self, name: str) -> np.random.Generator:
        gen = self._made.get(name)
        if gen is None:
            gen = self._made[name] = np.random.Generator(self._bits(name))
        return gen

    def reseed(self, seed: Seed) -> None:
        """Switch every stream, in place, to the same-named stream of another root seed: units
        holding a generator draw the new numbers from now on (a fork with a new seed)."""
        self._seq = run_sequence(seed)
        for name, gen in self._made.items():
            gen.bit_generator.state = self._bits(name).state
