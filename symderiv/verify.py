"""``symderiv verify``: every problem whose kind can check itself, against independent methods.

A kind's ``verify`` hook compares what the derivation gives with methods that share
none of its code (the network kind: SymPy on the composed loss and float64 finite
differences); this module only collects the checks and words the report.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from symderiv.kinds import Verification, ability
from symderiv.model import Sheet


@dataclass
class Report:
    """The verifications of every problem of a sheet that has them."""

    verified: list[tuple[str, Verification]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(v.ok for _, v in self.verified)

    def text(self) -> str:
        lines = []
        for where, v in self.verified:
            bad = [c for c in v.checks if not c.ok]
            notes = "".join(f"; {note}" for note in v.notes)
            lines.append(f"{len(v.checks)} {v.what}: {len(v.checks) - len(bad)} agree, {len(bad)} differ{notes}.")
            lines += [f"  DIFFERS {where} {c.name}: {c.detail}" for c in bad]
        lines += [f"  {s}" for s in self.skipped]
        return "\n".join(lines)


def verify_sheet(sheet: Sheet) -> Report:
    """Run the verifier of every problem whose kind has one (the others are verified by the tests)."""
    report = Report()
    for problem in sheet.problems:
        check = ability(problem, "verify")
        if check is not None:
            report.verified.append((f"Problem {problem.number}", check(problem)))
        else:
            report.skipped.append(f"Problem {problem.number} ({problem.kind}): no self-verification; "
                                  "its tests check it against independent methods")
    return report
