"""The whole system on one machine: moto as AWS, the API on Chalice's local server, queue and
stream pollers, the scheduler, and local-only routes. Same handlers as in Lambda; only endpoints
differ.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any

import boto3
from chalice.app import Blueprint, Chalice
from loyalty.clock import LOCAL_CLOCK_ENV
from loyalty.platform.observability import logger, metrics
from moto.server import ThreadedMotoServer

from infra.local import moto_patches
from infra.local.pollers import Poller, SqsPoller, StreamPoller
from infra.local.provision import REGION, FunctionSpec, Stack, provision, push_platform_parameters
from infra.local.receiver import WebhookReceiver
from infra.local.scheduler import Job, Scheduler, rate_seconds
from infra.local.web import WebApp
from infra.sevendar.standin import SevenDarStandIn

STOP_SECONDS = 8.0


@dataclass
class LocalSettings:
    api_port: int = 8000
    aws_port: int = 5000
    sevendar_port: int = 8700
    sevendar_step_seconds: float = 3.0
    host: str = "127.0.0.1"
    admin_token: str = "local-admin-token"  # noqa: S105 - the documented local default
    queue_visibility_timeout: int = 5
    run_schedules: bool = True
    log_level: str = "WARNING"
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> LocalSettings:
        return cls(
            api_port=int(os.environ.get("LOYALTY_PORT", "8000")),
            aws_port=int(os.environ.get("LOYALTY_AWS_PORT", "5000")),
            sevendar_port=int(os.environ.get("LOYALTY_SEVENDAR_PORT", "8700")),
            sevendar_step_seconds=float(os.environ.get("LOYALTY_SEVENDAR_STEP_SECONDS", "3")),
            admin_token=os.environ.get("LOYALTY_ADMIN_TOKEN", "local-admin-token"),
            queue_visibility_timeout=int(os.environ.get("LOYALTY_QUEUE_VISIBILITY_SECONDS", "5")),
            run_schedules=os.environ.get("LOYALTY_RUN_SCHEDULES", "1") != "0",
            log_level=os.environ.get("LOYALTY_LOG_LEVEL", "WARNING"),
        )


def aws_environment(endpoint: str, log_level: str) -> dict[str, str]:
    """Point every AWS SDK call of this process at the embedded moto."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": log_level,
        "POWERTOOLS_DEV": "false",
    }


def set_log_level(level: str) -> None:
    """The functions' log level: for loggers built from now on, and for loyalty's own, which was
    built when this package's modules were imported."""
    os.environ["POWERTOOLS_LOG_LEVEL"] = level
    logger.setLevel(level)


def log_context_per_thread() -> None:
    """Lambda runs one invocation at a time in a process; the local stack runs every function in
    one process, each poller and each API request on a thread of its own. The invocation's keys
    (function name, request id, cold start) are kept per thread, or a line would carry whichever
    function was invoked last (a notification delivery logged as the report counter's)."""
    logger.append_keys = logger.thread_safe_append_keys  # type: ignore[method-assign]


