"""Name what went wrong with a request, once, so every fault has its own counter.

`fault_reason(failure)` maps Scrapy's and Twisted's exceptions to short reasons
(`timeout`, `http_503`, `redirect_loop`, `too_large`, ...). The spider counts
them as `arshif/fault/<reason>` and the run's `crawls.faults` keeps them.
"""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from scrapy.spidermiddlewares.httperror import HttpError

FAULT_PREFIX = "arshif/fault/"

_BY_TYPE = (
    (DownloadTimeoutError, "timeout"),
    (DownloadConnectionRefusedError, "connection_refused"),
    (CannotResolveHostError, "dns_error"),
    (ResponseDataLossError, "truncated_body"),
    (UnsupportedURLSchemeError, "unsupported_scheme"),
    (DownloadCancelledError, "too_large"),  # Scrapy cancels a download over DOWNLOAD_MAXSIZE
    (DownloadFailedError, "connection_lost"),
)
_BY_MESSAGE = (
    ("max redirections", "redirect_loop"),
    ("max download size", "too_large"),
    ("download_maxsize", "too_large"),  # a gzip bomb stopped during decompression
    ("larger than the download max size", "too_large"),
    ("larger than download max size", "too_large"),
    ("unsafe address", "unsafe_address"),
    ("robots.txt", "robots_forbidden"),
    ("offsite", "offsite"),
)


def fault_reason(failure) -> str:
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    for kind, reason in _BY_TYPE:
        if failure.check(kind):
            return reason
    message = failure.getErrorMessage().lower()
    if failure.check(IgnoreRequest):
        for needle, reason in _BY_MESSAGE:
            if needle in message:
                return reason
        return "ignored"
    name = failure.type.__name__ if failure.type else "error"
    if "Timeout" in name:
        return "timeout"
    if "ConnectionLost" in name or "ConnectionDone" in name or "ResponseFailed" in name or "reset" in message:
        return "connection_lost"
    return name.lower()
