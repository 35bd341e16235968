"""The quality gate: what a mode does with a report below its threshold (``ContextMode.on_quality_fail``)."""

from __future__ import annotations

import warnings

from quantdb_lab.errors import QualityGateError, QualityWarning
from quantdb_lab.quality.report import QualityReport


def enforce(report: QualityReport, *, on_fail: str, mode: str, stacklevel: int = 3) -> str:
    """Nothing ("") when the report passes or ``on_fail`` is "ignore"; else raise, or warn with the report
    attached and return the warning's text (kept in the result's provenance)."""
    if on_fail == "ignore" or report.passed:
        return ""
    failing = report.failing
    worst = report.issues.filter(report.issues["status"] == "open")["check"].value_counts(sort=True).head(3)
    checks = ", ".join(f"{c} x{n}" for c, n in worst.iter_rows()) or "none open"
    reason = f"data quality below the {mode} threshold for {', '.join(failing[:5]) or 'the frame'} (top issues: {checks})"
    symbol = failing[0] if len(failing) == 1 else None
    if on_fail == "raise":
        raise QualityGateError(reason, report=report, score=report.score.overall, threshold=report.threshold,
                               mode=mode, symbol=symbol)  # fmt: skip
    message = f"{reason}; score {report.score.overall:.5f} < {report.threshold}"
    warnings.warn(QualityWarning(message, report), stacklevel=stacklevel)
    return message
