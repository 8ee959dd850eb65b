import os
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import temporalio.service

from beluga_temporal.errors import ConfigurationError
from beluga_temporal.settings import BelugaSettings, parse_duration

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in os.environ:
        if name.upper().startswith("BELUGA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray ./beluga.yaml


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def load_error(tmp_path: Path, text: str) -> str:
    config = write(tmp_path / "bad.yaml", text)
    with pytest.raises(ConfigurationError) as caught:
        BelugaSettings.load(config)
    return str(caught.value)


# --- sources and precedence -------------------------------------------------------------


def test_defaults_without_file_or_environment() -> None:
    settings = BelugaSettings.load()
    assert settings.orchestration.chain.timeout == timedelta(seconds=300)
    assert settings.orchestration.chain.max_retries == 3
    assert settings.orchestration.graph.max_workers == 10
    assert settings.orchestration.graph.parallel_execution is True
    assert settings.orchestration.workflow.temporal.address == "localhost:7233"
    assert settings.orchestration.workflow.temporal.task_queue == "beluga-workflows"
    assert settings.orchestration.workflow.timeout == timedelta(hours=1)
    assert settings.llm.model == "gpt-4o"
    assert settings.observability.otlp_endpoint is None
    assert settings.observability.capture_prompts is False
    assert settings.local.kind == "dev"


def test_the_seed_document_yaml_loads(tmp_path: Path) -> None:
    config = write(
        tmp_path / "seed.yaml",
        """
        orchestration:
          chain:
            timeout: 120s
            max_retries: 4
          graph:
            max_workers: 5
            parallel_execution: false
            timeout: 10m
          workflow:
            temporal:
              address: "temporal.internal:7233"
              namespace: "orders"
              task_queue: "order-queue"
            timeout: 2h
            max_retries: 7
        llm:
          provider: "openai"
          model: "gpt-4o-mini"
          timeout: 45s
        """,
    )
    settings = BelugaSettings.load(config)
    orchestration = settings.orchestration
    assert orchestration.chain.timeout == timedelta(seconds=120)
    assert orchestration.chain.max_retries == 4
    assert orchestration.graph.max_workers == 5
    assert orchestration.graph.parallel_execution is False
    assert orchestration.graph.timeout == timedelta(minutes=10)
    assert orchestration.workflow.temporal.namespace == "orders"
    assert orchestration.workflow.timeout == timedelta(hours=2)
    assert orchestration.workflow.max_retries == 7
    assert settings.llm.timeout == timedelta(seconds=45)
    # untouched keys keep their defaults
    assert orchestration.chain.retry_delay == timedelta(seconds=1)


def test_the_example_file_documents_exactly_the_defaults() -> None:
    assert BelugaSettings.load(REPO_ROOT / "beluga.example.yaml") == BelugaSettings()


def test_beluga_config_variable_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path / "elsewhere.yaml", "llm: {model: from-env-file}")
    monkeypatch.setenv("BELUGA_CONFIG", str(config))
    assert BelugaSettings.load().llm.model == "from-env-file"


def test_beluga_yaml_in_the_working_directory_is_picked_up(tmp_path: Path) -> None:
    write(tmp_path / "beluga.yaml", "llm: {model: from-cwd}")
    assert BelugaSettings.load().llm.model == "from-cwd"


def test_explicit_path_wins_over_beluga_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BELUGA_CONFIG", str(write(tmp_path / "a.yaml", "llm: {model: a}")))
    assert BelugaSettings.load(write(tmp_path / "b.yaml", "llm: {model: b}")).llm.model == "b"


def test_environment_overrides_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(
        tmp_path / "c.yaml",
        """
        orchestration:
          graph: {max_workers: 5, timeout: 60}
          workflow: {temporal: {address: "from-yaml:7233", namespace: yaml-ns}}
        """,
    )
    monkeypatch.setenv("BELUGA_ORCHESTRATION__GRAPH__MAX_WORKERS", "20")
    monkeypatch.setenv("BELUGA_ORCHESTRATION__WORKFLOW__TEMPORAL__ADDRESS", "from-env:7233")
    monkeypatch.setenv("beluga_llm__timeout", "1m")  # names are case-insensitive
    settings = BelugaSettings.load(config)
    assert settings.orchestration.graph.max_workers == 20
    assert settings.orchestration.graph.timeout == timedelta(seconds=60)  # YAML, not overridden
    assert settings.orchestration.workflow.temporal.address == "from-env:7233"
    assert settings.orchestration.workflow.temporal.namespace == "yaml-ns"
    assert settings.llm.timeout == timedelta(minutes=1)


