import os
import stat

import pytest

from core.config import ConfigError, load_settings


def test_defaults_for_development(tmp_path):
    settings = load_settings({"ORDERDESK_VAR_DIR": str(tmp_path)})
    assert settings.env == "dev"
    assert settings.database_url == f"sqlite:///{tmp_path / 'orderdesk.db'}"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.port == 8000
    assert settings.default_locale == "zh_CN"


def test_dev_secret_is_generated_once_and_kept_private(tmp_path):
    first = load_settings({"ORDERDESK_VAR_DIR": str(tmp_path)})
    second = load_settings({"ORDERDESK_VAR_DIR": str(tmp_path)})
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_postgres_urls_use_psycopg(tmp_path):
    settings = load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), "DATABASE_URL": "postgresql://u@h/db"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ORDERDESK_ENV": "staging"}, "ORDERDESK_ENV must be 'dev' or 'prod'"),
        ({"PORT": "eighty"}, "PORT must be a number"),
        ({"PORT": "70000"}, "PORT must be a number"),
        ({"ORDERDESK_TIMEZONE": "Mars/Olympus"}, "not a known IANA time zone"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must be a sqlite:// or postgresql://"),
        ({"ORDERDESK_DEFAULT_LOCALE": "fr"}, "ORDERDESK_DEFAULT_LOCALE must be one of"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too short"),
    ],
)
def test_bad_values_stop_the_start_with_a_clear_message(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), **env})


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), "PORT": "x", "ORDERDESK_TIMEZONE": "Nowhere"})
    assert "PORT" in str(excinfo.value) and "ORDERDESK_TIMEZONE" in str(excinfo.value)


def test_production_refuses_insecure_defaults(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), "ORDERDESK_ENV": "prod"})
    text = str(excinfo.value)
    assert "SECRET_KEY (or SECRET_KEY_FILE) is required" in text
    assert "DATABASE_URL must be set explicitly" in text
    assert "PUBLIC_BASE_URL must be an https:// URL" in text
    assert not (tmp_path / "secret_key").exists()


PROD = {
    "ORDERDESK_ENV": "prod",
    "SECRET_KEY": "x" * 40,
    "DATABASE_URL": "postgresql://app@db/orderdesk",
    "PUBLIC_BASE_URL": "https://orders.example.cn",
    "SMS_PROVIDER": "http",
    "SMS_HTTP_URL": "https://sms.example.cn/send",
    "SMS_HTTP_KEY": "key",
    "SMS_HTTP_SECRET": "s" * 32,
}


def test_production_with_proper_settings(tmp_path):
    settings = load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), **PROD})
    assert settings.is_prod
    assert settings.sms_provider == "http"
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), **PROD, "SECRET_KEY": "x" * 20})


def test_production_refuses_the_console_sms_provider(tmp_path):
    with pytest.raises(ConfigError, match="SMS_PROVIDER=console only logs codes"):
        load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), **PROD, "SMS_PROVIDER": "console"})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMS_PROVIDER": "pigeon"}, "SMS_PROVIDER must be 'console' or 'http'"),
        ({"SMS_PROVIDER": "http"}, "SMS_HTTP_URL must be an http"),
        ({"SMS_ALLOWED_COUNTRY_CODES": "86,x"}, "SMS_ALLOWED_COUNTRY_CODES must be"),
        ({"PORTAL_SESSION_IDLE_MINUTES": "0"}, "PORTAL_SESSION_IDLE_MINUTES must be a whole number"),
        ({"FRAME_ANCESTORS": "'self'; script-src *"}, "FRAME_ANCESTORS is a space-separated list"),
    ],
)
def test_bad_portal_settings(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), **env})


def test_secrets_can_come_from_files(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("s" * 48 + "\n")
    settings = load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), "SECRET_KEY_FILE": str(secret_file)})
    assert settings.secret_key == "s" * 48
    with pytest.raises(ConfigError, match="SECRET_KEY_FILE=.* cannot be read"):
        load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), "SECRET_KEY_FILE": str(tmp_path / "missing")})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMS_HTTP_URL": "http://sms.example.cn/send"}, "SMS_HTTP_URL must be an https:// URL"),
        ({"KUAIDI100_BASE_URL": "http://poll.kuaidi100.com"}, "KUAIDI100_BASE_URL must be an https:// URL"),
        ({"S3_BUCKET": "photos", "S3_ENDPOINT_URL": "http://minio:9000"}, "S3_ENDPOINT_URL must be an https:// URL"),
        ({"KUAIDI100_SALT": "k"}, "KUAIDI100_SALT must be at least 16 characters"),
        ({"SMS_HTTP_SECRET": "short"}, "SMS_HTTP_SECRET must be at least 16 characters"),
        ({"METRICS_TOKEN": "t" * 10}, "METRICS_TOKEN must be at least 24 characters"),
    ],
)
def test_production_refuses_plain_http_providers_and_short_secrets(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), **PROD, **env})
    # The same values are fine for development against local stand-ins.
    load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), **PROD, **env, "ORDERDESK_ENV": "dev"})
