"""The operator's command line, against the local stack by default or a deployed API
with ``--api``. Merchants and their owners' invitations, imports and exports with progress bars,
API keys.

Credentials come from options or the environment: ``LOYALTY_API_KEY`` (a merchant's key; the local
demo merchant's by default), ``LOYALTY_ADMIN_TOKEN`` (the platform admin's token; the local one by
default).
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import requests
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

LOCAL_API = f"http://127.0.0.1:{os.environ.get('LOYALTY_PORT', '8000')}"
LOCAL_ADMIN_TOKEN = "local-admin-token"  # noqa: S105 - the local stack's documented default
LOCAL_KEY = "lk_demo_local_only_key"  # the local demo merchant's
POLL_SECONDS = 0.5
MEMBER_COLUMNS = "phone, name, birthday, email, card_number, opening_balance, tier"
PURCHASE_COLUMNS = "transaction_id, date, amount, phone or card_number"

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
merchant_app = typer.Typer(help="Merchants (platform admin).", no_args_is_help=True)
import_app = typer.Typer(help="Import CSV files: members, or purchase history.", no_args_is_help=True)
export_app = typer.Typer(help="Export members or transactions to CSV (owner only; audited).", no_args_is_help=True)
keys_app = typer.Typer(help="A merchant's API keys.", no_args_is_help=True)
app.add_typer(merchant_app, name="merchant")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(keys_app, name="keys")
console = Console()
errors = Console(stderr=True)


class Api:
    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base = base.rstrip("/")
        self.headers = headers

    def call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            reply = requests.request(method, f"{self.base}{path}", json=body, headers=self.headers, timeout=30)
        except requests.ConnectionError:
            errors.print(f"[red]Cannot reach {self.base}[/red]: is `make run` running, or is --api right?")
            raise typer.Exit(3) from None
        if reply.status_code >= 400:
            error = (
                reply.json().get("error", {})
                if reply.headers.get("Content-Type", "").startswith("application/json")
                else {}
            )
            errors.print(f"[red]{reply.status_code} {error.get('code', '')}[/red]: {error.get('message', reply.text)}")
            if error.get("details"):
                errors.print(error["details"])
            raise typer.Exit(1)
        return reply.json()


API = Annotated[str, typer.Option("--api", envvar="LOYALTY_API", help="the API's base URL")]
KEY = Annotated[str, typer.Option("--key", envvar="LOYALTY_API_KEY", help="the merchant's API key")]
ADMIN = Annotated[str, typer.Option("--admin-token", envvar="LOYALTY_ADMIN_TOKEN", help="the platform admin token")]


def merchant_api(api: str, key: str) -> Api:
    return Api(api, {"X-Api-Key": key})


# ---- merchants -------------------------------------------------------------------------------------
@merchant_app.command("create")
def create_merchant(
    name: Annotated[str, typer.Argument(help="the shop's name, e.g. «Кофейня Зерно»")],
    api: API = LOCAL_API,
    admin_token: ADMIN = LOCAL_ADMIN_TOKEN,
) -> None:
    """Create a merchant; its first API key is shown once."""
    created = Api(api, {"Authorization": f"Bearer {admin_token}"}).call("POST", "/v1/admin/merchants", {"name": name})
    console.print(f"merchant_id [bold]{created['merchant_id']}[/bold]")
    console.print(f"api_key     [bold]{created['api_key']}[/bold]  (shown once: keep it safe)")


@merchant_app.command("invite-owner")
def invite_owner(
    merchant_id: Annotated[str, typer.Argument(help="the merchant, as `merchant create` printed it")],
    email: Annotated[str, typer.Argument(help="the owner's email")],
    name: Annotated[str | None, typer.Option(help="the owner's name")] = None,
    api: API = LOCAL_API,
    admin_token: ADMIN = LOCAL_ADMIN_TOKEN,
) -> None:
    """Invite the merchant's owner by email: Cognito sends a temporary password (locally it lands
    in the dev inbox, GET /_local/inbox?channel=email)."""
    body = {"email": email, **({"name": name} if name else {})}
    admin = Api(api, {"Authorization": f"Bearer {admin_token}"})
    invited = admin.call("POST", f"/v1/admin/merchants/{merchant_id}/owners", body)
    who = f"{invited['email']} ({invited['status']})"
    console.print(f"owner invited: staff_id [bold]{invited['staff_id']}[/bold], {who}")


# ---- imports ---------------------------------------------------------------------------------------
def _import(kind: str, file: Path, api: Api, job_id: str | None, welcome: bool) -> None:
    job_id = job_id or f"{kind}-{uuid.uuid4().hex[:12]}"
    body: dict[str, Any] = {"job_id": job_id, "kind": kind, **({"welcome": True} if welcome else {})}
    created = api.call("POST", "/v1/imports", body)
    if created["status"] == "awaiting_upload":
        data = file.read_bytes()
        with _progress(DownloadColumn()) as progress:
            task = progress.add_task(f"uploading {file.name}", total=len(data))
            upload = requests.put(created["upload_url"], data=data, headers={"Content-Type": "text/csv"}, timeout=600)
            upload.raise_for_status()
            progress.update(task, completed=len(data))
        api.call("POST", f"/v1/imports/{job_id}/start")
    job = _follow(api, f"/v1/imports/{job_id}", f"importing {file.name}")
    _summary(job)


@import_app.command("members")
def import_members(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="CSV: phone, name, birthday, email, card_number, opening_balance, tier"
        ),
    ],
    welcome: Annotated[bool, typer.Option(help="pay the welcome bonus and send the welcome message")] = False,
    job_id: Annotated[str | None, typer.Option(help="the import's id (run again with it to resume watching)")] = None,
    api: API = LOCAL_API,
    key: KEY = LOCAL_KEY,
) -> None:
    """Import the members a shop already has (no welcome unless --welcome)."""
    _import("members", file, merchant_api(api, key), job_id, welcome)


@import_app.command("purchases")
def import_purchases(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="CSV: transaction_id, date, amount, phone or card_number"),
    ],
    job_id: Annotated[str | None, typer.Option(help="the import's id")] = None,
    api: API = LOCAL_API,
    key: KEY = LOCAL_KEY,
) -> None:
    """Import past purchases, for analytics only (they earn nothing)."""
    _import("purchases", file, merchant_api(api, key), job_id, False)


# ---- exports ---------------------------------------------------------------------------------------
@export_app.command("members")
def export_members(
    out: Annotated[Path, typer.Option(help="where to save the CSV")] = Path("members.csv"),
    api: API = LOCAL_API,
    key: KEY = LOCAL_KEY,
) -> None:
    """Export every member (personal data in clear: owner only; the export is audited)."""
    _export("members", out, merchant_api(api, key))


@export_app.command("transactions")
def export_transactions(
    out: Annotated[Path, typer.Option(help="where to save the CSV")] = Path("transactions.csv"),
    api: API = LOCAL_API,
    key: KEY = LOCAL_KEY,
) -> None:
    """Export every ledger entry of every member."""
    _export("transactions", out, merchant_api(api, key))


def _export(kind: str, out: Path, api: Api) -> None:
    job_id = f"{kind}-{uuid.uuid4().hex[:12]}"
    api.call("POST", "/v1/exports", {"job_id": job_id, "kind": kind})
    job = _follow(api, f"/v1/exports/{job_id}", f"exporting {kind}")
    if job["status"] != "done":
        _summary(job)
        raise typer.Exit(1)
    with requests.get(job["download_url"], stream=True, timeout=600) as reply, _progress(DownloadColumn()) as progress:
        reply.raise_for_status()
        task = progress.add_task(f"saving {out}", total=int(reply.headers.get("Content-Length", 0)) or None)
        with out.open("wb") as handle:
            for block in reply.iter_content(1024 * 1024):
                handle.write(block)
                progress.advance(task, len(block))
    console.print(f"[green]{job['done']} rows[/green] saved to {out}")


# ---- keys ------------------------------------------------------------------------------------------
@keys_app.command("list")
def list_keys(api: API = LOCAL_API, key: KEY = LOCAL_KEY) -> None:
    """The merchant's API keys with their scope and last use (an owner's key; secrets are never shown)."""
    listed = Api(api, {"X-Api-Key": key}).call("GET", "/v1/keys")
    table = Table("key_id", "name", "scope", "status", "secret", "last used", title="API keys")
    for row in listed["keys"]:
        table.add_row(
            row["key_id"], row["name"], row["scope"], row["status"], row["hint"], row.get("last_used_at") or "-"
        )
    console.print(table)


@keys_app.command("revoke")
def revoke_key(key_id: Annotated[str, typer.Argument()], api: API = LOCAL_API, key: KEY = LOCAL_KEY) -> None:
    """Revoke an API key: every secret of it is refused from the next request."""
    revoked = Api(api, {"X-Api-Key": key}).call("POST", f"/v1/keys/{key_id}/revoke")
    console.print(f"key [bold]{revoked['key_id']}[/bold] ({revoked['name']}) is {revoked['status']}")


# ---- progress --------------------------------------------------------------------------------------
def _progress(*columns: Any) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), *columns, TimeElapsedColumn(), console=console)


def _follow(api: Api, path: str, label: str) -> dict[str, Any]:
    """Poll the job, with a progress bar of rows, until it ends."""
    with _progress(MofNCompleteColumn(), TextColumn("[red]{task.fields[failed]} failed")) as progress:
        task = progress.add_task(label, total=None, failed=0)
        while True:
            job: dict[str, Any] = api.call("GET", path)
            progress.update(task, total=job["total"], completed=job["done"] + job["failed"], failed=job["failed"])
            if job["status"] in ("done", "failed"):
                return job
            time.sleep(POLL_SECONDS)


def _summary(job: dict[str, Any]) -> None:
    if job["status"] == "failed":
        errors.print(f"[red]The job failed[/red]: {job['failure']}")
        raise typer.Exit(1)
    console.print(f"[green]{job['done']} done[/green], {job['failed']} failed, of {job['total']}")
    if job["errors"]:
        table = Table("line", "reason", title="refused rows")
        for error in job["errors"][:20]:
            table.add_row(str(error["line"]), error["reason"])
        console.print(table)
        if job.get("error_report_url"):
            console.print(f"every refused row: {job['error_report_url']}")


def main() -> None:
    app()
