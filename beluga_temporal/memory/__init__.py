"""Chain memory: `BufferMemory` and `WindowMemory`, kept durably in workflow state."""

from beluga_temporal.memory._memory import BufferMemory, WindowMemory

__all__ = ["BufferMemory", "WindowMemory"]
