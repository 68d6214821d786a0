"""Ctrl-C stops `make run` within seconds, whatever is in flight: here a gift-card worker is
inside a call to a supplier that answers only after 30 seconds."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.local_stack import STOP_BOUND_SECONDS, Shop, running_stack, stop, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-shutdown")]


def test_ctrl_c_stops_the_stack_while_a_worker_waits_on_a_slow_supplier() -> None:
    with running_stack() as local:
        shop = Shop(local, "Подарки")
        requests.post(
            f"{local.sevendar}/_standin/faults", json={"mode": "slow", "delay_seconds": 30}, timeout=5
        ).raise_for_status()
        shop.call(
            "POST",
            "/v1/gift-cards/orders",
            {
                "order_id": "slow-1",
                "design_id": "gc_winter_tale",
                "quantity": 1,
                "nominal_kopecks": 100_000,
                "recipient": {"name": "Вера", "email": "vera@example.ru"},
                "delivery": {"method": "email"},
                "payment": {"method": "money", "reference": "r-1"},
            },
        )

        def worker_is_waiting() -> bool:
            faults = requests.get(f"{local.sevendar}/_standin/faults", timeout=5).json()
            return int(faults.get("affected", 0)) > 0

        wait_for(worker_is_waiting, timeout=20)
        time.sleep(0.5)
        process, output = local.process, local.output
        took = stop(process, output)
        local.stopped = True
    assert took < STOP_BOUND_SECONDS
    assert any(line.startswith("stopped in") for line in output), "".join(output[-10:])
