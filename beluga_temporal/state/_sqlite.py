from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import threading
import weakref
from collections import deque
from pathlib import Path
from typing import Any

import pydantic_core

from beluga_temporal.state._base import Change, Watch

_SCHEMA = """
CREATE TABLE IF NOT EXISTS beluga_state (
    key TEXT PRIMARY KEY,
    value TEXT,
    version INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS beluga_state_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    value TEXT,
    deleted INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS beluga_state_log_key ON beluga_state_log (key, seq);
"""


def _create_private(path: Path) -> None:
    """Create the database file readable and writable by its owner only, if missing.

    SQLite would create it with the umask's default (usually world-readable); its
    `-wal` and `-shm` files copy the database file's mode, so they are private too.
    """
    if str(path) != ":memory:":
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _connect(path: Path) -> sqlite3.Connection:
    # autocommit (isolation_level=None): transactions are explicit BEGIN IMMEDIATE
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, across processes
    conn.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
    return conn


def _encode(value: Any) -> str:
    # pydantic models, datetimes, UUIDs… become plain JSON (models via model_dump(mode="json"))
    return json.dumps(pydantic_core.to_jsonable_python(value))


def _decode(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class SqliteStore:
    """A durable `StateStore` in a SQLite file, shared by every process that opens it.

    Values are stored as JSON (pydantic models as `model_dump(mode="json")`), so `get`
    returns plain JSON data. Every change is appended to a log; watchers read the log in
    order, so they see every change while they keep up. The log keeps the last
    `history` versions per key: a watcher further behind skips to those and still
    receives the latest value (`Change.version` jumps). Watchers in other processes notice
    changes by polling SQLite's `data_version` every `poll_interval` seconds; watchers in
    the writing process are woken at once.

    Args:
        path: The database file; created with its tables when missing, readable and
            writable by its owner only (mode 0600, like its `-wal` and `-shm` files).
        poll_interval: Seconds between checks for other processes' changes. Default 0.05.
        history: Versions of each key kept in the change log (> 0). Default 1000.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, poll_interval: float = 0.05, history: int = 1000
    ) -> None:
        if history <= 0:
            raise ValueError("history must be greater than 0")
        self.path = Path(path)
        self.poll_interval = poll_interval
        self._history = history
        _create_private(self.path)
        self._conn = _connect(self.path)
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()  # one statement sequence at a time on the shared connection
        self._watchers: weakref.WeakSet[_SqliteWatch] = weakref.WeakSet()

    async def set(self, key: str, value: Any) -> int:
        """Store `value` under `key` and notify watchers.

        Returns:
            The key's new version.
        """
        version = await asyncio.to_thread(self._write, key, _encode(value), False)
        assert version is not None  # only a delete of a missing key writes nothing
        self._wake(key)
        return version

    async def get(self, key: str, default: Any = None) -> Any:
        """Return the value under `key`, or `default` when absent or deleted."""
        row = await asyncio.to_thread(self._read, key)
        return default if row is None else _decode(row)

    async def delete(self, key: str) -> bool:
        """Delete `key`; watchers receive a `deleted=True` change.

        Returns:
            Whether the key existed (deleting a missing key notifies nobody).
        """
        existed = await asyncio.to_thread(self._write, key, None, True) is not None
        if existed:
            self._wake(key)
        return existed

    def watch(self, key: str) -> Watch:
        """Subscribe to the changes of `key` committed from now on, by any process."""
        watcher = _SqliteWatch(self, key)
        self._watchers.add(watcher)
        return watcher

    def close(self) -> None:
        """Close the database connection (watchers keep their own until closed)."""
        with self._lock:
            self._conn.close()

    def _write(self, key: str, text: str | None, deleted: bool) -> int | None:
        """Commit one change; return its version, or `None` when deleting a missing key."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")  # take the write lock before reading version
            try:
                row = self._conn.execute(
                    "SELECT version, deleted FROM beluga_state WHERE key = ?", (key,)
                ).fetchone()
                if deleted and (row is None or row[1]):
                    self._conn.execute("ROLLBACK")
                    return None
                version = (row[0] if row else 0) + 1
                self._store(key, text, version, deleted)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return version

    def _store(self, key: str, text: str | None, version: int, deleted: bool) -> None:
        self._conn.execute(
            "INSERT INTO beluga_state (key, value, version, deleted) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
            "version = excluded.version, deleted = excluded.deleted",
            (key, text, version, deleted),
        )
        self._conn.execute(
            "INSERT INTO beluga_state_log (key, version, value, deleted) VALUES (?, ?, ?, ?)",
            (key, version, text, deleted),
        )
        self._conn.execute(
            "DELETE FROM beluga_state_log WHERE key = ? AND version <= ?",
            (key, version - self._history),
        )

    def _read(self, key: str) -> str | None:
        row = self._read_row(key)
        return None if row is None else row[0]

    def _read_row(self, key: str) -> tuple[str] | None:
        with self._lock:
            row: tuple[str] | None = self._conn.execute(
                "SELECT value FROM beluga_state WHERE key = ? AND deleted = 0", (key,)
            ).fetchone()
        return row

    def _wake(self, key: str) -> None:
        for watcher in list(self._watchers):
            if watcher.key == key:
                watcher.wake()


class _SqliteWatch(Watch):
    def __init__(self, store: SqliteStore, key: str) -> None:
        super().__init__(key)
        self._poll_interval = store.poll_interval
        self._conn = _connect(store.path)  # own connection: data_version counts others' commits
        self._conn_lock = threading.Lock()  # aclose may race a _fetch running in a thread
        self._data_version = -1
        self._pending: deque[Change] = deque()
        self._woken = asyncio.Event()
        # the subscription point is now, not the first __anext__, so no change slips between
        self._seq = self._conn.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM beluga_state_log"
        ).fetchone()[0]

    def wake(self) -> None:
        self._woken.set()

    async def _next(self) -> Change:
        while not self._pending:
            if self.closed:
                raise StopAsyncIteration
            self._woken.clear()
            self._pending.extend(await asyncio.to_thread(self._fetch))
            if not self._pending:
                await self._sleep()
        return self._pending.popleft()

    async def _sleep(self) -> None:
        # a timeout is the normal case: time to look for other processes' commits
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), self._poll_interval)

    def _fetch(self) -> list[Change]:
        with self._conn_lock:
            return [] if self.closed else self._fetch_unlocked()

    def _fetch_unlocked(self) -> list[Change]:
        data_version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if data_version == self._data_version:
            return []  # nothing committed by any other connection since the last look
        self._data_version = data_version
        rows = self._conn.execute(
            "SELECT seq, version, value, deleted FROM beluga_state_log "
            "WHERE key = ? AND seq > ? ORDER BY seq",
            (self.key, self._seq),
        ).fetchall()
        if rows:
            self._seq = rows[-1][0]
        return [Change(self.key, _decode(v), version, bool(d)) for _, version, v, d in rows]

    async def aclose(self) -> None:
        await super().aclose()
        self._woken.set()
        with self._conn_lock:
            self._conn.close()
