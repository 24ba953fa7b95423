"""The only reader of YAML: a file becomes a validated model, or an error naming file and line.

YAML is parsed with PyYAML's safe loader into a node tree first. Walking that tree ourselves lets
us (a) bound the work an alias bomb can cause before anything is expanded, (b) refuse duplicate
keys, which PyYAML would silently overwrite, and (c) remember the line and column of every dotted
path so that pydantic's complaints can point at the exact place in the file.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
import stat
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from engine.canonical import canonical
from engine.errors import InputError, Problem, ReferenceProblems, RulesError, ScenarioError
from engine.spec.rules import EFFECT_PARAMS, Rules, param_problems
from engine.spec.scenario import Scenario

MAX_BYTES = 2_000_000
MAX_NODES = 50_000  # counted with aliases expanded: bounds an alias bomb's cost (a built-in
#                     scenario has about a thousand)
MAX_DEPTH = 64  # nesting of mappings and lists; composing recurses on deep nesting
# libyaml's C parser when PyYAML has it (about fifty times faster), else the pure-Python one
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
M = TypeVar("M", bound=BaseModel)

# ---- YAML 1.2 scalars ------------------------------------------------------------------------
# PyYAML resolves plain scalars by YAML 1.1 rules (yes/no/on/off are booleans, 010 is octal,
# 1_000 an integer, 2024-01-01 a date, 1e3 a string). Editors and JSON Schema validators read
# YAML 1.2, so we resolve by the 1.2 core schema too: booleans are only true and false, numbers
# only as JSON writes them (plus .inf, .nan, 0o17 and 0x1F), and every other word is text.
_NULL, _BOOL = "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_CORE = {
    _NULL: re.compile(r"^(?:~|null|Null|NULL|)$"),
    _BOOL: re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    _INT: re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    _FLOAT: re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                       r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
}
# YAML 1.1 words a person may mean as a boolean: named in the message when one is refused
_OLD_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}


class _Loader(_BASE_LOADER):  # type: ignore[misc,valid-type]  # PyYAML's classes are untyped
    """The safe loader with YAML 1.2 core-schema resolution of plain scalars."""

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}


for _tag, _first in ((_NULL, ["~", "n", "N", ""]), (_BOOL, list("tTfF")),
                     (_INT, list("-+0123456789")), (_FLOAT, list("-+.0123456789")),
                     ("tag:yaml.org,2002:merge", ["<"])):
    _Loader.add_implicit_resolver(
        _tag, _CORE.get(_tag) or re.compile(r"^(?:<<)$"), _first)
_LOADER = _Loader


@dataclass(frozen=True)
class Document:
    """Plain data parsed from a YAML file, with the position of every dotted path."""

    data: Any
    marks: dict[str, tuple[int, int]]
    name: str


def _prescan(text: str, name: str) -> None:
    """Refuse deep nesting and oversized documents from the parser's event stream, before any
    node is built (building them is the slow part)."""
    depth = nodes = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            nodes += 1
            if depth > MAX_DEPTH:
                raise _refused(name, f"values are nested more than {MAX_DEPTH} deep", event)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
            nodes += 1
        if nodes > MAX_NODES:
            raise _refused(name, f"document has more than {MAX_NODES:,} values; refused", event)


def _refused(name: str, message: str, event: yaml.Event) -> InputError:
    mark = event.start_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    return InputError("", (Problem(name, message, line, col),))


def read_yaml(text_or_bytes: bytes | str, name: str) -> Document:
    """Parse bounded, safe YAML into plain data plus a path -> (line, column) map."""
    raw = text_or_bytes.encode() if isinstance(text_or_bytes, str) else text_or_bytes
    if len(raw) > MAX_BYTES:
        raise InputError("", (Problem(name, f"file is {len(raw):,} bytes; the limit is "
                                            f"{MAX_BYTES:,}"),))
    text = _decode(raw, name)
    try:
        _prescan(text, name)
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        what = " ".join(x for x in (e.context, e.problem) if x)
        if mark is not None and "\t" in text[mark.index:mark.index + 1] + (e.problem or ""):
            what += " (a tab character: YAML is indented with spaces only)"
        raise InputError("", (Problem(name, f"YAML syntax error: {what}", line, col),)) from None
    except yaml.reader.ReaderError as e:  # control characters: no mark, only a position
        line = text.count("\n", 0, e.position) + 1
        col = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        char = e.character if isinstance(e.character, int) else ord(e.character[:1] or b"?")
        raise InputError("", (Problem(name, f"YAML error: character U+{char:04X} is not "
                                            "allowed", line, col),)) from None
    except yaml.YAMLError as e:
        raise InputError("", (Problem(name, f"YAML error: {e}"),)) from None
    if root is None:
        raise InputError("", (Problem(name, "file is empty; expected a YAML mapping"),))
    _expanded_size(root, {}, set(), name)
    marks: dict[str, tuple[int, int]] = {}
    data = _walk(root, "", marks, [0], name)
    return Document(data, marks, name)


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise InputError("", (Problem(name, f"not UTF-8 text: byte 0x{raw[e.start]:02x} "
                                            f"cannot be decoded", line, col),)) from None


def _expanded_size(node: yaml.Node, memo: dict[int, int], active: set[int], name: str) -> int:
    """Values a node expands to with aliases followed, refusing bombs and self-reference early."""
    key = id(node)
    if key in memo:
        return memo[key]
    mark = (node.start_mark.line + 1, node.start_mark.column + 1)
    if key in active:
        raise InputError("", (Problem(name, "an alias refers to a value that contains it; "
                                            "refused", *mark),))
    active.add(key)
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [v for _, v in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = node.value
    size = 1 + sum(_expanded_size(c, memo, active, name) for c in children)
    active.discard(key)
    if size > MAX_NODES:
        raise InputError("", (Problem(name, f"document expands to more than {MAX_NODES:,} "
                                            "values (an alias bomb?); refused", *mark),))
    memo[key] = size
    return size


_PLAIN_COLLECTIONS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _walk(node: yaml.Node, path: str, marks: dict, budget: list[int], name: str) -> Any:
    """Build plain data from a node tree, counting every visit so aliases cannot explode."""
    budget[0] += 1
    if budget[0] > MAX_NODES:
        raise InputError("", (Problem(name, f"document expands to more than {MAX_NODES:,} "
                                            "values (an alias bomb?); refused",
                                      node.start_mark.line + 1, node.start_mark.column + 1),))
    marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_COLLECTIONS:
        raise InputError("", (Problem(name, f"bad value: tag '{node.tag}' is not supported; "
                                            "write a plain mapping or list",
                                      node.start_mark.line + 1, node.start_mark.column + 1),))
    if isinstance(node, yaml.MappingNode):
        return _walk_mapping(node, path, marks, budget, name)
    if isinstance(node, yaml.SequenceNode):
        return [_walk(v, _join(path, i), marks, budget, name) for i, v in enumerate(node.value)]
    return _scalar(node, name)


def _walk_mapping(node: yaml.MappingNode, path: str, marks: dict, budget: list[int],
                  name: str) -> dict:
    out: dict[Any, Any] = {}
    for k_node, v_node in node.value:
        if k_node.tag == "tag:yaml.org,2002:merge":
            raise InputError("", (Problem(name, "merge keys ('<<') are not supported; write "
                                                "the values out", k_node.start_mark.line + 1,
                                          k_node.start_mark.column + 1),))
        key = _scalar(k_node, name) if isinstance(k_node, yaml.ScalarNode) else None
        if not isinstance(key, str | int | float | bool) or isinstance(key, float):
            raise InputError("", (Problem(name, "mapping keys must be plain names",
                                          k_node.start_mark.line + 1,
                                          k_node.start_mark.column + 1, path),))
        if not isinstance(key, str):  # as in JSON, a key is text: `true:` is the key "true"
            key = k_node.value
        if key in out:
            raise InputError("", (Problem(name, f"duplicate key '{key}'",
                                          k_node.start_mark.line + 1,
                                          k_node.start_mark.column + 1, path),))
        child = _join(path, key)
        marks[child] = (k_node.start_mark.line + 1, k_node.start_mark.column + 1)
        out[key] = _walk(v_node, child, marks, budget, name)
    return out


def _core_scalar(tag: str, text: str) -> Any:
    """A YAML 1.2 core-schema scalar from its text (ValueError when the text is not one)."""
    if not _CORE[tag].match(text):
        raise ValueError(text)
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return text.lower() == "true"
    if tag == _INT:
        if text[:2] in ("0o", "0x"):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text)  # ValueError beyond Python's 4,300-digit limit
    lowered = text.lower()
    if lowered.endswith((".inf", ".nan")):
        return float(lowered.replace(".", "").replace("+", ""))
    return float(text)


_STR = "tag:yaml.org,2002:str"
_YAML_TAGS = "tag:yaml.org,2002:"


def _scalar(node: yaml.Node, name: str) -> Any:
    tag = node.tag
    if tag.startswith(_YAML_TAGS) and tag not in _CORE and tag != _STR:
        # YAML 1.1's other types (!!binary, !!timestamp, ...) are not JSON data: refused
        raise InputError("", (Problem(name, f"bad value: tag '!!{tag[len(_YAML_TAGS):]}' is "
                                            "not supported; write text, a number, true or "
                                            "false", node.start_mark.line + 1,
                                      node.start_mark.column + 1),))
    try:
        if tag in _CORE:  # also when tagged explicitly: !!int and !!bool follow YAML 1.2
            return _core_scalar(tag, node.value)
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except Exception as e:  # PyYAML's constructors raise anything on e.g. 2024-13-01, !!int ""
        why = getattr(e, "problem", e) if isinstance(e, yaml.YAMLError) else (
            f"{str(node.value)[:40]!r} is not a valid {node.tag.rpartition(':')[2]}")
        raise InputError("", (Problem(name, f"bad value: {why}", node.start_mark.line + 1,
                                      node.start_mark.column + 1),)) from None


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def validate_document(doc: Document, model: type[M], error: type[InputError]) -> M:
    """Validate parsed data against a model, turning every complaint into a located Problem."""
    if not isinstance(doc.data, dict):
        found = type(doc.data).__name__
        line, col = doc.marks.get("", (1, 1))
        raise error("", (Problem(doc.name, f"expected a YAML mapping at the top level, found "
                                           f"{found}", line, col),))
    try:
        return model.model_validate(doc.data)
    except ValidationError as e:
        raise error("", tuple(_problems(doc, model, e))) from None


def _problems(doc: Document, model: type[BaseModel], e: ValidationError) -> list[Problem]:
    out: list[Problem] = []
    unions: dict[str, list[Mapping[str, Any]]] = {}  # one value refused by every member
    for err in e.errors(include_url=False):
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, ReferenceProblems):
            out.extend(_locate(doc, p, m) for p, m in ctx_error.problems)
            continue
        loc = [str(x) for x in err["loc"] if not _is_union_tag(x)]
        if len(loc) < len(err["loc"]):  # refused by one member of a union (a parameter value)
            unions.setdefault(".".join(loc), []).append(err)
            continue
        if loc[-1:] == ["[key]"]:  # a map's key, not its value
            loc = loc[:-1]
            out.append(_locate(doc, ".".join(loc), _key_message(err)))
            continue
        out.append(_locate(doc, ".".join(loc), _message(doc, model, err, loc)))
    for path, errs in unions.items():
        out.append(_locate(doc, path, _union_message(errs)))
    return out


_UNION_TAG = re.compile(r"^(?:constrained-)?(?:str|int|float|bool)$")


def _is_union_tag(part: Any) -> bool:
    # pydantic inserts the union member's type ("str", "constrained-int") into loc: not a field
    return isinstance(part, str) and bool(_UNION_TAG.match(part))


def _key_message(err: Mapping[str, Any]) -> str:
    if err["type"] == "string_pattern_mismatch":
        return (f"key {json.dumps(err.get('input'))[:60]} does not match pattern "
                f"'{(err.get('ctx') or {}).get('pattern')}' (an id: a lower-case letter, then "
                "up to 47 lower-case letters, digits, '_' or '-')")
    return f"key {json.dumps(err.get('input'), default=str)[:60]}: {_expectation(err)}"


def _union_message(errs: list[Mapping[str, Any]]) -> str:
    """One message for a value every member of a union refused: the complaints of the members
    whose type it had (a number too large), else the types it could have been."""
    found = errs[0].get("input")
    near = [e for e in errs if not e["type"].endswith("_type") and e["type"] != "finite_number"]
    if not near and any(e["type"] == "finite_number" for e in errs):
        near = [e for e in errs if e["type"] == "finite_number"]
    wanted = (dict.fromkeys(_wanted(e) for e in near) if near
              else {"text, a number or true/false": None})
    return f"expected {' or '.join(wanted)}, found {_shown(found)}"


def _wanted(err: Mapping[str, Any]) -> str:
    if err["type"] == "string_too_long":
        return f"at most {(err.get('ctx') or {}).get('max_length', 0):,} characters"
    return _expectation(err)


def _shown(found: Any) -> str:
    """A value as the file wrote it (YAML's .inf and .nan, not JSON's Infinity and NaN)."""
    if isinstance(found, float) and not math.isfinite(found):
        return ".nan" if math.isnan(found) else ("-.inf" if found < 0 else ".inf")
    return json.dumps(found, default=str)[:60] if found is not None else "nothing"


def _locate(doc: Document, path: str, message: str) -> Problem:
    probe = path
    while probe and probe not in doc.marks:
        probe = probe.rpartition(".")[0]
    line, col = doc.marks.get(probe, (1, 1))
    return Problem(doc.name, message, line, col, path)


def _message(doc: Document, model: type[BaseModel], err: Mapping[str, Any],
             loc: list[str]) -> str:
    kind, found = err["type"], err.get("input")
    if kind == "extra_forbidden":
        valid = _field_names(model, loc[:-1])
        close = difflib.get_close_matches(loc[-1], valid, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(valid)}"
        return f"unknown key '{loc[-1]}'{hint}"
    if kind == "missing":
        return "required key is missing"
    if kind == "missing_keys":
        return str(err["msg"])
    ctx = err.get("ctx") or {}
    if kind in ("too_long", "too_short"):
        what = "entries" if isinstance(found, dict) else "items"
        bound = (f"at most {ctx.get('max_length', 0):,}" if kind == "too_long"
                 else f"at least {ctx.get('min_length', 0):,}")
        actual = ctx.get("actual_length")  # None for a map pydantic stopped reading
        if actual is None and isinstance(found, dict | list | tuple):
            actual = len(found)
        return f"expected {bound} {what}, found {actual:,}" if isinstance(actual, int) \
            else f"expected {bound} {what}"
    if kind == "string_too_long" and isinstance(found, str):
        return f"expected {_wanted(err)}, found {len(found):,}"
    return f"expected {_expectation(err)}, found {_shown(found)}{_hint(kind, found)}"


def _hint(kind: str, found: Any) -> str:
    """What to write instead, for the two YAML habits the 1.2 rules refuse."""
    if kind == "bool_type" and isinstance(found, str) and found.lower() in _OLD_BOOLEANS:
        return "; YAML booleans are written true or false"
    if kind == "int_type" and isinstance(found, float) and found.is_integer():
        return f"; write a whole number as {int(found)}, without a decimal point"
    return ""


def _expectation(err: Mapping[str, Any]) -> str:
    msg: str = err["msg"]
    for prefix in ("Input should be ", "Value error, ", "String should "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return msg[0].lower() + msg[1:] if msg else msg


def _field_names(model: type[BaseModel], loc: list[str]) -> list[str]:
    """The valid keys of the model found by following loc (dict keys are skipped over)."""
    current: Any = model
    for part in loc:
        current = _descend(current, part)
        if current is None:
            return []
    return sorted(current.model_fields) if _is_model(current) else []


def _descend(tp: Any, part: str) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            tp = next((a for a in typing.get_args(tp) if a is not type(None)), None)
        else:
            break
    if _is_model(tp):
        field = tp.model_fields.get(part)
        return field.annotation if field else None
    origin = typing.get_origin(tp)
    if origin in (dict, tuple, list):
        args = typing.get_args(tp)
        return _unwrap(args[-1] if origin is dict else args[0])
    return None


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


# ---- files -----------------------------------------------------------------------------------

def read_file(path: str | Path, limit: int = MAX_BYTES) -> tuple[bytes, str]:
    """Read a user file with a size bound; errors name the path. Only a regular file is read:
    a directory, a FIFO or a device (/dev/zero, a terminal) is refused at once, never waited on
    (the file is opened without blocking and checked before a byte is read)."""
    name = str(path) if "\0" not in str(path) else repr(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except IsADirectoryError:
        raise InputError("", (Problem(name, "is a directory; expected a YAML file"),)) from None
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        raise InputError("", (Problem(name, f"cannot read: {getattr(e, 'strerror', None) or e}"),
                              )) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError("", (Problem(name, "is a directory; expected a YAML file"),))
        if not stat.S_ISREG(info.st_mode):
            raise InputError("", (Problem(name, f"is {_file_kind(info.st_mode)}, not a regular "
                                                "file; refused"),))
        if info.st_size > limit:
            raise InputError("", (Problem(name, f"file is {info.st_size:,} bytes; the limit is "
                                                f"{limit:,}"),))
        chunks, size = [], 0
        while size <= limit:  # a file growing while we read stops at the bound
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
        if len(raw) > limit:
            raise InputError("", (Problem(name, f"file is more than {limit:,} bytes; the limit "
                                                f"is {limit:,}"),))
        return raw, name
    except OSError as e:
        raise InputError("", (Problem(name, f"cannot read: {e.strerror or e}"),)) from None
    finally:
        os.close(fd)


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def load_scenario(path: str | Path) -> Scenario:
    """A scenario from a file path or a built-in name (e.g. ``alliance-2024``)."""
    raw, name = _resolve("scenarios", path)
    return parse_scenario(raw, name)


def load_rules(path: str | Path = "standard") -> Rules:
    """A rule set from a file path or a built-in name (e.g. ``standard``)."""
    raw, name = _resolve("rules", path)
    return parse_rules(raw, name)


def parse_scenario(raw: bytes | str, name: str = "<scenario>") -> Scenario:
    return validate_document(read_yaml(raw, name), Scenario, ScenarioError)


def parse_rules(raw: bytes | str, name: str = "<rules>") -> Rules:
    return validate_document(read_yaml(raw, name), Rules, RulesError)


def load_any(path: str | Path) -> Scenario | Rules:
    """Validate a file as a scenario or rules, chosen by its ``format`` key."""
    raw, name = read_file(path)
    doc = read_yaml(raw, name)
    if not isinstance(doc.data, dict):  # refused, as any model refuses a non-mapping
        return validate_document(doc, Scenario, ScenarioError)
    fmt = doc.data.get("format")
    if fmt == "wargame-rules/1":
        return validate_document(doc, Rules, RulesError)
    if fmt != "wargame-scenario/1":
        line, col = doc.marks.get("format", doc.marks.get("", (1, 1)))
        raise InputError("", (Problem(name, "expected 'format: wargame-scenario/1' or "
                                            f"'format: wargame-rules/1', found "
                                            f"{json.dumps(fmt, default=str)}", line, col,
                                      "format"),))
    return validate_document(doc, Scenario, ScenarioError)


def builtin_names(kind: str) -> list[str]:
    """Names of the built-in scenarios or rule sets shipped inside the package."""
    folder = resources.files("engine") / "data" / kind
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def builtin_path(kind: str, name: str) -> Path:
    return Path(str(resources.files("engine") / "data" / kind / f"{name}.yaml"))


def _resolve(kind: str, path: str | Path) -> tuple[bytes, str]:
    if "\0" in str(path):
        raise InputError("", (Problem(repr(str(path)), "cannot read: a path cannot hold a NUL "
                                                       "byte"),))
    p = Path(path)
    if not p.exists() and str(path) in builtin_names(kind):
        p = builtin_path(kind, str(path))
        return read_file(p)[0], f"{kind}/{path}.yaml"
    if not p.exists() and p.suffix == "" and "/" not in str(path):
        known = ", ".join(builtin_names(kind))
        raise InputError("", (Problem(str(path), f"no such file or built-in {kind[:-1]} "
                                                 f"(built-ins: {known})"),))
    return read_file(p)


def canonical_json(model: BaseModel) -> str:
    """Stable JSON of a model (sorted keys, no spaces): what logs embed and hash."""
    return canonical(model.model_dump(mode="json"))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def pair_problems(scenario: Scenario, rules: Rules) -> list[str]:
    """Cross-file checks: every inject names an action (and valid params) of the rule set, and
    every scenario-kind parameter the rules default or restrict names something the scenario
    has (a cyber attack's default link must be one of its links)."""
    out = []
    menus = {"blue": rules.actions.blue, "red": rules.actions.red}
    for i, inj in enumerate(scenario.injects):
        sides = ("blue", "red") if inj.side == "white" else (inj.side,)
        action = next((menus[s][inj.action] for s in sides if inj.action in menus[s]), None)
        if action is None:
            known = sorted({a for s in sides for a in menus[s]})
            out.append(f"injects.{i}.action: unknown action '{inj.action}' for side "
                       f"{inj.side} in rules '{rules.name}' (known: {', '.join(known)})")
            continue
        out.extend(f"injects.{i}.params.{p}: {m}"
                   for p, m in param_problems(inj.action, action, inj.params))
    tables: dict[str, Mapping[str, object]] = {
        "zone": scenario.theater.zones, "red_group": scenario.red.groups,
        "link": scenario.blue.c2.links}
    for side, menu in sorted(menus.items()):
        for aid, act in sorted(menu.items()):
            for pname, spec in sorted(act.params.items()):
                want = EFFECT_PARAMS.get(act.effect, {}).get(pname)
                kind = spec.kind or (want if isinstance(want, str) else None)
                if kind is None:
                    continue
                values = [spec.default] if spec.kind else [*(spec.choices or ()), spec.default]
                for value in values:
                    if value is not None and value not in tables[kind]:
                        names = ", ".join(sorted(tables[kind])) or "none"
                        out.append(f"rules: rules '{rules.name}' actions.{side}.{aid}.params."
                                   f"{pname}: '{value}' is not a {kind} of this scenario "
                                   f"(known: {names})")
    return out


def locate_problems(path: str | Path, problems: list[str]) -> tuple[Problem, ...]:
    """Problems given as 'dotted.path: message', located at their lines in the file at path."""
    doc = read_yaml(*read_file(path))
    return tuple(_locate(doc, *p.split(": ", 1)) for p in problems)


def load_pair(scenario: str | Path, rules: str | Path | None = None) -> tuple[Scenario, Rules]:
    """A scenario and its rule set (the one it names unless given), checked against each other."""
    s = load_scenario(scenario)
    r = load_rules(rules or s.rules)
    problems = pair_problems(s, r)
    if problems:
        name = str(scenario)
        raise ScenarioError("", tuple(Problem(name, p) for p in problems))
    return s, r


def load_orders(path: str | Path, side: str, rules: Rules, turns: int):
    """An orders file for one side, checked against the rules' menu; errors name file and line."""
    from engine.spec.orders import OrdersFile, menu_problems

    raw, name = read_file(path)
    doc = read_yaml(raw, name)
    orders = validate_document(doc, OrdersFile, InputError)
    problems = menu_problems(orders, rules, turns)
    if orders.side != side:
        problems.insert(0, ("side", f"this file holds {orders.side}'s orders, given for {side}"))
    if problems:
        raise InputError("", tuple(_locate(doc, p, m) for p, m in problems))
    return orders