def free_port(host: str) -> int:
    """A port nobody listens on now (the API must know its URL before it starts: SevenDar's
    webhooks are sent to it)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def sevendar_parameters(standin: SevenDarStandIn) -> dict[str, str]:
    return {
        "SevenDarBaseUrl": standin.url,
        "SevenDarApiKey": standin.api_key,
        "SevenDarWebhookSecret": standin.webhook_secret.decode(),
    }


def quiet_metrics() -> None:
    """Nothing publishes metrics locally; but Powertools prints a metric set to stdout every 100
    values even when metrics are disabled (it never flushes them), which buries the stack's output
    under a busy demo, and warns at the first invocation that had none to publish. Locally, adding
    a metric does nothing and nothing warns about it."""
    metrics.add_metric = lambda *args, **kwargs: None  # type: ignore[method-assign]
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def _import_function(spec: FunctionSpec) -> ModuleType:
    return importlib.import_module(spec.module)


class LocalStack:
    def __init__(self, settings: LocalSettings) -> None:
        self.settings = settings
        self.moto: ThreadedMotoServer | None = None
        self.sevendar: SevenDarStandIn | None = None
        self.aws_endpoint = ""
        self.api_url = ""
        self.stack: Stack | None = None
        self.app: Chalice | None = None
        self.pollers: list[Poller] = []
        self.scheduler: Scheduler | None = None
        self.webhook_receiver = WebhookReceiver()
        self._server: Any = None
        self._dynamodb: Any = None
        self._server_thread: threading.Thread | None = None

    # ---- start ---------------------------------------------------------------------------
    def start(self) -> None:
        self._start_moto()
        self.sevendar = SevenDarStandIn(
            self.settings.host, self.settings.sevendar_port, step_seconds=self.settings.sevendar_step_seconds
        )
        self.sevendar.start()
        api_port = self.settings.api_port or free_port(self.settings.host)
        self.api_url = f"http://{self.settings.host}:{api_port}"
        session = boto3.session.Session(region_name=REGION)
        self.stack = provision(
            session,
            parameters={
                "NamePrefix": "",
                **push_platform_parameters(session),
                **sevendar_parameters(self.sevendar),
                "PublicBaseUrl": self.api_url,
            },
            secret_values={"AdminSecret": {"admin_token": self.settings.admin_token}},
            queue_visibility_timeout=self.settings.queue_visibility_timeout,
        )
        os.environ.update(self.stack.environment())
        set_log_level(self.settings.log_level)  # the template says INFO for AWS
        log_context_per_thread()
        os.environ["WEBHOOK_URL_POLICY"] = "local"  # webhooks to this machine only (AWS: https, public)
        os.environ.update(self.settings.extra_env)
        modules = {name: _import_function(spec) for name, spec in self.stack.functions.items()}
        quiet_metrics()
        self.app = self._compose_app(modules)
        self._start_api(api_port)
        self._start_pollers(session, modules)
        self.scheduler = Scheduler(self._jobs(modules))
        if self.settings.run_schedules:
            self.scheduler.start()

    def _start_moto(self) -> None:
        os.environ[LOCAL_CLOCK_ENV] = "1"  # only the local stack may move the one clock (PUT /_local/clock)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
        moto_patches.apply()
        self.moto = ThreadedMotoServer(ip_address=self.settings.host, port=self.settings.aws_port, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.aws_endpoint = f"http://{host}:{port}"
        os.environ.update(aws_environment(self.aws_endpoint, self.settings.log_level))

    def _compose_app(self, modules: dict[str, ModuleType]) -> Chalice:
        from loyalty.http.app import create_app

        from infra.local.routes import local_blueprint

        assert self.stack is not None
        blueprints: list[Blueprint] = []
        seen: set[str] = set()
        for name, spec in self.stack.functions.items():
            if spec.events_of_type("Api") and spec.module not in seen:
                seen.add(spec.module)
                blueprints.append(modules[name].bp)
        return create_app("loyalty-local", *blueprints, local_blueprint(self))

    def _start_api(self, port: int) -> None:
        from infra.local import gateway

        assert self.app is not None and self.stack is not None
        gateway.THROTTLE = gateway.MerchantThrottle(*self._usage_plan_throttle())
        override = os.environ.get("LOYALTY_AUTHORIZER_CACHE_SECONDS")
        gateway.AUTHORIZER_CACHE = gateway.AuthorizerCache.from_template(
            self.stack.template, float(override) if override else None
        )
        gateway.WEB_APP = WebApp(self.api_url)
        self._server = gateway.create_server(self.app, self.settings.host, port)
        self._server_thread = threading.Thread(target=self._server.server.serve_forever, name="api", daemon=True)
        self._server_thread.start()

    def _usage_plan_throttle(self) -> tuple[float, int]:
        """The merchants' usage-plan throttle from template.yaml, unless the environment overrides it."""
        assert self.stack is not None
        apis = [r for r in self.stack.template["Resources"].values() if r["Type"] == "AWS::Serverless::Api"]
        throttle = apis[0]["Properties"]["Auth"]["UsagePlan"]["Throttle"]
        rate = float(os.environ.get("LOYALTY_THROTTLE_RATE", throttle["RateLimit"]))
        burst = int(os.environ.get("LOYALTY_THROTTLE_BURST", throttle["BurstLimit"]))
        return rate, burst

    def _start_pollers(self, session: boto3.session.Session, modules: dict[str, ModuleType]) -> None:
        assert self.stack is not None
        sqs, streams = session.client("sqs"), session.client("dynamodbstreams")
        for name, spec in self.stack.functions.items():
            handler = getattr(modules[name], spec.handler)
            for event_name, props in spec.events_of_type("SQS").items():
                queue_id = props["Queue"]["Fn::GetAtt"][0]
                self.pollers.append(
                    SqsPoller(
                        f"{name}.{event_name}",
                        sqs,
                        self.stack.queue_url(queue_id),
                        self.stack.attributes[(queue_id, "Arn")],
                        handler,
                        int(props.get("BatchSize", 10)),
                        spec.timeout,
                        REGION,
                    )
                )
            for event_name, props in spec.events_of_type("DynamoDB").items():
                table_id = props["Stream"]["Fn::GetAtt"][0]
                self.pollers.append(
                    StreamPoller(
                        f"{name}.{event_name}",
                        streams,
                        self.stack.attributes[(table_id, "StreamArn")],
                        handler,
                        int(props.get("BatchSize", 100)),
                        spec.timeout,
                        REGION,
                    )
                )
        for poller in self.pollers:
            poller.start()

    def _jobs(self, modules: dict[str, ModuleType]) -> dict[str, Job]:
        from infra.local.provision import Resolver

        assert self.stack is not None
        resolver = Resolver(self.stack)
        jobs: dict[str, Job] = {}
        for name, spec in self.stack.functions.items():
            for event_name, props in spec.events_of_type("Schedule").items():
                job_name = str(resolver.resolve(props.get("Name", event_name)))
                jobs[job_name] = Job(
                    job_name,
                    getattr(modules[name], spec.handler),
                    rate_seconds(str(props["Schedule"])),
                    spec.timeout,
                    REGION,
                )
        return jobs

    # ---- use -----------------------------------------------------------------------------
    def run_job(self, name: str, now: datetime | None = None) -> Any:
        if self.scheduler is None or name not in self.scheduler.jobs:
            raise KeyError(name)
        return self.scheduler.run_job(name, now)

    def _health_client(self) -> Any:
        """One DynamoDB client for every health check (a new one costs ~100 ms of botocore)."""
        if self._dynamodb is None:
            self._dynamodb = boto3.session.Session(region_name=REGION).client("dynamodb")
        return self._dynamodb

    def health(self) -> dict[str, Any]:
        problems: list[str] = []
        try:
            self._health_client().list_tables(Limit=1)
        except Exception as exc:
            problems.append(f"aws: {type(exc).__name__}")
        for poller in self.pollers:
            if not poller.is_alive():
                problems.append(f"{poller.name}: stopped")
            elif poller.last_error:
                problems.append(f"{poller.name}: {poller.last_error}")
        return {
            "status": "ok" if not problems else "degraded",
            "problems": problems,
            "pollers": {
                poller.name: {"alive": poller.is_alive(), "batches": poller.batches} for poller in self.pollers
            },
            "jobs": sorted(self.scheduler.jobs) if self.scheduler else [],
        }

    # ---- stop ----------------------------------------------------------------------------
    def stop(self, timeout: float = STOP_SECONDS) -> list[str]:
        """Stop everything within ``timeout`` seconds, whatever is in flight.

        Every part is told to stop at once and then waited for against one deadline, in parallel:
        a poller inside a slow handler (a worker backing off, a call to a slow stand-in) cannot
        hold the others up. Whatever has not stopped by the deadline is a daemon thread and is
        abandoned: a queue message it was working on is not deleted, so nothing is lost. Returns
        the names of the parts that did not stop in time (empty when all did)."""
        deadline = time.monotonic() + timeout
        workers: list[threading.Thread] = [
            thread
            for thread in [*self.pollers, *([self.scheduler] if self.scheduler else [])]
            if thread.ident is not None
        ]  # a scheduler that was never started (LOYALTY_RUN_SCHEDULES=0) has nothing to join
        for worker in self.pollers:
            worker.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        servers = [
            threading.Thread(target=stopper, name=f"stop-{name}", daemon=True)
            for name, stopper in self._server_stoppers()
        ]
        for server in servers:
            server.start()
        for thread in [*workers, *servers]:
            thread.join(timeout=max(deadline - time.monotonic(), 0))
        return [thread.name for thread in [*workers, *servers] if thread.is_alive()]

    def _server_stoppers(self) -> list[tuple[str, Callable[[], None]]]:
        """How to stop each server. Moto goes last only in the sense that it stops serving while
        the abandoned pollers, if any, still call it: their errors are harmless at exit."""
        stoppers: list[tuple[str, Callable[[], None]]] = []
        if self._server is not None:
            api = self._server.server

            def stop_api() -> None:
                api.shutdown()
                api.server_close()

            stoppers.append(("api", stop_api))
        if self.sevendar is not None:
            stoppers.append(("sevendar", self.sevendar.stop))
        if self.moto is not None and self.moto._server is not None:
            # ThreadedMotoServer.stop() joins its thread without a timeout; shut its server down
            # and let the deadline bound the wait instead.
            moto = self.moto._server

            def stop_moto() -> None:
                moto.shutdown()
                moto.server_close()

            stoppers.append(("moto", stop_moto))
        return stoppers
