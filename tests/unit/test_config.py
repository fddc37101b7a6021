"""Configuration: defaults, the environment winning for secrets, one-line errors naming the key."""

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config


def test_defaults_need_no_file_and_no_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.database.url.get_secret_value() == "sqlite+aiosqlite:///concierge.db"
    assert config.slack.bot_token is None
    assert config.followup.delay.days == 3


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[slack]\nbot_token = "from-file"\n')
    config = load_config(path, environ={"SLACK_BOT_TOKEN": "from-env"})
    assert config.slack.bot_token is not None
    assert config.slack.bot_token.get_secret_value() == "from-env"


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ('[selling]\nmin_rating = 9\n', "selling.min_rating"),
        ('[followup]\nafter = "soon"\n', "followup.after"),
        ('[roles]\nmanagers = ["U123"]\n', "roles.managers"),
        ('[slack]\nprot = 3000\n', "slack.prot"),
    ],
)
def test_bad_values_name_the_key_in_one_line(tmp_path: Path, content: str, key: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert key in str(error.value)
    assert "\n" not in str(error.value)


def test_secrets_never_show_in_the_printed_config() -> None:
    config = load_config(environ={"SLACK_BOT_TOKEN": "xoxb-very-secret",
                                  "CONCIERGE_DATABASE_URL": "postgresql+asyncpg://u:pw-secret@db/x"})
    assert "xoxb-very-secret" not in repr(config)
    assert "pw-secret" not in repr(config)
    assert {"xoxb-very-secret", "pw-secret"} <= set(config.secrets())


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[slack\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, environ={})
