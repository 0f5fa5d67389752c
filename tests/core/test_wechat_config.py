"""The official-account settings: off unless both app id and secret are given, secrets
from files, bad addresses refused at start."""

import pytest

from core.config import ConfigError, load_settings
from core.wechat import authorize_url, in_wechat


def test_wechat_is_off_by_default(tmp_path):
    settings = load_settings({"ORDERDESK_VAR_DIR": str(tmp_path)})
    assert settings.wechat_enabled is False
    assert settings.wechat_api_base == "https://api.weixin.qq.com"
    assert settings.wechat_oauth_base == "https://open.weixin.qq.com"
    assert settings.wechat_template("shipped") is None


def test_app_secret_and_templates_from_the_environment_or_files(tmp_path):
    secret = tmp_path / "wechat-secret"
    secret.write_text("s3cret-from-a-file\n")
    settings = load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), "WECHAT_APP_ID": "wx123",
                              "WECHAT_APP_SECRET_FILE": str(secret), "WECHAT_TEMPLATE_SHIPPED": "TPL-1",
                              "WECHAT_API_BASE": "http://127.0.0.1:8025/"})
    assert settings.wechat_enabled
    assert settings.wechat_app_secret == "s3cret-from-a-file"
    assert "s3cret" not in repr(settings)
    assert settings.wechat_template("shipped") == "TPL-1"
    assert settings.wechat_template("delivered") is None
    assert settings.wechat_api_base == "http://127.0.0.1:8025"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WECHAT_APP_ID": "wx123"}, "WECHAT_APP_ID and WECHAT_APP_SECRET go together"),
        ({"WECHAT_APP_SECRET": "x"}, "WECHAT_APP_ID and WECHAT_APP_SECRET go together"),
        ({"WECHAT_API_BASE": "ftp://x"}, "WECHAT_API_BASE must be an http(s) URL"),
        ({"WECHAT_TIMEOUT_SECONDS": "0"}, "WECHAT_TIMEOUT_SECONDS must be a whole number"),
    ],
)
def test_bad_wechat_settings_stop_the_start(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings({"ORDERDESK_VAR_DIR": str(tmp_path), **env})


def test_production_wants_https_for_wechat(tmp_path):
    env = {"ORDERDESK_ENV": "prod", "SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://u@h/db",
           "PUBLIC_BASE_URL": "https://shop.example", "SMS_PROVIDER": "http", "SMS_HTTP_URL": "https://sms.example",
           "SMS_HTTP_KEY": "k", "SMS_HTTP_SECRET": "s", "ORDERDESK_VAR_DIR": str(tmp_path),
           "WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "s", "WECHAT_OAUTH_BASE": "http://sim.local"}
    with pytest.raises(ConfigError, match="WECHAT_OAUTH_BASE must be an https:// URL"):
        load_settings(env)


def test_wechat_is_recognised_by_its_user_agent():
    assert in_wechat("Mozilla/5.0 (iPhone) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI")
    assert not in_wechat("Mozilla/5.0 (iPhone) Version/17.4 Mobile/15E148 Safari/604.1")
    assert not in_wechat(None)
    assert not in_wechat("Mozilla/5.0 (iPhone) MicroMessenger/7.0.1 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh")


def test_authorize_url_has_the_encoded_callback_and_the_wechat_fragment():
    url = authorize_url("https://open.weixin.qq.com", "wx1", "https://shop.example/wechat/callback", "abc")
    assert url == ("https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx1&redirect_uri="
                   "https%3A%2F%2Fshop.example%2Fwechat%2Fcallback&response_type=code&scope=snsapi_base"
                   "&state=abc#wechat_redirect")


def test_simulator_refuses_an_unknown_failure_endpoint(capsys, monkeypatch):
    from core.cli import main

    assert main(["simulate-wechat", "--fail", "sned=2"]) == 2
    assert "ENDPOINT one of authorize, oauth, token, send" in capsys.readouterr().err
    monkeypatch.setenv("WECHAT_SIM_FAIL", "token=x")
    assert main(["simulate-wechat"]) == 2
