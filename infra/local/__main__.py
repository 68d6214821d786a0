"""``make run``: start the local stack in the foreground; Ctrl-C stops it cleanly. ``make demo``
(``--demo``) first replays half a year of a coffee shop through the API, for the KPI report."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from infra.local.demo import Api, DemoSettings, report_table, simulate
from infra.local.seed import seed_demo, seed_merchant
from infra.local.stack import STOP_SECONDS, LocalSettings, LocalStack
from infra.local.web import WEB_DIST


def banner(stack: LocalStack, api_key: str, member_id: str, card: str, seconds: float) -> str:
    api = stack.api_url
    token = stack.settings.admin_token
    web_note = "" if WEB_DIST.joinpath("index.html").is_file() else "; NOT BUILT: needs Node.js 20 + npm, then make web"
    return f"""
Loyalty platform - local stack is up in {seconds:.1f}s (moto as AWS, no account, no Docker)

  web app        {api}/app/   (sign in with the demo merchant's key below{web_note})
  API            {api}
  API docs       {api}/docs   (OpenAPI document: {api}/openapi.json)
  health         {api}/health
  dev inbox      {api}/_local/inbox
  run a job      curl -X POST '{api}/_local/jobs/<name>?now=2027-01-01T00:00:00Z'
  moto (AWS)     {stack.aws_endpoint}   (partner queue: purchase-events)
  SevenDar       {stack.sevendar.url if stack.sevendar else "-"}   (stand-in; faults: POST /_standin/faults)
  admin token    {token}
  demo merchant  X-Api-Key: {api_key}
  demo member    {member_id}  card {card}

Try it:
  curl -s -H 'X-Api-Key: {api_key}' {api}/v1/members/{member_id}
  curl -s -X POST -H 'X-Api-Key: {api_key}' -H 'Content-Type: application/json' \\
       -d '{{"transaction_id": "till-1-0001", "card_number": "{card}", "amount_kopecks": 35000}}' \\
       {api}/v1/purchases
  curl -s -X POST -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\
       -d '{{"name": "My Shop", "owner_email": "owner@shop.example"}}' {api}/v1/admin/merchants
  (the owner's invitation, with a temporary password for POST /v1/staff/auth/sign-in, is in the dev inbox)

Ctrl-C stops everything.
"""


def run_demo(stack: LocalStack, api_key: str) -> tuple[str, str]:
    """``make demo``: half a year of a coffee shop through the API (``infra.local.demo``)."""
    settings = DemoSettings(scale=float(os.environ.get("LOYALTY_DEMO_SCALE", "1")))
    print("make demo: replaying half a year of a coffee shop on the local clock", flush=True)
    result = simulate(
        stack.api_url,
        api_key,
        settings,
        lambda: seed_merchant(api_key, "Кофейня «Зерно»"),
        lambda line: print(line, flush=True),
    )
    tally, api = result.tally, stack.api_url
    print(
        f"\ndemo done in {result.seconds:.0f}s: {tally.sales} sales, {tally.joined} members, "
        f"{tally.redemptions} paid with points, {tally.refunds} refunds\n\n"
        f"{report_table(Api(api, api_key), result.first_month, result.last_month)}\n\n"
        f"  the report   curl -s -H 'X-Api-Key: {api_key}' "
        f"'{api}/v1/reports/kpis?from={result.first_month}&to={result.last_month}'\n"
        f"  (default: the last six months)   curl -s -H 'X-Api-Key: {api_key}' {api}/v1/reports/kpis",
        flush=True,
    )
    return result.member_id, result.card_number


def main() -> int:
    started = time.monotonic()
    # Installed first, so that a Ctrl-C during start-up also stops cleanly once start-up is done.
    stopped = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        if stopped.is_set():  # a second Ctrl-C: do not wait for anything
            print("stopping now.", flush=True)
            os._exit(130)
        stopped.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    settings = LocalSettings.from_env()
    stack = LocalStack(settings)
    try:
        stack.start()
    except OSError as exc:
        print(
            f"could not start the local stack: {exc}\n"
            f"(is another 'make run' using ports {settings.api_port}/{settings.aws_port}? "
            "set LOYALTY_PORT / LOYALTY_AWS_PORT)",
            file=sys.stderr,
        )
        stack.stop()
        return 1
    api_key = os.environ.get("LOYALTY_DEMO_API_KEY", "lk_demo_local_only_key")
    if "--demo" in sys.argv[1:]:
        up = time.monotonic() - started  # the demo's own time is printed with its report
        member_id, card = run_demo(stack, api_key)
    else:
        demo = seed_demo(api_key)
        member_id, card = demo.member_id, demo.card_number
        up = time.monotonic() - started
    print(banner(stack, api_key, member_id, card, up), flush=True)
    sevendar = stack.sevendar.url if stack.sevendar else ""
    print(f"LOYALTY_READY api={stack.api_url} aws={stack.aws_endpoint} sevendar={sevendar}", flush=True)

    while not stopped.wait(0.5):  # a timed wait lets the main thread run signal handlers promptly
        pass
    print("stopping...", flush=True)
    started_stopping = time.monotonic()
    lingering = stack.stop()
    if lingering:
        print(f"abandoned after {STOP_SECONDS:.0f}s: {', '.join(lingering)}", file=sys.stderr, flush=True)
    print(f"stopped in {time.monotonic() - started_stopping:.1f}s.", flush=True)
    # Abandoned daemon threads may hold locks that interpreter finalisation would wait for: exit
    # now that everything that matters has stopped and the output is flushed.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
