"""Rows of the table: one figure per round, the median with its spread, the target."""

import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass
class Row:
    key: str
    title: str
    # ">=" or "<=" against ``target``; None: shown for information, never passes or fails.
    compare: Literal[">=", "<="] | None
    target: float | None
    unit: str = "x"
    values: list[float] = field(default_factory=list)
    # What the ratio is made of, per round: the measured figure and its baseline.
    measured: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    measured_unit: str = "rps"
    generator_cpu: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # A round whose figures cannot be trusted (error answers): the row fails whatever its median.
    broken: bool = False

    def add(
        self,
        value: float,
        *,
        measured: float | None = None,
        baseline: float | None = None,
        generator_cpu: float | None = None,
        note: str | None = None,
        broken: bool = False,
    ) -> None:
        self.broken = self.broken or broken
        self.values.append(value)
        if measured is not None:
            self.measured.append(measured)
        if baseline is not None:
            self.baseline.append(baseline)
        if generator_cpu is not None:
            self.generator_cpu.append(generator_cpu)
        if note and note not in self.notes:
            self.notes.append(note)

    @property
    def median(self) -> float:
        finite = [value for value in self.values if math.isfinite(value)]
        return statistics.median(finite) if finite else math.nan

    @property
    def passed(self) -> bool | None:
        if self.compare is None or self.target is None or not self.values:
            return None
        value = self.median
        if self.broken or not math.isfinite(value):
            return False
        return value >= self.target if self.compare == ">=" else value <= self.target

    def as_json(self) -> dict[str, Any]:
        def median_of(values: list[float]) -> float | None:
            return statistics.median(values) if values else None

        return {
            "key": self.key,
            "title": self.title,
            "unit": self.unit,
            "median": _finite(self.median),
            "min": _finite(min(self.values)) if self.values else None,
            "max": _finite(max(self.values)) if self.values else None,
            "rounds": [_finite(value) for value in self.values],
            "target": None if self.compare is None else f"{self.compare} {self.target:g}",
            "passed": self.passed,
            "broken": self.broken,
            "measured": median_of(self.measured),
            "baseline": median_of(self.baseline),
            "measured_unit": self.measured_unit,
            "generator_cpu_share": median_of(self.generator_cpu),
            "notes": self.notes,
        }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _figure(value: float | None, unit: str = "") -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def render_table(rows: list[Row]) -> str:
    header = ["row", "median", "spread", "target", "result", "measured / baseline", "gen CPU"]
    lines = []
    for row in rows:
        data = row.as_json()
        spread = f"{_figure(data['min'])}..{_figure(data['max'])}" if row.values else "-"
        verdict = {True: "pass", False: "FAIL", None: "info" if row.values else "not run"}[row.passed]
        parts = f"{_figure(data['measured'])} {row.measured_unit}"
        if row.baseline:
            parts = f"{_figure(data['measured'])} / {_figure(data['baseline'])} {row.measured_unit}"
        cpu = data["generator_cpu_share"]
        lines.append(
            [
                row.title,
                _figure(row.median, "" if row.unit == "x" else row.unit),
                spread,
                data["target"] or "-",
                verdict,
                parts if row.measured else "-",
                f"{cpu:.0%}" if cpu is not None else "-",
            ]
        )
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]
    out = [" | ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))]
    out.append("-+-".join("-" * width for width in widths))
    out += [" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in lines]
    notes = [f"  {row.title}: {note}" for row in rows for note in row.notes]
    return "\n".join(out + (["", "notes:", *notes] if notes else []))


def write_json(path: Path, rows: list[Row], meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "rows": [row.as_json() for row in rows]}, indent=2, ensure_ascii=False))


def markdown_table(results: dict[str, Any]) -> str:
    """A results.json as a Markdown table (for docs/performance.md)."""

    def cell(row: dict[str, Any], name: str) -> str:
        return _figure(row[name])

    lines = [
        "| row | median | spread | target | result | measured / baseline | gen CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        verdict = {True: "pass", False: "**FAIL**", None: "info" if row["rounds"] else "not run"}[row["passed"]]
        parts = f"{cell(row, 'measured')} / {cell(row, 'baseline')}" if row["baseline"] else cell(row, "measured")
        cpu = row["generator_cpu_share"]
        spread = f"{cell(row, 'min')}..{cell(row, 'max')}" if row["rounds"] else "-"
        lines.append(
            f"| {row['title']} | {cell(row, 'median')} | {spread} "
            f"| {row['target'] or '-'} | {verdict} | {parts} {row['measured_unit']} "
            f"| {'-' if cpu is None else f'{cpu:.0%}'} |"
        )
    return "\n".join(lines)
