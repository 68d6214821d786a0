"""AUDIT HOOKS: where this code tells the audit log (being built separately) what happened.

Until the audit log lands, each hook writes one structured log line (no personal data); the lead
wires each to the audit log's writer when merging. Called after the action was accepted.
"""

from __future__ import annotations

from datetime import datetime

from loyalty.platform.observability import logger


def export_requested(merchant_id: str, job_id: str, kind: str, actor: str, now: datetime) -> None:
    """AUDIT HOOK: an export of the merchant's members or transactions (personal data leaves the
    system): who asked for it, what, and when."""
    logger.info(
        "audit: export requested",
        extra={
            "audit": "export_requested",
            "merchant": merchant_id,
            "job": job_id,
            "kind": kind,
            "actor": actor,
            "at": now.isoformat(),
        },
    )
