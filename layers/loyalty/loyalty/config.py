"""Configuration models read from the environment and validated at cold start.

Each function declares one model (a subclass of ``CoreConfig``) with the settings it needs; a
missing or malformed variable stops the cold start with a message naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError


class ConfigurationError(RuntimeError):
    pass


class EnvConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        source = os.environ if environ is None else environ
        values = {name: source[name.upper()] for name in cls.model_fields if name.upper() in source}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = ", ".join(f"{str(error['loc'][0]).upper()} ({error['msg']})" for error in exc.errors())
            raise ConfigurationError(f"{cls.__name__}: {problems}") from exc


class TableNames(EnvConfig):
    merchants_table: str
    members_table: str
    ledger_table: str
    operations_table: str
    notifications_table: str
    gift_cards_table: str
    webhooks_table: str
    jobs_table: str
    credentials_table: str
    audit_table: str


class CoreConfig(TableNames):
    """What every function needs: its tables, the secrets, the event bus."""

    keys_secret_name: str
    admin_secret_name: str
    event_bus_name: str
    secret_cache_seconds: int = 300
