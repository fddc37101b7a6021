"""`[outbox] relay_retry_seconds`: the pauses before each retry of an agent's refused words."""

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config


def test_the_pauses_come_from_the_file_and_default_to_two_short_retries(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[outbox]\nrelay_retry_seconds = [0.2, 1, 3]\n")
    assert load_config(path, environ={}).outbox.relay_retry_seconds == (0.2, 1.0, 3.0)
    (tmp_path / "empty.toml").write_text("")
    assert load_config(tmp_path / "empty.toml", environ={}).outbox.relay_retry_seconds == (0.5, 2.0)


@pytest.mark.parametrize("pauses", ["[-1]", "[0.5, 600]"])
def test_a_negative_or_long_pause_names_the_key(tmp_path: Path, pauses: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[outbox]\nrelay_retry_seconds = {pauses}\n")
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert "outbox.relay_retry_seconds" in str(error.value)
