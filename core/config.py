"""Settings read from the environment only, validated once at start.

Every setting may also be given as NAME_FILE pointing at a file that holds the
value (Docker/Kubernetes secrets), so secrets never have to sit in the
environment or the repository.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.db_url import normalize_database_url
from core.production import weak_production_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SUPPORTED_LOCALES = ("zh_CN", "en")

KUAIDI100_DEFAULT_URL = "https://poll.kuaidi100.com"
# Outbox events that may go out as WeChat template messages (WECHAT_TEMPLATE_<EVENT> names the template).
WECHAT_TEMPLATE_EVENTS = ("order_confirmed", "shipped", "address_changed", "delayed", "out_for_delivery",
                          "delivered", "dispute_update")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def _read(env: dict[str, str], name: str) -> str | None:
    file_name = env.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={file_name!r} cannot be read: {exc.strerror}") from exc
    value = env.get(name)
    return value if value not in (None, "") else None


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    secret_key: str = field(repr=False)
    timezone: str
    host: str
    port: int
    var_dir: Path
    default_locale: str
    public_base_url: str
    sms_provider: str = "console"
    sms_http_url: str = ""
    sms_http_key: str = field(default="", repr=False)
    sms_http_secret: str = field(default="", repr=False)
    sms_http_timeout: float = 5.0
    sms_signature: str = "订单服务台"
    sms_allowed_country_codes: tuple[int, ...] = (86,)
    session_idle_minutes: int = 120
    session_max_hours: int = 72
    frame_ancestors: str = "'self'"
    tracking_link_days: int = 30
    kuaidi100_salt: str = field(default="", repr=False)
    kuaidi100_customer: str = ""
    kuaidi100_key: str = field(default="", repr=False)
    kuaidi100_base_url: str = "https://poll.kuaidi100.com"
    retention_years: int = 3
    metrics_token: str = field(default="", repr=False)
    outbox_lease_seconds: int = 300
    evidence_signing_p12: str = ""
    evidence_signing_p12_password: str = field(default="", repr=False)
    upload_dir: Path = Path("var/uploads")
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = field(default="", repr=False)
    s3_region: str = "us-east-1"
    database_url_is_default: bool = field(default=False, repr=False)
    wechat_app_id: str = ""
    wechat_app_secret: str = field(default="", repr=False)
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_oauth_base: str = "https://open.weixin.qq.com"
    wechat_timeout: float = 5.0
    # Template message id per outbox event (shipped, delivered, ...); an event without one goes by SMS.
    wechat_templates: tuple[tuple[str, str], ...] = ()
    # E-mail copies of order news: console (var/email-outbox.jsonl), smtp, or off.
    email_provider: str = "console"
    email_from: str = "orderdesk@localhost"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = True
    smtp_timeout: float = 10.0

    @property
    def email_enabled(self) -> bool:
        return self.email_provider != "off"

    @property
    def wechat_enabled(self) -> bool:
        """An official account is configured: WeChat sign-in and template messages are on."""
        return bool(self.wechat_app_id and self.wechat_app_secret)

    def wechat_template(self, event: str) -> str | None:
        return dict(self.wechat_templates).get(event)

    @property
    def is_prod(self) -> bool:
        return self.env == "prod"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def derived_secret(self, purpose: str) -> str:
        """A development stand-in for an integration secret, derived from SECRET_KEY
        so that no shared default ever sits in the repository."""
        import hashlib
        import hmac

        return hmac.new(self.secret_key.encode(), purpose.encode(), hashlib.sha256).hexdigest()[:32]

    @property
    def push_salt(self) -> str:
        """The Kuaidi100 push salt; in development derived from SECRET_KEY when unset."""
        if self.kuaidi100_salt or self.is_prod:
            return self.kuaidi100_salt
        return self.derived_secret("kuaidi100-salt")

    @property
    def query_credentials(self) -> tuple[str, str]:
        """Kuaidi100 query (customer, key); in development stand-ins for the simulator."""
        if self.is_prod or (self.kuaidi100_customer and self.kuaidi100_key):
            return self.kuaidi100_customer, self.kuaidi100_key
        return self.kuaidi100_customer or "orderdesk-dev", self.kuaidi100_key or self.derived_secret("kuaidi100-key")

    @property
    def carrier_polling_configured(self) -> bool:
        """Real Kuaidi100 credentials, or a base URL pointing elsewhere (the simulator):
        without either, a poll could only fail, shipment after shipment."""
        return bool(self.kuaidi100_customer and self.kuaidi100_key) or self.kuaidi100_base_url != KUAIDI100_DEFAULT_URL

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _dev_secret_key(var_dir: Path) -> str:
    """A development key generated once and kept under var/ so sessions survive restarts."""
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    return key


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    problems: list[str] = []

    mode = (_read(env, "ORDERDESK_ENV") or "dev").lower()
    if mode not in ("dev", "prod"):
        problems.append(f"ORDERDESK_ENV must be 'dev' or 'prod', got {mode!r}")

    var_dir = Path(_read(env, "ORDERDESK_VAR_DIR") or PROJECT_ROOT / "var").resolve()

    raw_db = _read(env, "DATABASE_URL")
    database_url = normalize_database_url(raw_db or f"sqlite:///{var_dir / 'orderdesk.db'}")
    scheme = urlsplit(database_url).scheme
    if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
        problems.append(f"DATABASE_URL must be a sqlite:// or postgresql:// URL, got scheme {scheme!r}")

    timezone = _read(env, "ORDERDESK_TIMEZONE") or "Asia/Shanghai"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"ORDERDESK_TIMEZONE {timezone!r} is not a known IANA time zone")

    raw_port = _read(env, "PORT") or "8000"
    port = 0
    try:
        port = int(raw_port)
        if not 1 <= port <= 65535:
            raise ValueError
    except ValueError:
        problems.append(f"PORT must be a number from 1 to 65535, got {raw_port!r}")

    host = _read(env, "HOST") or "127.0.0.1"

    locale = _read(env, "ORDERDESK_DEFAULT_LOCALE") or "zh_CN"
    if locale not in SUPPORTED_LOCALES:
        problems.append(f"ORDERDESK_DEFAULT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)}, got {locale!r}")

    public_base_url = (_read(env, "PUBLIC_BASE_URL") or f"http://127.0.0.1:{raw_port}").rstrip("/")
    if urlsplit(public_base_url).scheme not in ("http", "https"):
        problems.append(f"PUBLIC_BASE_URL must start with http:// or https://, got {public_base_url!r}")

    secret_key = _read(env, "SECRET_KEY")
    if mode == "prod":
        if not secret_key:
            problems.append("SECRET_KEY (or SECRET_KEY_FILE) is required when ORDERDESK_ENV=prod")
        if not raw_db:
            problems.append("DATABASE_URL must be set explicitly when ORDERDESK_ENV=prod")
        if not public_base_url.startswith("https://"):
            problems.append("PUBLIC_BASE_URL must be an https:// URL when ORDERDESK_ENV=prod")
    elif secret_key is not None and len(secret_key) < 16:
        problems.append("SECRET_KEY is too short (at least 16 characters)")

    def integer(name: str, default: int, low: int, high: int) -> int:
        raw = _read(env, name)
        if raw is None:
            return default
        try:
            value = int(raw)
            if not low <= value <= high:
                raise ValueError
        except ValueError:
            problems.append(f"{name} must be a whole number from {low} to {high}, got {raw!r}")
            return default
        return value

    sms_provider = (_read(env, "SMS_PROVIDER") or "console").lower()
    sms_http_url = _read(env, "SMS_HTTP_URL") or ""
    sms_http_key = _read(env, "SMS_HTTP_KEY") or ""
    sms_http_secret = _read(env, "SMS_HTTP_SECRET") or ""
    if sms_provider not in ("console", "http"):
        problems.append(f"SMS_PROVIDER must be 'console' or 'http', got {sms_provider!r}")
    if sms_provider == "http":
        if urlsplit(sms_http_url).scheme not in ("http", "https"):
            problems.append("SMS_HTTP_URL must be an http(s) URL when SMS_PROVIDER=http")
        if not sms_http_key or not sms_http_secret:
            problems.append("SMS_HTTP_KEY and SMS_HTTP_SECRET are required when SMS_PROVIDER=http")
    if mode == "prod" and sms_provider == "console":
        problems.append("SMS_PROVIDER=console only logs codes; set SMS_PROVIDER=http when ORDERDESK_ENV=prod")
    sms_timeout = integer("SMS_HTTP_TIMEOUT_SECONDS", 5, 1, 60)

    raw_countries = _read(env, "SMS_ALLOWED_COUNTRY_CODES") or "86"
    try:
        countries = tuple(int(c.strip().lstrip("+")) for c in raw_countries.split(",") if c.strip())
        if not countries:
            raise ValueError
    except ValueError:
        problems.append(f"SMS_ALLOWED_COUNTRY_CODES must be a comma-separated list like 86,852, got {raw_countries!r}")
        countries = (86,)

    # Without a mail server in production e-mail is off, rather than "sent" to a file nobody reads.
    email_provider = (_read(env, "EMAIL_PROVIDER") or ("off" if mode == "prod" else "console")).lower()
    email_from = _read(env, "EMAIL_FROM") or ""
    smtp_host = _read(env, "SMTP_HOST") or ""
    smtp_port = integer("SMTP_PORT", 587, 1, 65535)
    smtp_username = _read(env, "SMTP_USERNAME") or ""
    smtp_password = _read(env, "SMTP_PASSWORD") or ""
    smtp_timeout = integer("SMTP_TIMEOUT_SECONDS", 10, 1, 120)
    raw_starttls = (_read(env, "SMTP_STARTTLS") or "true").lower()
    if raw_starttls not in ("true", "false", "1", "0", "yes", "no"):
        problems.append(f"SMTP_STARTTLS must be true or false, got {raw_starttls!r}")
    if email_provider not in ("console", "smtp", "off"):
        problems.append(f"EMAIL_PROVIDER must be 'console', 'smtp' or 'off', got {email_provider!r}")
    if email_provider == "smtp":
        if not smtp_host:
            problems.append("SMTP_HOST is required when EMAIL_PROVIDER=smtp")
        if not email_from or "@" not in email_from:
            problems.append("EMAIL_FROM (the sender address, e.g. 订单服务台 <orders@shop.example>) is required "
                            "when EMAIL_PROVIDER=smtp")
        if bool(smtp_username) != bool(smtp_password):
            problems.append("SMTP_USERNAME and SMTP_PASSWORD go together: set both or neither")
    if mode == "prod" and email_provider == "console":
        problems.append("EMAIL_PROVIDER=console only writes a file; set EMAIL_PROVIDER=smtp (or off) when "
                        "ORDERDESK_ENV=prod")

    idle = integer("PORTAL_SESSION_IDLE_MINUTES", 120, 5, 24 * 60)
    max_hours = integer("PORTAL_SESSION_MAX_HOURS", 72, 1, 24 * 90)
    link_days = integer("TRACKING_LINK_DAYS", 30, 1, 365)
    frame_ancestors = _read(env, "FRAME_ANCESTORS") or "'self'"
    # E-commerce law keeps order records at least 3 years; personal data goes after that.
    retention_years = integer("ORDERDESK_RETENTION_YEARS", 3, 3, 30)
    # How long a worker may hold a message it is sending before another may take it over.
    outbox_lease = integer("ORDERDESK_OUTBOX_LEASE_SECONDS", 300, 1, 3600)
    if any(ch in frame_ancestors for ch in ";,\n\r"):
        problems.append("FRAME_ANCESTORS is a space-separated list of sources, e.g. 'self' https://shop.example")

    kuaidi100_base_url = (_read(env, "KUAIDI100_BASE_URL") or KUAIDI100_DEFAULT_URL).rstrip("/")
    if urlsplit(kuaidi100_base_url).scheme not in ("http", "https"):
        problems.append(f"KUAIDI100_BASE_URL must be an http(s) URL, got {kuaidi100_base_url!r}")
    signing_p12 = _read(env, "EVIDENCE_SIGNING_P12") or ""
    if signing_p12 and not Path(signing_p12).is_file():
        problems.append(f"EVIDENCE_SIGNING_P12={signing_p12!r} is not a readable file")

    wechat_app_id = _read(env, "WECHAT_APP_ID") or ""
    wechat_app_secret = _read(env, "WECHAT_APP_SECRET") or ""
    if bool(wechat_app_id) != bool(wechat_app_secret):
        problems.append("WECHAT_APP_ID and WECHAT_APP_SECRET go together: set both or neither")
    wechat_bases = {}
    for name, default in (("WECHAT_API_BASE", "https://api.weixin.qq.com"),
                          ("WECHAT_OAUTH_BASE", "https://open.weixin.qq.com")):
        value = (_read(env, name) or default).rstrip("/")
        scheme = urlsplit(value).scheme
        if scheme not in ("http", "https"):
            problems.append(f"{name} must be an http(s) URL, got {value!r}")
        elif mode == "prod" and wechat_app_id and scheme != "https":
            problems.append(f"{name} must be an https:// URL when ORDERDESK_ENV=prod")
        wechat_bases[name] = value
    wechat_timeout = integer("WECHAT_TIMEOUT_SECONDS", 5, 1, 60)
    wechat_templates = tuple(
        (event, template_id) for event in WECHAT_TEMPLATE_EVENTS
        if (template_id := _read(env, f"WECHAT_TEMPLATE_{event.upper()}"))
    )

    upload_dir = Path(_read(env, "ORDERDESK_UPLOAD_DIR") or var_dir / "uploads").resolve()
    s3_endpoint_url = (_read(env, "S3_ENDPOINT_URL") or "").rstrip("/")
    s3_bucket = _read(env, "S3_BUCKET") or ""
    s3_access_key_id = _read(env, "S3_ACCESS_KEY_ID") or ""
    s3_secret_access_key = _read(env, "S3_SECRET_ACCESS_KEY") or ""
    if s3_endpoint_url and urlsplit(s3_endpoint_url).scheme not in ("http", "https"):
        problems.append(f"S3_ENDPOINT_URL must be an http(s) URL, got {s3_endpoint_url!r}")
    if (s3_endpoint_url or s3_access_key_id or s3_secret_access_key) and not s3_bucket:
        problems.append("S3_BUCKET is required when any other S3_ setting is given")
    if bool(s3_access_key_id) != bool(s3_secret_access_key):
        problems.append("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together (or neither, for the default "
                        "credential chain)")

    if mode == "prod":
        problems += weak_production_settings(
            urls={"SMS_HTTP_URL": sms_http_url if sms_provider == "http" else "",
                  "KUAIDI100_BASE_URL": kuaidi100_base_url, "S3_ENDPOINT_URL": s3_endpoint_url},
            secrets={"SECRET_KEY": secret_key or "", "KUAIDI100_SALT": _read(env, "KUAIDI100_SALT") or "",
                     "SMS_HTTP_SECRET": sms_http_secret if sms_provider == "http" else "",
                     "METRICS_TOKEN": _read(env, "METRICS_TOKEN") or ""})

    if problems:
        raise ConfigError("Invalid configuration:\n  - " + "\n  - ".join(problems))

    return Settings(
        env=mode,
        database_url=database_url,
        secret_key=secret_key or _dev_secret_key(var_dir),
        timezone=timezone,
        host=host,
        port=port,
        var_dir=var_dir,
        default_locale=locale,
        public_base_url=public_base_url,
        sms_provider=sms_provider,
        sms_http_url=sms_http_url,
        sms_http_key=sms_http_key,
        sms_http_secret=sms_http_secret,
        sms_http_timeout=float(sms_timeout),
        sms_signature=_read(env, "SMS_SIGNATURE") or "订单服务台",
        sms_allowed_country_codes=countries,
        session_idle_minutes=idle,
        session_max_hours=max_hours,
        frame_ancestors=frame_ancestors,
        tracking_link_days=link_days,
        retention_years=retention_years,
        metrics_token=_read(env, "METRICS_TOKEN") or "",
        outbox_lease_seconds=outbox_lease,
        kuaidi100_salt=_read(env, "KUAIDI100_SALT") or "",
        kuaidi100_customer=_read(env, "KUAIDI100_CUSTOMER") or "",
        kuaidi100_key=_read(env, "KUAIDI100_KEY") or "",
        kuaidi100_base_url=kuaidi100_base_url,
        evidence_signing_p12=signing_p12,
        evidence_signing_p12_password=_read(env, "EVIDENCE_SIGNING_P12_PASSWORD") or "",
        upload_dir=upload_dir,
        s3_endpoint_url=s3_endpoint_url,
        s3_bucket=s3_bucket,
        s3_access_key_id=s3_access_key_id,
        s3_secret_access_key=s3_secret_access_key,
        s3_region=_read(env, "S3_REGION") or "us-east-1",
        database_url_is_default=raw_db is None,
        wechat_app_id=wechat_app_id,
        wechat_app_secret=wechat_app_secret,
        wechat_api_base=wechat_bases["WECHAT_API_BASE"],
        wechat_oauth_base=wechat_bases["WECHAT_OAUTH_BASE"],
        wechat_timeout=float(wechat_timeout),
        wechat_templates=wechat_templates,
        email_provider=email_provider,
        email_from=email_from or "orderdesk@localhost",
        smtp_host=smtp_host,
        smtp_port=smtp_port,
        smtp_username=smtp_username,
        smtp_password=smtp_password,
        smtp_starttls=raw_starttls in ("true", "1", "yes"),
        smtp_timeout=float(smtp_timeout),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