def test_short_aliases_override_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path / "c.yaml", "orchestration: {workflow: {temporal: {address: y:1}}}")
    monkeypatch.setenv("BELUGA_TEMPORAL_ADDRESS", "alias:7233")
    monkeypatch.setenv("BELUGA_TEMPORAL_NAMESPACE", "alias-ns")
    monkeypatch.setenv("BELUGA_TASK_QUEUE", "alias-queue")
    monkeypatch.setenv("BELUGA_OTLP_ENDPOINT", "http://collector:4318")
    settings = BelugaSettings.load(config)
    temporal = settings.orchestration.workflow.temporal
    assert (temporal.address, temporal.namespace, temporal.task_queue) == (
        "alias:7233",
        "alias-ns",
        "alias-queue",
    )
    assert settings.observability.otlp_endpoint == "http://collector:4318"


def test_the_nested_variable_wins_over_its_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELUGA_TASK_QUEUE", "alias")
    monkeypatch.setenv("BELUGA_ORCHESTRATION__WORKFLOW__TEMPORAL__TASK_QUEUE", "nested")
    assert BelugaSettings.load().orchestration.workflow.temporal.task_queue == "nested"


def test_keyword_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELUGA_LLM__MODEL", "env-model")
    assert BelugaSettings(llm={"model": "kwarg-model"}).llm.model == "kwarg-model"


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    assert BelugaSettings.load(write(tmp_path / "e.yaml", "# nothing\n")) == BelugaSettings()


# --- invalid configuration ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "orchestration: {graph: {max_workers: 0}}",
            "orchestration.graph.max_workers: Input should be greater than 0",
        ),
        (
            "orchestration: {chain: {max_retries: -1}}",
            "orchestration.chain.max_retries: Input should be greater than or equal to 1",
        ),
        (
            "orchestration: {chain: {timeout: soon}}",
            "orchestration.chain.timeout: Value error, 'soon' is not a duration",
        ),
        (
            "orchestration: {chain: {timeout: 0}}",
            "orchestration.chain.timeout: Value error, duration must be greater than 0",
        ),
        (
            "orchestration: {chain: {retry_delay: -1s}}",
            "orchestration.chain.retry_delay: Value error, '-1s' is not a duration",
        ),
        (
            "orchestration: {chain: {retry_delay: -1}}",
            "orchestration.chain.retry_delay: Value error, duration must not be negative",
        ),
        (
            "orchestration: {graph: {parallel_execution: maybe}}",
            "orchestration.graph.parallel_execution: Input should be a valid boolean",
        ),
        ("orchestration: {graph: {timout: 5}}", "orchestration.graph.timout: unknown key"),
        ("orchestraton: {}", "orchestraton: unknown key"),
        ("orchestration: []", "orchestration: Input should be a valid dictionary"),
        (
            "orchestration: {workflow: {timeout: yes}}",
            "orchestration.workflow.timeout: Value error, expected a duration",
        ),
        (
            "orchestration: {workflow: {temporal: {address: ''}}}",
            "orchestration.workflow.temporal.address: String should have at least 1 character",
        ),
        (
            "orchestration: {workflow: {temporal: {tls: {client_cert: a.pem, client_key: a.key}}}}",
            "orchestration.workflow.temporal.tls.client_cert: Path does not point to a file",
        ),
        ("llm: {timeout: 5 parsecs}", "llm.timeout: Value error, '5 parsecs' is not a duration"),
        ("llm: {api_key: 12}", "llm.api_key: Input should be a valid string"),
        (
            "observability: {otlp_protocol: udp}",
            "observability.otlp_protocol: Input should be 'grpc' or 'http'",
        ),
        (
            "observability: {log_format: xml}",
            "observability.log_format: Input should be 'auto', 'console' or 'json'",
        ),
        (
            "observability: {log_level: loud}",
            "observability.log_level: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or "
            "'CRITICAL'",
        ),
        ("local: {kind: prod}", "local.kind: Input should be 'dev' or 'time-skipping'"),
    ],
)
def test_each_invalid_key_is_named_with_its_problem(
    tmp_path: Path, yaml_text: str, expected: str
) -> None:
    message = load_error(tmp_path, yaml_text)
    assert f"{tmp_path / 'bad.yaml'}: {expected}" in message


def test_tls_needs_certificate_and_key_together(tmp_path: Path) -> None:
    write(tmp_path / "client.pem", "cert")
    message = load_error(
        tmp_path, "orchestration: {workflow: {temporal: {tls: {client_cert: client.pem}}}}"
    )
    assert (
        "orchestration.workflow.temporal.tls: "
        "Value error, client_cert and client_key must be given together"
    ) in message


def test_every_error_is_listed_one_per_line(tmp_path: Path) -> None:
    message = load_error(
        tmp_path, "orchestration: {graph: {max_workers: 0, typo: 1}}\nllm: {timeout: x}"
    )
    lines = message.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{tmp_path / 'bad.yaml'}: ") for line in lines)


