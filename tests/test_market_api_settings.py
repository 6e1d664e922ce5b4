"""Settings: environment variables, flags over them, and one-line errors for bad values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from market_api.__main__ import parse_args
from market_api.settings import SETTINGS_SOURCES, Settings, SettingsError


def test_defaults_are_the_documented_ones():
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.db_path == Path("data/market.db")
    assert settings.cache_enabled is True
    assert (settings.cache_max_size, settings.cache_ttl) == (1000, 300.0)
    assert (settings.fault_db_latency_ms, settings.fault_error_rate) == (0.0, 0.0)
    assert settings.fault_seed is None and settings.fault_window_s is None
    assert (settings.fault_stall_ms, settings.fault_stall_every_s) == (0.0, 0.0)
    assert settings.fault_capacity_rps is None
    assert settings.observability is True and settings.access_log is True


def test_every_setting_is_read_from_its_variable():
    settings = Settings.from_env(
        {
            "MARKET_API_DB": "/tmp/x.db",
            "MARKET_API_CACHE": "off",
            "MARKET_API_CACHE_MAX_SIZE": "50",
            "MARKET_API_CACHE_TTL": "2.5",
            "MARKET_API_FAULT_DB_LATENCY_MS": "150",
            "MARKET_API_FAULT_ERROR_RATE": "0.25",
            "MARKET_API_FAULT_WINDOW_S": "30,90.5",
            "MARKET_API_FAULT_SEED": "7",
            "MARKET_API_FAULT_STALL_MS": "1400",
            "MARKET_API_FAULT_STALL_EVERY_S": "10",
            "MARKET_API_FAULT_CAPACITY_RPS": "50",
            "MARKET_API_OBSERVABILITY": "off",
            "MARKET_API_ACCESS_LOG": "off",
        }
    )
    assert settings == Settings(
        db_path=Path("/tmp/x.db"),
        cache_enabled=False,
        cache_max_size=50,
        cache_ttl=2.5,
        fault_db_latency_ms=150.0,
        fault_error_rate=0.25,
        fault_window_s=(30.0, 90.5),
        fault_seed=7,
        fault_stall_ms=1400.0,
        fault_stall_every_s=10.0,
        fault_capacity_rps=50.0,
        observability=False,
        access_log=False,
    )


def test_a_flag_wins_over_its_variable():
    settings = Settings.from_env(
        {"MARKET_API_CACHE_TTL": "10", "MARKET_API_CACHE": "off"},
        flags={"cache_ttl": "20", "cache_enabled": None},
    )
    assert settings.cache_ttl == 20.0
    assert settings.cache_enabled is False


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MARKET_API_CACHE", "maybe"),
        ("MARKET_API_CACHE_MAX_SIZE", "0"),
        ("MARKET_API_CACHE_MAX_SIZE", "1.5"),
        ("MARKET_API_CACHE_TTL", "-1"),
        ("MARKET_API_CACHE_TTL", "nan"),
        ("MARKET_API_FAULT_DB_LATENCY_MS", "fast"),
        ("MARKET_API_FAULT_DB_LATENCY_MS", "inf"),
        ("MARKET_API_FAULT_ERROR_RATE", "1.5"),
        ("MARKET_API_FAULT_ERROR_RATE", "-0.1"),
        ("MARKET_API_FAULT_SEED", "x"),
        ("MARKET_API_FAULT_WINDOW_S", "30"),
        ("MARKET_API_FAULT_WINDOW_S", "30,"),
        ("MARKET_API_FAULT_WINDOW_S", "a,b"),
        ("MARKET_API_FAULT_WINDOW_S", "1,2,3"),
        ("MARKET_API_FAULT_WINDOW_S", "-1,5"),
        ("MARKET_API_FAULT_WINDOW_S", "5,5"),
        ("MARKET_API_FAULT_WINDOW_S", "10,5"),
        ("MARKET_API_FAULT_WINDOW_S", "0,inf"),
        ("MARKET_API_FAULT_STALL_MS", "0"),
        ("MARKET_API_FAULT_STALL_MS", "-500"),
        ("MARKET_API_FAULT_STALL_EVERY_S", "often"),
        ("MARKET_API_FAULT_CAPACITY_RPS", "0"),
        ("MARKET_API_FAULT_CAPACITY_RPS", "inf"),
        ("MARKET_API_ACCESS_LOG", "verbose"),
        ("MARKET_API_DB", " "),
    ],
)
def test_a_bad_value_names_its_variable(variable, value):
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})


def test_a_bad_flag_value_names_the_flag():
    with pytest.raises(SettingsError, match="--fault-error-rate"):
        Settings.from_env({}, flags={"fault_error_rate": "2"})


@pytest.mark.parametrize(
    ("environ", "flags", "message"),
    [
        (
            {"MARKET_API_FAULT_STALL_MS": "500"},
            {},
            "MARKET_API_FAULT_STALL_MS='500': needs MARKET_API_FAULT_STALL_EVERY_S too",
        ),
        (
            {"MARKET_API_FAULT_STALL_EVERY_S": "2"},
            {},
            "MARKET_API_FAULT_STALL_EVERY_S='2': needs MARKET_API_FAULT_STALL_MS too",
        ),
        (
            {},
            {"fault_stall_every_s": "2"},
            "--fault-stall-every-s='2': needs --fault-stall-ms too",
        ),
        (
            {"MARKET_API_FAULT_STALL_MS": "2000", "MARKET_API_FAULT_STALL_EVERY_S": "2"},
            {},
            "MARKET_API_FAULT_STALL_MS='2000': must be shorter than "
            "MARKET_API_FAULT_STALL_EVERY_S='2' (in ms)",
        ),
    ],
)
def test_a_stall_needs_both_settings_and_to_end_before_the_next(environ, flags, message):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(environ, flags=flags)
    assert str(raised.value) == message


def test_every_setting_has_a_flag():
    args = parse_args(["--port", "9000", "--db", "x.db", "--cache", "off", "--fault-seed", "3"])
    assert (args.host, args.port) == ("127.0.0.1", 9000)
    assert set(SETTINGS_SOURCES) <= set(vars(args))
    assert (args.db_path, args.cache_enabled, args.fault_seed) == ("x.db", "off", "3")


def test_the_fault_window_and_access_log_flags():
    args = parse_args(["--fault-window-s", "30,90", "--access-log", "off"])
    settings = Settings.from_env({}, flags={f: getattr(args, f) for f in SETTINGS_SOURCES})
    assert (settings.fault_window_s, settings.access_log) == ((30.0, 90.0), False)


def test_the_stall_and_capacity_flags():
    args = parse_args(
        ["--fault-stall-ms", "500", "--fault-stall-every-s", "2", "--fault-capacity-rps", "50"]
    )
    settings = Settings.from_env({}, flags={f: getattr(args, f) for f in SETTINGS_SOURCES})
    assert (settings.fault_stall_ms, settings.fault_stall_every_s) == (500.0, 2.0)
    assert settings.fault_capacity_rps == 50.0


@pytest.mark.parametrize(
    ("window", "problem"),
    [("soon", "START,END"), ("-5,10", "START must be >= 0"), ("20,10", "END must be after")],
)
@pytest.mark.e2e
@pytest.mark.concurrent
def test_the_cli_turns_a_bad_fault_window_into_one_line_and_exit_2(tmp_path, window, problem):
    completed = subprocess.run(
        [sys.executable, "-m", "market_api", "--db", str(tmp_path / "m.db")],
        env={"MARKET_API_FAULT_WINDOW_S": window, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0
    assert "MARKET_API_FAULT_WINDOW_S" in completed.stderr and problem in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "m.db").exists()


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"MARKET_API_CACHE_TTL": "soon"}, "MARKET_API_CACHE_TTL"),
        ({"MARKET_API_FAULT_STALL_MS": "500"}, "needs MARKET_API_FAULT_STALL_EVERY_S"),
    ],
)
@pytest.mark.e2e
@pytest.mark.concurrent
def test_the_cli_turns_a_bad_value_into_one_line_and_exit_2(tmp_path, environ, named):
    completed = subprocess.run(
        [sys.executable, "-m", "market_api", "--db", str(tmp_path / "m.db")],
        env={**environ, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0
    assert named in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "m.db").exists()


@pytest.mark.e2e
@pytest.mark.concurrent
def test_the_cli_reports_an_unusable_database_path_in_one_line(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "market_api", "--db", str(tmp_path)],  # a directory
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0
    assert "Traceback" not in completed.stderr
