"""Shared domain package of the loyalty platform (the Lambda layer).

Handlers in ``functions/`` import from here; nothing is copied between functions. Importing it
in Lambda turns the garbage collector off until the runtime is bootstrapped
(``platform.cold_start``).
"""

from loyalty.platform import cold_start as _cold_start  # noqa: F401 - first, so a Lambda loads without the collector
