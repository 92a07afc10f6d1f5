"""One JSON POST to a URL, its answer classified as a `Delivery`: what the webhook pager and
the webhook and Slack notifiers share. Each says only what it sends and how to read an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests

from receiver.delivery.outcome import Delivery, error_body, http_failure, unreachable


class JsonPoster:
    """A session that POSTs JSON documents to one URL (often a secret: keep it out of reprs)."""

    def __init__(
        self,
        url: str,
        *,
        service: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10,
        error_of: Callable[[requests.Response], str] = error_body,
    ) -> None:
        self.url, self.service, self._timeout, self._error_of = url, service, timeout, error_of
        self._session = requests.Session()
        self._session.headers.update(headers or {})

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    def post(self, document: Any) -> Delivery:
        """One POST; 4xx (but 408/429) is permanent, 5xx and no answer are retryable."""
        try:
            response = self._session.post(self.url, json=document, timeout=self._timeout)
        except requests.RequestException as error:
            return unreachable(self.service, error)
        if response.ok:
            return Delivery(ok=True, detail=f"{self.service} answered {response.status_code}")
        return http_failure(response, service=self.service, error_of=self._error_of)
