"""What production refuses to start with, beyond a missing value: plain-http providers and short secrets."""

from __future__ import annotations

from urllib.parse import urlsplit

# Shared secrets we choose ourselves (the provider-issued ones are as long as the provider makes them).
SECRET_MINIMUMS = {"SECRET_KEY": 32, "KUAIDI100_SALT": 16, "SMS_HTTP_SECRET": 16, "METRICS_TOKEN": 24}
# A relay on the same machine (loopback) never crosses a network.
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def weak_production_settings(*, urls: dict[str, str], secrets: dict[str, str]) -> list[str]:
    """Every outgoing provider is reached over TLS, and every secret we set is long enough not to be
    guessed: the push salt signs what carriers tell us, the SMS secret what we send."""
    problems = []
    for name, url in urls.items():
        if url and urlsplit(url).scheme != "https" and urlsplit(url).hostname not in LOOPBACK:
            problems.append(f"{name} must be an https:// URL when ORDERDESK_ENV=prod")
    for name, minimum in SECRET_MINIMUMS.items():
        if secrets.get(name) and len(secrets[name]) < minimum:
            problems.append(f"{name} must be at least {minimum} characters when ORDERDESK_ENV=prod")
    return problems
