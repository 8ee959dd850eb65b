"""The remote codec server over real HTTP (the protocol the Web UI and `temporal` speak)."""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from beluga_temporal.security import ENCRYPTED_ENCODING, CodecServer, EncryptionCodec, key_id

UI = "http://localhost:8233"
KEY = os.urandom(32)


@pytest.fixture(scope="module")
def server() -> Iterator[CodecServer]:
    with CodecServer(EncryptionCodec(KEY), cors_origins=[UI]) as running:
        yield running


def post(
    url: str, body: bytes, headers: dict[str, str] | None = None, method: str = "POST"
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def as_json(values: list[object]) -> bytes:
    payloads = pydantic_data_converter.payload_converter.to_payloads(values)
    return json_format.MessageToJson(Payloads(payloads=payloads)).encode()


def test_decode_returns_what_the_codec_encrypted(server: CodecServer) -> None:
    status, _, body = post(f"{server.endpoint}/encode", as_json([{"card": "4111"}]))
    assert status == 200
    sealed = json.loads(body)["payloads"]
    assert base64.b64decode(sealed[0]["metadata"]["encoding"]) == ENCRYPTED_ENCODING
    assert base64.b64decode(sealed[0]["metadata"]["encryption-key-id"]).decode() == key_id(KEY)
    assert b"4111" not in base64.b64decode(sealed[0]["data"])

    status, headers, body = post(
        f"{server.endpoint}/default/decode",  # any prefix: only the last segment counts
        json.dumps({"payloads": sealed}).encode(),
        {"Content-Type": "application/json", "X-Namespace": "default"},
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    decoded = json_format.Parse(body, Payloads())
    values = pydantic_data_converter.payload_converter.from_payloads(list(decoded.payloads))
    assert values == [{"card": "4111"}]


def test_preflight_from_the_web_ui_is_allowed(server: CodecServer) -> None:
    status, headers, _ = post(
        f"{server.endpoint}/decode",
        b"",
        {
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
        method="OPTIONS",
    )
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == UI
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "x-namespace" in headers["Access-Control-Allow-Headers"].lower()

    status, headers, _ = post(
        f"{server.endpoint}/decode", as_json(["x"]), {"Origin": UI, "X-Namespace": "default"}
    )
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == UI


def test_other_origins_are_refused(server: CodecServer) -> None:
    status, headers, body = post(
        f"{server.endpoint}/decode", b"", {"Origin": "http://evil.example"}, method="OPTIONS"
    )
    assert status == 403
    assert "Access-Control-Allow-Origin" not in headers
    assert "not allowed" in json.loads(body)["error"]


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/decode", b"{not json", 400, "not JSON"),
        ("/decode", b'{"items": []}', 400, '{"payloads": [...]}'),
        ("/decode", b'{"payloads": [{"metadata": 5}]}', 400, "not a Payloads message"),
        ("/compress", b'{"payloads": []}', 404, "use /encode or /decode"),
    ],
)
def test_bad_requests_get_an_error_status_and_a_message(
    server: CodecServer, path: str, body: bytes, status: int, message: str
) -> None:
    got, _, reply = post(f"{server.endpoint}{path}", body)
    assert got == status
    assert message in json.loads(reply)["error"]


def test_a_payload_from_another_key_is_a_400_naming_the_key_id(server: CodecServer) -> None:
    other = os.urandom(32)
    with CodecServer(EncryptionCodec(other)) as foreign:
        _, _, sealed = post(f"{foreign.endpoint}/encode", as_json(["secret"]))
    status, _, body = post(f"{server.endpoint}/decode", sealed)
    assert status == 400
    assert f"key id '{key_id(other)}'" in json.loads(body)["error"]


def test_namespaces_can_be_restricted() -> None:
    with CodecServer(EncryptionCodec(KEY), namespaces=["orders"]) as only_orders:
        ok, _, _ = post(f"{only_orders.endpoint}/decode", as_json(["x"]), {"X-Namespace": "orders"})
        refused, _, body = post(
            f"{only_orders.endpoint}/decode", as_json(["x"]), {"X-Namespace": "billing"}
        )
    assert ok == 200
    assert refused == 403
    assert "namespace 'billing'" in json.loads(body)["error"]
