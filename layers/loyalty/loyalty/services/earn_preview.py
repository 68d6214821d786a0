"""What a sample purchase would earn under the current program (or one being edited): the same
domain calculation a real purchase runs, with nothing written."""

from __future__ import annotations

from datetime import datetime

from loyalty.api.merchants import EarnPreviewRequest, EarnPreviewView
from loyalty.api.purchases import RuleAwardView
from loyalty.domain.earning import Line, Purchase, compute_earning
from loyalty.domain.membership import level_benefit
from loyalty.errors import InvalidRequest
from loyalty.services.merchants import programs


def preview(merchant_id: str, request: EarnPreviewRequest, now: datetime) -> EarnPreviewView:
    if request.program is not None:
        program, version = request.program, None
    else:
        current = programs.get(merchant_id)
        program, version = current.program, current.version
    tier = level_benefit(program, request.tier)
    if request.tier is not None and tier is None:
        raise InvalidRequest(f"the program has no tier {request.tier!r}", details={"field": "tier"})
    lines = tuple(Line(line.amount_kopecks, line.category, line.reward, line.quantity) for line in request.lines or ())
    purchase = Purchase(amount_kopecks=request.amount_kopecks, occurred_at=request.occurred_at or now, lines=lines)
    earning = compute_earning(program, purchase, tier)
    return EarnPreviewView(
        points=earning.points,
        breakdown=[RuleAwardView(rule=award.rule, points=award.points) for award in earning.breakdown],
        eligible_kopecks=earning.eligible_kopecks,
        reason=earning.reason,
        worth_kopecks=earning.points * program.unit_value_kopecks,
        program_version=version,
    )
