"""Container health probe: GET /healthz on this instance's health listener, exit 0 when it answers.

Run by the image's HEALTHCHECK (slim images have no curl). The address is DAUMOI_HEALTH_LISTEN
(host:port); a wildcard host (0.0.0.0, ::, empty) is probed on 127.0.0.1. Without it, the webhook
server's /healthz (DAUMOI_WEBHOOK_LISTEN) is probed when a webhook is configured.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping

TIMEOUT = 4.0  # seconds; the HEALTHCHECK allows 5


def address(environ: Mapping[str, str]) -> str | None:
    """The host:port to probe, or None when this instance serves no health endpoint."""
    listen = environ.get("DAUMOI_HEALTH_LISTEN", "").strip()
    if not listen and environ.get("DAUMOI_WEBHOOK_URL", "").strip():
        listen = environ.get("DAUMOI_WEBHOOK_LISTEN", "").strip() or "127.0.0.1:8080"
    if not listen:
        return None
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def main(environ: Mapping[str, str]) -> int:
    """Probe once; print one line saying what failed."""
    where = address(environ)
    if where is None:
        print("healthcheck: DAUMOI_HEALTH_LISTEN is not set, nothing to probe", file=sys.stderr)
        return 1
    url = f"http://{where}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
            status = int(answer.status)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"healthcheck: {url}: {exc}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"healthcheck: {url} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(os.environ))
