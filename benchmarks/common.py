"""Helpers shared by the benchmark scripts: plain aligned tables and PASS/MISS verdicts."""

from __future__ import annotations


def table(rows: list[list[str]], header: list[str], right: set[int]) -> str:
    """Rows under a header, columns padded; indices in ``right`` are right-aligned."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]

    def fmt(row: list[str]) -> str:
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(r) for r in rows)])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"
