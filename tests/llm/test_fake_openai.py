"""`beluga_temporal.testing.FakeOpenAIServer` over plain HTTP (stdlib client)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest

from beluga_temporal.testing import FakeOpenAIServer


def post(
    server: FakeOpenAIServer, body: dict[str, Any], key: str = "k"
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi there"}]}


def test_script_is_served_in_order_then_defaults() -> None:
    with FakeOpenAIServer() as server:
        server.fail(429, headers={"Retry-After": "1"}).reply("first").reply({"a": 1})
        status, headers, body = post(server, CHAT)
        assert status == 429
        assert headers["Retry-After"] == "1"
        assert body["error"]["type"] == "rate_limit_error"
        assert post(server, CHAT)[2]["choices"][0]["message"]["content"] == "first"
        assert post(server, CHAT)[2]["choices"][0]["message"]["content"] == '{"a": 1}'
        completion = post(server, CHAT)[2]
        assert completion["object"] == "chat.completion"
        assert completion["choices"][0]["message"]["content"] == server.default_text
        assert completion["usage"]["prompt_tokens"] == 2
        assert server.pending == 0
        assert len(server.completion_requests) == 4


def test_default_reply_follows_the_requested_format() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 3}},
        "required": ["n"],
    }
    with FakeOpenAIServer() as server:
        with_schema = {
            **CHAT,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": schema},
            },
        }
        assert json.loads(post(server, with_schema)[2]["choices"][0]["message"]["content"]) == {
            "n": 3
        }
        json_mode = {**CHAT, "response_format": {"type": "json_object"}}
        assert post(server, json_mode)[2]["choices"][0]["message"]["content"] == "{}"


def test_requests_are_recorded_with_headers_and_body() -> None:
    with FakeOpenAIServer() as server:
        post(server, CHAT, key="sk-abc")
        [request] = server.requests
        assert (request.method, request.path) == ("POST", "/v1/chat/completions")
        assert request.authorization == "Bearer sk-abc"
        assert request.messages == CHAT["messages"]


def test_api_key_is_enforced_without_echoing_it() -> None:
    with FakeOpenAIServer(api_key="right") as server:
        status, _, body = post(server, CHAT, key="wrong-key")
        assert status == 401
        assert "wrong-key" not in json.dumps(body)
        assert post(server, CHAT, key="right")[0] == 200


def test_raw_responses_and_unknown_routes() -> None:
    with FakeOpenAIServer() as server:
        server.respond(502, "<html>bad gateway</html>", headers={"Content-Type": "text/html"})
        request = urllib.request.Request(
            f"{server.base_url}/chat/completions", data=json.dumps(CHAT).encode()
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=10)
        assert info.value.code == 502
        assert info.value.read() == b"<html>bad gateway</html>"
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{server.base_url}/embeddings", timeout=10)
        assert missing.value.code == 404


def test_wait_for_requests_blocks_until_they_arrive() -> None:
    with FakeOpenAIServer() as server:
        thread = threading.Thread(target=post, args=(server, CHAT))
        thread.start()
        assert len(server.wait_for_requests(1, timeout=10)) == 1
        thread.join()
        with pytest.raises(TimeoutError):
            server.wait_for_requests(2, timeout=0.05)


def test_base_url_needs_a_started_server() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = FakeOpenAIServer().base_url
