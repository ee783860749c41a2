"""Result tables: ``figure | value | ceiling | target``, as aligned text or as Markdown.

A target is a :class:`Target` (``≥ 1,000`` or ``< 30 ms``); :meth:`Table.add` checks the value
against it and marks the target cell ``✓`` or ``✗`` so misses stand out in both renderings.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """``value op limit``; ``op`` is ``">="`` or ``"<"``; ``unit`` is appended when shown."""

    op: str
    limit: float
    unit: str = ""

    def met(self, value: float) -> bool:
        return value >= self.limit if self.op == ">=" else value < self.limit

    def __str__(self) -> str:
        sign = "≥" if self.op == ">=" else "<"
        return f"{sign} {fmt_num(self.limit)}{' ' + self.unit if self.unit else ''}"


def fmt_num(value: float) -> str:
    """``1234.5`` -> ``1,234``; ``12.34`` -> ``12.3``; ``1.234`` -> ``1.23``."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_ms(value: float) -> str:
    return f"{fmt_num(value)} ms"


@dataclass
class Table:
    title: str
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    misses: list = field(default_factory=list)

    def add(self, figure: str, value: str, ceiling: str = "—", target: Target | None = None,
            raw: float | None = None) -> None:
        """One row; with a ``target`` and the ``raw`` number behind ``value``, the target is checked."""
        shown = "—"
        if target is not None and raw is not None:
            ok = target.met(raw)
            shown = f"{target} {'✓' if ok else '✗'}"
            if not ok:
                self.misses.append(f"{self.title}: {figure} {value} (target {target})")
        elif target is not None:
            shown = str(target)
        self.rows.append((figure, value, ceiling, shown))

    def check(self, figure: str, value: str, ok: bool, expectation: str, ceiling: str = "—") -> None:
        """A yes/no check (not one of the issue's targets): ``expectation`` marked ✓ or ✗."""
        self.rows.append((figure, value, ceiling, f"{expectation} {'✓' if ok else '✗'}"))
        if not ok:
            self.misses.append(f"{self.title}: {figure} {value} (expected {expectation})")

    def text(self) -> str:
        header = ("figure", "value", "ceiling", "target")
        widths = [max(len(str(r[i])) for r in (header, *self.rows)) for i in range(4)]
        line = "  ".join("-" * w for w in widths)
        out = [self.title, line, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), line]
        out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in self.rows]
        out += [f"  note: {n}" for n in self.notes]
        return "\n".join(out)

    def markdown(self) -> str:
        out = [f"#### {self.title}", "", "| figure | value | ceiling | target |", "|---|---:|---:|---|"]
        out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in self.rows]
        if self.notes:
            out.append("")
            out += [f"- {n}" for n in self.notes]
        return "\n".join(out)
