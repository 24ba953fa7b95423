"""The fast encoder (orjson behind engine.canonical.encode) writes exactly the reference encoder's
bytes: on every line of every golden log, and on generated objects, including the places where
orjson on its own differs (small numbers, NaN, non-string keys, huge integers)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.canonical import canonical, encode, reference, sha256_of

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.jsonl"))


def _agree(obj: object, sort: bool) -> None:
    try:
        expected: bytes | type[Exception] = reference(obj, sort).encode()
    except (ValueError, TypeError) as e:
        expected = type(e)
    if isinstance(expected, bytes):
        assert encode(obj, sort) == expected
    else:
        with pytest.raises(expected):
            encode(obj, sort)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_every_golden_line_encodes_to_the_reference_bytes(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 10
    for number, line in enumerate(lines, 1):
        obj = json.loads(line)
        obj.pop("h")
        sort = number == 1 or obj.get("footer") is True  # header and footer sort their keys
        assert encode(obj, sort) == reference(obj, sort).encode(), (path.name, number)
        assert line.startswith(encode(obj, sort)[:-1].decode()), (path.name, number)


@pytest.mark.parametrize("value", [1e-7, 5e-5, 0.00009999, 1e-4, 1e16, 1.5e300, -2.5e-9, 0.1,
                                   -0.0, 8.9e-05, 123456.789])
def test_numbers_where_orjson_alone_would_differ(value: float) -> None:
    assert encode({"x": value}) == json.dumps({"x": value}, separators=(",", ":")).encode()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_as_the_reference_refuses_them(bad: float) -> None:
    for obj in ({"a": bad}, [1, None, {"b": [bad]}]):
        with pytest.raises(ValueError):
            encode(obj)


def test_what_orjson_will_not_encode_takes_the_reference_path() -> None:
    assert canonical({2: "b", 1: "a"}) == '{"1":"a","2":"b"}'
    assert canonical([2**70]) == f"[{2**70}]"
    assert sha256_of({"b": 1, "a": [0.5]}) == sha256_of({"a": [0.5], "b": 1})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec=None, exclude_categories=())),  # with lone surrogates
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=6), inner, max_size=5),
    max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(json_values, st.booleans())
def test_generated_objects_encode_to_the_reference_bytes(obj: object, sort: bool) -> None:
    _agree(obj, sort)


@pytest.mark.parametrize("obj", [
    {"note": "x:0.00005,", "p": 5e-05},  # number-like text in a string beside a small number
    {"unit": "1e-7", "q": [1e-7, -3e-7, 0.5]},
    ["0.00001", 0.00001, {"a": "b-1e-5]"}, 2e-06],
    {"t": (1e-7, 2.0)},  # a tuple: it parses back as a list, so the reference writes it
    {"k": 10.00005, "m": 1.5e-8, "n": -0.00002},
])
def test_small_numbers_are_rewritten_and_strings_never_are(obj: object) -> None:
    for sort in (True, False):
        assert encode(obj, sort) == reference(obj, sort).encode()


small_floats = st.floats(min_value=-1e-4, max_value=1e-4, allow_subnormal=True)
number_like = st.from_regex(r"[:,\[ ]?-?(0\.0000[0-9]{1,4}|[0-9]e-[0-9])[,\]} ]?", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(st.recursive(small_floats | number_like | st.integers(-9, 9),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(number_like, inner, max_size=4), max_leaves=12),
       st.booleans())
def test_objects_full_of_small_numbers_and_number_like_text_encode_to_the_reference(
        obj: object, sort: bool) -> None:
    _agree(obj, sort)
