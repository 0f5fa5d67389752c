"""Choosing the SMS provider from the settings."""

from core.config import load_settings
from core.sms import ConsoleSms, HttpSms, get_sms_provider

GATEWAY = {"SECRET_KEY": "s" * 40, "SMS_PROVIDER": "http", "SMS_HTTP_URL": "http://127.0.0.1:9/send",
           "SMS_HTTP_KEY": "key", "SMS_HTTP_SECRET": "secret"}


def test_the_http_gateway_client_is_built_once_and_reused(tmp_path):
    settings = load_settings({**GATEWAY, "ORDERDESK_VAR_DIR": str(tmp_path)})
    first = get_sms_provider(settings)
    assert isinstance(first, HttpSms) and first.url == "http://127.0.0.1:9/send"
    assert get_sms_provider(settings) is first  # its HTTP client (CA bundle, connections) is kept


def test_other_gateway_settings_get_their_own_client(tmp_path):
    one = get_sms_provider(load_settings({**GATEWAY, "ORDERDESK_VAR_DIR": str(tmp_path)}))
    other = get_sms_provider(load_settings({**GATEWAY, "SMS_HTTP_KEY": "other", "ORDERDESK_VAR_DIR": str(tmp_path)}))
    assert other is not one and other.key == "other"


def test_console_provider_by_default(tmp_path):
    assert isinstance(get_sms_provider(load_settings({"SECRET_KEY": "s" * 40, "ORDERDESK_VAR_DIR": str(tmp_path)})),
                      ConsoleSms)
