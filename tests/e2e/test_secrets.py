"""No secret ever reaches stdout or stderr: tokens, signing secrets and database passwords, across commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.slack_api import FakeSlack

pytestmark = pytest.mark.e2e
CONCIERGE = str(Path(sys.executable).parent / "concierge")
FILE_SECRETS = {
    "db": "FileDbPassw0rd",
    "bot": "xoxb-file-0000-SECRET",
    "signing": "filesigning0000secret",
    "discord": "FILE.DISCORD.TOKEN.0000",
}
ENV = {
    "SLACK_BOT_TOKEN": "xoxb-env-1111-SECRET",
    "SLACK_SIGNING_SECRET": "envsigning1111secret",
    "SLACK_APP_TOKEN": "",
    "DISCORD_TOKEN": "ENV.DISCORD.TOKEN.1111",
}
ENV_DB_PASSWORD = "Sup3rSecretPw"
UNREACHABLE_DB = f"postgresql+asyncpg://u:{ENV_DB_PASSWORD}@127.0.0.1:1/x"
SECRETS = [*FILE_SECRETS.values(), *(v for v in ENV.values() if v), ENV_DB_PASSWORD]


def _config(folder: Path, cache: Path, *, database: str, slack_api: str = "http://127.0.0.1:1/api/") -> Path:
    path = folder / "concierge.toml"
    path.write_text(
        f'[database]\nurl = "{database}"\n'
        f'[understanding]\ncache_dir = "{cache}"\n'
        f'[slack]\nbot_token = "{FILE_SECRETS["bot"]}"\nsigning_secret = "{FILE_SECRETS["signing"]}"\n'
        f'api_url = "{slack_api}"\nport = 1\n'
        f'[discord]\ntoken = "{FILE_SECRETS["discord"]}"\napi_base = "http://127.0.0.1:1/api/v10"\n'
        '[roles]\nmanagers = ["console:boss"]\n'
    )
    return path


def _run(folder: Path, args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ENV and k != "CONCIERGE_DATABASE_URL"}
    environment.update({k: v for k, v in env.items() if v})
    return subprocess.run(
        [CONCIERGE, *args], input=stdin, capture_output=True, text=True, cwd=folder, env=environment, timeout=120,
        check=False,
    )


def _assert_no_secret(result: subprocess.CompletedProcess[str], what: str) -> None:
    output = result.stdout + result.stderr
    for secret in SECRETS:
        assert secret not in output, f"{what} leaked {secret[:4]}…:\n{output[-3000:]}"


def _assert_one_line_error(result: subprocess.CompletedProcess[str], what: str, *, quiet: bool = True) -> None:
    assert result.returncode != 0, what
    if quiet:
        assert "Traceback" not in result.stderr, f"{what}: a traceback instead of a one-line error:\n{result.stderr}"
    assert result.stderr.strip().splitlines()[-1].startswith("concierge: error: "), result.stderr[-2000:]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("secrets-model-cache")


def test_chat_verbose_json_prints_no_secret(tmp_path: Path, cache: Path) -> None:
    """A whole verbose console session, with a manager asking for stats, shows no secret."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    config = _config(tmp_path, cache, database=database)
    script = "where is my order\nyes\n/press 1\n/as boss\n/stats\n/as ana\nstop offers\n"
    result = _run(tmp_path, ["chat", "--json", "-v", "--user", "ana", "--config", str(config)], ENV, script)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"kind": "answer"' in result.stdout
    _assert_no_secret(result, "chat --json -v")


@pytest.mark.parametrize("args", [
    ["stats"], ["stats", "--json", "-v"], ["export", "--customer", "console:ana", "-v"], ["db", "upgrade", "-v"],
])
def test_an_unreachable_database_is_a_one_line_error_without_its_password(
    tmp_path: Path, cache: Path, args: list[str]
) -> None:
    """The database URL comes from the file in one run and from the environment in the other."""
    from_file = _config(tmp_path, cache, database=f"postgresql+asyncpg://u:{FILE_SECRETS['db']}@127.0.0.1:1/x")
    result = _run(tmp_path, [*args, "--config", str(from_file)], {})
    _assert_no_secret(result, " ".join(args))
    _assert_one_line_error(result, " ".join(args))
    assert "u:***@127.0.0.1:1/x" in result.stderr
    from_env = _run(tmp_path, [*args, "--config", str(from_file)], {**ENV, "CONCIERGE_DATABASE_URL": UNREACHABLE_DB})
    _assert_no_secret(from_env, " ".join(args))
    _assert_one_line_error(from_env, " ".join(args))