def test_a_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELUGA_ORCHESTRATION__GRAPH__MAX_WORKERS", "many")
    with pytest.raises(ConfigurationError) as caught:
        BelugaSettings.load()
    assert str(caught.value) == (
        "settings: orchestration.graph.max_workers: Input should be a valid integer, unable to "
        "parse string as an integer (from $BELUGA_ORCHESTRATION__GRAPH__MAX_WORKERS)"
    )


def test_a_bad_alias_value_names_the_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELUGA_TASK_QUEUE", "")
    with pytest.raises(ConfigurationError, match=r"task_queue: .* \(from \$BELUGA_TASK_QUEUE\)"):
        BelugaSettings.load()


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, "orchestration:\n  chain:\n    timeout: [30s\nllm: {}\n")
    assert message.startswith(f"{tmp_path / 'bad.yaml'}:4:")
    assert "invalid YAML" in message


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert "top level must be a mapping" in load_error(tmp_path, "- orchestration\n")


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"nope\.yaml: cannot read configuration"):
        BelugaSettings.load(tmp_path / "nope.yaml")


# --- durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (30, 30),
        (2.5, 2.5),
        ("45", 45),
        ("30s", 30),
        ("500ms", 0.5),
        ("5m", 300),
        ("1h", 3600),
        ("1h30m", 5400),
        ("1.5h", 5400),
        ("2d", 172800),
        (" 10 S ", 10),
        (timedelta(seconds=7), 7),
    ],
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["", "s", "10x", "1h30", "m5", "ten seconds", True])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)


# --- Temporal connection and secrets --------------------------------------------------------


def test_temporal_connect_kwargs_defaults() -> None:
    assert BelugaSettings.load().temporal_connect_kwargs() == {
        "target_host": "localhost:7233",
        "namespace": "default",
        "tls": None,
        "api_key": None,
    }


def test_temporal_connect_kwargs_for_temporal_cloud(tmp_path: Path) -> None:
    write(tmp_path / "client.pem", "CERT")
    write(tmp_path / "client.key", "KEY")
    write(tmp_path / "ca.pem", "CA")
    config = write(
        tmp_path / "cloud.yaml",
        """
        orchestration:
          workflow:
            temporal:
              address: my-ns.a1b2c.tmprl.cloud:7233
              namespace: my-ns.a1b2c
              api_key: secret-key-value
              tls:
                client_cert: client.pem
                client_key: client.key
                server_ca: ca.pem
                server_name: my-ns.a1b2c.tmprl.cloud
        """,
    )
    kwargs = BelugaSettings.load(config).temporal_connect_kwargs()
    assert kwargs["target_host"] == "my-ns.a1b2c.tmprl.cloud:7233"
    assert kwargs["namespace"] == "my-ns.a1b2c"
    assert kwargs["api_key"] == "secret-key-value"
    assert kwargs["tls"] == temporalio.service.TLSConfig(
        server_root_ca_cert=b"CA",
        domain="my-ns.a1b2c.tmprl.cloud",
        client_cert=b"CERT",
        client_private_key=b"KEY",
    )


def test_empty_tls_section_means_tls_with_system_roots(tmp_path: Path) -> None:
    config = write(tmp_path / "t.yaml", "orchestration: {workflow: {temporal: {tls: {}}}}")
    assert BelugaSettings.load(config).temporal_connect_kwargs()["tls"] == (
        temporalio.service.TLSConfig()
    )


def test_secrets_do_not_show_in_repr_or_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELUGA_LLM__API_KEY", "sk-live-abc")
    monkeypatch.setenv("BELUGA_ORCHESTRATION__WORKFLOW__TEMPORAL__API_KEY", "tc-live-xyz")
    settings = BelugaSettings.load()
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == "sk-live-abc"
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert "sk-live-abc" not in text
        assert "tc-live-xyz" not in text


def test_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELUGA_OBSERVABILITY__LOG_LEVEL", "debug")
    assert BelugaSettings.load().observability.log_level == "DEBUG"


def test_llm_provider_defaults_to_offline_test_without_an_openai_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert BelugaSettings().llm.provider == "test"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-anything")
    assert BelugaSettings().llm.provider == "openai"


@pytest.mark.parametrize("value", ["inf", "1e20", "99999999999d"])
def test_durations_too_large_are_configuration_errors(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BELUGA_ORCHESTRATION__CHAIN__TIMEOUT", value)
    with pytest.raises(ConfigurationError, match=r"orchestration\.chain\.timeout"):
        BelugaSettings.load()


def test_a_configured_llm_endpoint_or_key_selects_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("BELUGA_LLM__BASE_URL", "http://localhost:11434/v1")
    assert BelugaSettings.load().llm.provider == "openai"
    monkeypatch.setenv("BELUGA_LLM__PROVIDER", "test")  # an explicit choice still wins
    assert BelugaSettings.load().llm.provider == "test"
