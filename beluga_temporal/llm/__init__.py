"""LLM calls as durable, retried Temporal activities.

Messages and responses are pydantic models that cross Temporal payloads unchanged;
providers are registered by name (`"openai"` for any OpenAI-compatible server, `"test"`
for a deterministic offline model); provider failures are classified into retryable and
non-retryable `ApplicationError`s in one place (`classify_error`).

Importing this package does not import `openai`: the client is only loaded when an
`"openai"` model is built, inside an activity.
"""

from beluga_temporal.llm._config import ProviderConfig
from beluga_temporal.llm._decision import llm_decision
from beluga_temporal.llm._errors import classify_error, classify_status, parse_retry_after
from beluga_temporal.llm._messages import (
    AIMessage,
    HumanMessage,
    Message,
    Response,
    SystemMessage,
    TextPart,
    Usage,
)
from beluga_temporal.llm._openai import OpenAIChatModel
from beluga_temporal.llm._prompt import PromptFunction, PromptSource
from beluga_temporal.llm._registry import ChatModel, ProviderFactory, new, providers, register
from beluga_temporal.llm._resolve import clear_model_cache
from beluga_temporal.llm._schema import sample_from_schema
from beluga_temporal.llm._steps import llm_step
from beluga_temporal.llm._structured import StructuredResult, generate_structured
from beluga_temporal.llm._test_model import CallInfo, FunctionModel, TestModel

__all__ = [
    "AIMessage",
    "CallInfo",
    "ChatModel",
    "FunctionModel",
    "HumanMessage",
    "Message",
    "OpenAIChatModel",
    "PromptFunction",
    "PromptSource",
    "ProviderConfig",
    "ProviderFactory",
    "Response",
    "StructuredResult",
    "SystemMessage",
    "TestModel",
    "TextPart",
    "Usage",
    "classify_error",
    "classify_status",
    "clear_model_cache",
    "generate_structured",
    "llm_decision",
    "llm_step",
    "new",
    "parse_retry_after",
    "providers",
    "register",
    "sample_from_schema",
]
