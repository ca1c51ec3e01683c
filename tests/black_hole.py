"""A loopback port that accepts connections and never answers: a black-holed server, for tests that
show a silent dependency (signing keys, the database) never stalls the bot."""

from __future__ import annotations

import contextlib
import socket
import threading

__all__ = ["BlackHole"]


class BlackHole:
    """A loopback port that accepts connections and never answers, until it is closed.

    With `then`, only the first connection is held silent: later ones are passed through to `then`
    (host, port), as an endpoint that hung once and then recovered.
    """

    def __init__(self, then: tuple[str, int] | None = None) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        #: As a signing-key (OpenID metadata) endpoint.
        self.url = f"http://127.0.0.1:{self.port}/openid"
        self.connected = threading.Event()
        #: How many connections it has accepted.
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._then = then
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self._held.append(connection)
            self.accepted += 1
            if self._then is not None and self.connected.is_set():
                upstream = socket.create_connection(self._then)
                self._held.append(upstream)
                for source, target in ((connection, upstream), (upstream, connection)):
                    threading.Thread(target=_pipe, args=(source, target), daemon=True).start()
            self.connected.set()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()
        for connection in self._held:
            connection.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes from `source` to `target` until either closes."""
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)
