"""A hand-written workflow that waits: signals, queries, updates, cancellation.

Hosted in-process by the client tests and by `beluga worker tests.client.approval_app`
in the CLI process tests. The workflow type name is wire format.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

APPROVAL = "approval"


@workflow.defn(name=APPROVAL)
class Approval:
    """Waits until approved (signal) and returns `"<request>: approved by <who>"`."""

    def __init__(self) -> None:
        self.approver: str | None = None
        self.notes: list[str] = []

    @workflow.run
    async def run(self, request: str) -> str:
        """Wait for the `approve` signal."""
        await workflow.wait_condition(lambda: self.approver is not None)
        return f"{request}: approved by {self.approver}"

    @workflow.signal
    def approve(self, who: str) -> None:
        """Approve the request."""
        self.approver = who

    @workflow.query
    def status(self) -> dict[str, object]:
        """The approver so far and the notes."""
        return {"approver": self.approver, "notes": list(self.notes)}

    @workflow.update
    def add_note(self, note: str) -> int:
        """Add a note; return how many there are. An empty note is rejected."""
        if not note:
            raise ApplicationError("a note must not be empty", type="EmptyNote")
        self.notes.append(note)
        return len(self.notes)


with workflow.unsafe.imports_passed_through():
    import asyncio

    from beluga_temporal import Chain, heartbeat, step


@step(timeout=120, heartbeat_timeout=2)
async def hold(value: dict[str, object]) -> dict[str, object]:
    """Take a minute: a step to interrupt `beluga run --watch` in.

    It heartbeats, as a long step that should stop early does: cancelling its run
    reaches it at once instead of after the minute.
    """
    for _ in range(600):
        heartbeat()
        await asyncio.sleep(0.1)
    return value


slow_chain = Chain("slow-chain", steps=[hold])
"""A chain whose only step takes a minute (workflow type `slow-chain`)."""
