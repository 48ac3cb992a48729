"""A TCP server on 127.0.0.1 that counts every connection: the target a hostile page or name must never reach."""

from __future__ import annotations

import socket
import threading


class CountingServer:
    """A TCP server on 127.0.0.1 that counts every connection it accepts (and answers a small page)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []  # the first line of each request (empty: a connection that sent nothing)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.settimeout(5)
            try:
                self.requests.append(conn.recv(65536).split(b"\r\n")[0])
            except OSError:
                self.requests.append(b"")
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>secret</body></html>")
            conn.close()

    def close(self):
        self.sock.close()
