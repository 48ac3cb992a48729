"""Datasette plugin: `?_bom=1` on any .csv URL starts the file with a UTF-8 byte-order mark.

Spreadsheets (Excel above all) read a CSV without a BOM in the local code page,
which turns Arabic into mojibake; with `_bom=1` they read it as UTF-8. Datasette
ignores parameters that start with "_", so the CSV itself is unchanged.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from datasette import hookimpl

BOM = "\ufeff".encode("utf-8")
CSV_TYPES = (b"text/csv", b"text/plain")


def wants_bom(scope) -> bool:
    if scope.get("type") != "http" or not scope.get("path", "").endswith(".csv"):
        return False
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return query.get("_bom", ["0"])[-1] not in ("", "0", "off", "false")


def add_bom(app):
    async def app_with_bom(scope, receive, send):
        if not wants_bom(scope):
            await app(scope, receive, send)
            return
        state = {"csv": False, "sent": False}

        async def send_with_bom(message):
            if message["type"] == "http.response.start":
                headers = []
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        state["csv"] = value.split(b";")[0].strip().lower() in CSV_TYPES
                    headers.append([name, value])
                if state["csv"] and message.get("status", 200) == 200:
                    for header in headers:
                        if header[0].lower() == b"content-length":
                            header[1] = str(int(header[1]) + len(BOM)).encode()
                else:
                    state["csv"] = False
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and state["csv"] and not state["sent"]:
                state["sent"] = True
                message = {**message, "body": BOM + message.get("body", b"")}
            await send(message)

        await app(scope, receive, send_with_bom)

    return app_with_bom


@hookimpl
def asgi_wrapper(datasette):
    return add_bom
