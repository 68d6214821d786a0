"""Shared domain package of the loyalty platform (the Lambda layer).

Handlers in ``functions/`` import from here; nothing is copied between functions.
"""
