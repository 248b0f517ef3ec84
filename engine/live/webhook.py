"""POST each finding to the webhook URL the user names: urllib only, retries with backoff.

The URL is the only place live mode ever connects to, and only because the
user asked. A delivery that keeps failing is not dropped: the finding stays
in the store's outbox and is tried again with the next delivery (and on the
next run with the same ``--state``).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from engine.errors import UsageError

__all__ = ["Webhook", "check_url"]


def check_url(url: str) -> str:
    """The URL if it is an http(s) URL with a host; UsageError otherwise (nothing else is ever contacted)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--webhook {url!r}: give an http:// or https:// URL")
    return url


class Webhook:
    """Delivers JSON lines to one URL, one POST each, retrying failures with exponential backoff."""

    def __init__(
        self,
        url: str,
        *,
        attempts: int = 5,
        backoff: float = 0.5,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = check_url(url)
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.timeout = timeout
        self.sleep = sleep
        self.last_error = ""

    def post(self, line: str) -> bool:
        """Whether the server accepted the finding (a 2xx answer), after up to ``attempts`` tries.

        A 4xx other than 408 and 429 is the server refusing this body, which
        trying again will not change: it is not retried.
        """
        body = line.encode("utf-8")
        for attempt in range(self.attempts):
            request = urllib.request.Request(
                self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    if 200 <= answer.status < 300:
                        return True
                    self.last_error = f"HTTP {answer.status}"
            except urllib.error.HTTPError as exc:
                self.last_error = f"HTTP {exc.code}"
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    return False
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                self.last_error = str(getattr(exc, "reason", exc))
            if attempt + 1 < self.attempts:
                self.sleep(self.backoff * (2**attempt))
        return False
