"""Fixtures: a real podauthd per test, the test OpenID Provider, a headless
browser, a reference Pod.

The tests import the installed podauth (its gRPC stubs exist only in a
built package): install ``./client/python[test]`` into a venv and run that
venv's ``pytest``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

import podauth
from harness.browser import Browser
from harness.daemon import Daemon
from harness.pod import ReferencePod
from harness.provider import Provider


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def provider(tmp_path_factory: pytest.TempPathFactory):
    provider = Provider(str(tmp_path_factory.mktemp("provider") / "provider.log"))
    yield provider
    provider.close()


@pytest.fixture
def daemon(request: pytest.FixtureRequest, provider: Provider):
    # Under /tmp with a short name: a socket path must fit in 107 bytes.
    directory = Path(tempfile.mkdtemp(prefix="pa-"))
    daemon = Daemon(directory, provider.issuer).start()
    yield daemon
    daemon.stop()
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        print(f"--- podauthd log ---\n{daemon.log()}")
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def client(daemon: Daemon):
    with podauth.Client(daemon.socket) as client:
        yield client


@pytest.fixture
def daemon_env(daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> Daemon:
    """The daemon, named by PODAUTH_SOCK for podauth's module-level calls."""
    monkeypatch.setenv("PODAUTH_SOCK", str(daemon.socket))
    return daemon


@pytest.fixture
def browser():
    browser = Browser()
    yield browser
    browser.close()


@pytest.fixture
def pod(provider: Provider) -> ReferencePod:
    return ReferencePod(provider)
