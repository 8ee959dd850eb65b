"""The progress table (watch, run --watch, demo) from constructed `RunProgress` values."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from beluga_temporal.cli import format_duration, make_console, progress_table
from beluga_temporal.engine import NodeProgress, RunProgress

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
LONG_ERROR = "PaymentDeclined: " + "the card issuer declined the charge " * 6


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sample() -> RunProgress:
    nodes = {
        "validate": NodeProgress(
            step="validate_order", status="succeeded", attempts=1,
            started_at=at(0), finished_at=at(0.012),
        ),
        "process_payment": NodeProgress(
            step="process_payment", status="succeeded", attempts=3,
            started_at=at(0.012), finished_at=at(2.5),
        ),
        "decide_expedite": NodeProgress(
            step="decide_expedite", status="succeeded", attempts=1,
            started_at=at(2.5), finished_at=at(65.5), choice="fulfill_express",
        ),
        "fulfill": NodeProgress(step="fulfill_order", status="skipped"),
        "fulfill_express": NodeProgress(
            step="fulfill_express", status="running", started_at=at(65.5),
            waiting="no worker polls task queue 'express'",
        ),
        "refund": NodeProgress(step="refund", status="failed", error=LONG_ERROR),
        "notify": NodeProgress(step="notify_customer", status="pending"),
    }  # fmt: skip
    return RunProgress(name="order-processing", kind="graph", nodes=nodes)


def render(progress: RunProgress) -> str:
    out = io.StringIO()
    make_console(file=out).print(progress_table(progress, "order-1"))
    return out.getvalue()


def row(text: str, node: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"│ {node} "))
    return [cell.strip() for cell in line.strip("│").split("│")]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.0004, "0 ms"), (0.012, "12 ms"), (2.488, "2.49 s"), (63, "1m 03s"), (3725, "1h 02m")],
)
def test_format_duration(seconds: float, shown: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == shown


def test_format_duration_unknown_is_blank() -> None:
    assert format_duration(None) == ""


def test_columns_show_attempts_duration_and_choice() -> None:
    text = render(sample())
    header = row(text.replace("┃", "│"), "node")
    assert header == ["node", "step", "status", "attempts", "duration", "detail"]
    assert row(text, "validate") == ["validate", "validate_order", "succeeded", "1", "12 ms", ""]
    assert row(text, "process_payment")[3:5] == ["3", "2.49 s"]
    assert row(text, "decide_expedite")[3:] == ["1", "1m 03s", "chose → fulfill_express"]
    assert row(text, "fulfill")[2:] == ["skipped", "", "", ""]


def test_running_node_shows_why_it_waits_and_no_duration() -> None:
    cells = row(render(sample()), "fulfill_express")
    assert cells[2:] == ["running", "", "", "waiting: no worker polls task queue 'express'"]


def test_waiting_is_not_shown_once_the_node_finished() -> None:
    progress = sample()
    node = progress.nodes["fulfill_express"]
    node.status, node.finished_at = "succeeded", at(66)
    assert "waiting" not in render(progress)


def test_piped_table_keeps_whole_values_and_ends_with_a_newline() -> None:
    text = render(sample())
    assert LONG_ERROR.strip() in text  # one line: not folded or cut at 80 columns
    assert max(len(line) for line in text.splitlines()) > 200
    assert text.endswith("└\n") or text.endswith("┘\n")


def test_fallback_and_error_details() -> None:
    progress = sample()
    progress.nodes["refund"].fallback = True
    assert "output from fallback; PaymentDeclined" in render(progress)
