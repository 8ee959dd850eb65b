import beluga_temporal.observability
import beluga_temporal.testing


def test_public_names_are_pinned() -> None:
    assert sorted(beluga_temporal.observability.__all__) == sorted(
        [
            "CIRCUIT_BREAKER_STATE_CHANGES",
            "LLM_TOKENS",
            "REDACTED",
            "STEP_DURATION",
            "STEP_EXECUTIONS",
            "STEP_FAILURES",
            "STEP_RETRIES",
            "Observability",
            "Redactor",
            "add_secret_values",
            "add_temporal_context",
            "add_trace_context",
            "current_observability",
            "get_logger",
            "is_prompt_key",
            "is_secret_key",
            "record_attempt",
            "record_circuit_breaker_change",
            "record_llm_tokens",
            "record_step",
            "setup_observability",
            "shutdown_observability",
            "tracing_interceptor",
        ]
    )
    for name in beluga_temporal.observability.__all__:
        assert hasattr(beluga_temporal.observability, name)


def test_receiver_is_exported_from_testing() -> None:
    assert {"OTLPReceiver", "ReceivedSpan", "MetricPoint"} <= set(beluga_temporal.testing.__all__)
