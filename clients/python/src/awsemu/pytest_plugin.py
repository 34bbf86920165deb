"""pytest plugin of awsemu, registered through the `pytest11` entry point.

Fixtures:

- `awsemu_session` (session scope): one `awsemu serve` on a free port for the whole run, stopped
  at its end. Use it directly for state that should outlive a test.
- `awsemu` (function scope): the same server with its world reset before the test, so every test
  starts from the seed's fresh account with no live faults.
- `awsemu_environ` (function scope): `awsemu`, with os.environ pointed at it (AWS_ENDPOINT_URL,
  the admin's keys, the region) for code under test that makes its own boto3 clients.

Options (command line, or the ini keys of the same names with underscores):
`--awsemu-bin PATH`, `--awsemu-iam enforce|audit|off`, `--awsemu-seed N` (default 7),
`--awsemu-config FILE`, `--awsemu-arg FLAG` (repeatable: more `awsemu serve` flags).
"""

from __future__ import annotations

import os
import shlex
from typing import Iterator, Optional

import pytest

from . import AwsemuError, Server

IAM_MODES = ("enforce", "audit", "off")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("awsemu", "awsemu AWS emulator")
    group.addoption(
        "--awsemu-bin",
        dest="awsemu_bin",
        help="awsemu binary (default: $AWSEMU_BIN, awsemu on PATH, the repository's target/debug/awsemu)",
    )
    group.addoption(
        "--awsemu-iam",
        dest="awsemu_iam",
        choices=IAM_MODES,
        help="IAM mode of the server: enforce (AWS's, the default), audit or off",
    )
    group.addoption("--awsemu-seed", dest="awsemu_seed", type=int, help="seed for generated ids (default 7)")
    group.addoption("--awsemu-config", dest="awsemu_config", help="awsemu JSON config file")
    group.addoption(
        "--awsemu-arg",
        dest="awsemu_args",
        action="append",
        default=[],
        help="another `awsemu serve` flag, e.g. --awsemu-arg=--timing=fast (repeatable)",
    )
    parser.addini("awsemu_bin", "awsemu binary")
    parser.addini("awsemu_iam", "IAM mode: enforce, audit or off")
    parser.addini("awsemu_seed", "seed for generated ids")
    parser.addini("awsemu_config", "awsemu JSON config file")
    parser.addini("awsemu_args", "more `awsemu serve` flags (shell words)")


def _opt(config: pytest.Config, name: str) -> Optional[str]:
    """The command-line value, else the ini value, else None."""
    value = config.getoption(name)
    if value not in (None, [], ""):
        return value
    ini = config.getini(name)
    return ini or None


@pytest.fixture(scope="session")
def awsemu_session(pytestconfig: pytest.Config) -> Iterator[Server]:
    iam = _opt(pytestconfig, "awsemu_iam")
    if iam is not None and iam not in IAM_MODES:
        raise pytest.UsageError(f"awsemu_iam must be one of {', '.join(IAM_MODES)}, not {iam!r}")
    seed = _opt(pytestconfig, "awsemu_seed")
    args = _opt(pytestconfig, "awsemu_args") or []
    if isinstance(args, str):
        args = shlex.split(args)
    failure = None
    try:
        server = Server(
            _opt(pytestconfig, "awsemu_bin"),
            iam=iam,
            seed=7 if seed is None else int(seed),
            config=_opt(pytestconfig, "awsemu_config"),
            args=args,
        )
    except AwsemuError as e:
        failure = str(e)
    if failure is not None:
        pytest.fail(failure, pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def awsemu(awsemu_session: Server) -> Server:
    """The session's server, reset: a fresh world and no live faults for this test."""
    awsemu_session.reset()
    return awsemu_session


@pytest.fixture
def awsemu_environ(awsemu: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """`awsemu`, with os.environ set to its `env()` (admin keys) for the length of the test."""
    want = awsemu.env()
    for k in list(os.environ):
        if k not in want:
            monkeypatch.delenv(k)
    for k, v in want.items():
        if os.environ.get(k) != v:
            monkeypatch.setenv(k, v)
    return awsemu