@pytest.mark.parametrize("database", [
    f"postgresql+nodriver://u:{ENV_DB_PASSWORD}@127.0.0.1:1/x",
    f"postgresql+asyncpg://u:{ENV_DB_PASSWORD}@127.0.0.1:notaport/x",
    f"{ENV_DB_PASSWORD}",
    f"postgresql+asyncpg://u:{ENV_DB_PASSWORD}@[::1/x",
])
def test_a_malformed_database_url_is_named_without_its_password(tmp_path: Path, cache: Path, database: str) -> None:
    config = _config(tmp_path, cache, database="sqlite+aiosqlite:///unused.db")
    result = _run(tmp_path, ["stats", "-v", "--config", str(config)], {"CONCIERGE_DATABASE_URL": database})
    _assert_no_secret(result, database)
    _assert_one_line_error(result, database)


@pytest.mark.parametrize("channel", ["slack", "discord"])
def test_running_against_an_unreachable_platform_shows_no_secret(tmp_path: Path, cache: Path, channel: str) -> None:
    config = _config(tmp_path, cache, database=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    result = _run(tmp_path, ["run", channel, "-v", "--config", str(config)], ENV)
    _assert_no_secret(result, f"run {channel}")
    _assert_one_line_error(result, f"run {channel}", quiet=False)


def test_a_rejected_slack_token_shows_no_secret(tmp_path: Path, cache: Path) -> None:
    with FakeSlack() as fake:
        config = _config(tmp_path, cache, database=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", slack_api=fake.api_url)
        result = _run(tmp_path, ["run", "slack", "-v", "--config", str(config)], ENV)
    _assert_no_secret(result, "run slack (rejected token)")
    # Verbose logs may carry the shutdown's tracebacks; the last line is still the one-line error.
    _assert_one_line_error(result, "run slack (rejected token)", quiet=False)
    assert "rejected the bot token" in result.stderr


def test_a_bad_config_value_shows_no_secret(tmp_path: Path, cache: Path) -> None:
    config = _config(tmp_path, cache, database=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    config.write_text(config.read_text().replace("port = 1", 'port = "not a port"'))
    result = _run(tmp_path, ["run", "slack", "-v", "--config", str(config)], {**ENV, "CONCIERGE_DATABASE_URL":
                                                                                  UNREACHABLE_DB})
    _assert_no_secret(result, "bad config")
    _assert_one_line_error(result, "bad config")
    assert "slack.port" in result.stderr


def test_nlu_try_shows_no_secret(tmp_path: Path, cache: Path) -> None:
    config = _config(tmp_path, cache, database=f"postgresql+asyncpg://u:{FILE_SECRETS['db']}@127.0.0.1:1/x")
    result = _run(tmp_path, ["nlu", "try", "my token is broken", "-v", "--config", str(config)],
                  {**ENV, "CONCIERGE_DATABASE_URL": UNREACHABLE_DB})
    assert result.returncode == 0, result.stderr[-2000:]
    _assert_no_secret(result, "nlu try")


def test_an_uncaught_traceback_is_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    """Whatever escapes every handler is printed with the secrets replaced."""
    import logging

    from bot.logging_setup import configure_logging

    saved_hook, saved_handlers = sys.excepthook, logging.getLogger().handlers[:]
    try:
        configure_logging(verbose=False, secrets=[ENV_DB_PASSWORD])
        try:
            raise RuntimeError(f"cannot connect with {UNREACHABLE_DB}")
        except RuntimeError as error:
            sys.excepthook(RuntimeError, error, error.__traceback__)
    finally:
        sys.excepthook = saved_hook
        logging.getLogger().handlers[:] = saved_handlers
    printed = capsys.readouterr().err
    assert "Traceback" in printed and "RuntimeError" in printed
    assert ENV_DB_PASSWORD not in printed
