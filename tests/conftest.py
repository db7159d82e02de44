"""Shared fixtures. Engine-backed tests take the `engine` fixture: it skips them
when no Docker engine answers, and fails them under CI=true (CI must start one).

Layout: unit/ (one file per slimscope module), functional/ (the CLI, the TUI
pilot and snapshots, the golden outputs), engine/ (ground truth, slim and
dockerfile through a real engine), support/ (what they share).

Environment: DOCKER_HOST picks the engine, SLIMSCOPE_TEST_CACHE where the
debootstrap tarball is kept (default ~/.cache/slimscope-tests),
and SLIMSCOPE_TEST_PREFIX the repository prefix of every image the tests make
(default slimscope-test: a run under another prefix rebuilds everything);
SLIMSCOPE_TEST_PREWARM=0 stops the background builds (tests/support/prewarm.py)."""

from __future__ import annotations

import pytest

from tests.support import prewarm, progress
from tests.support.bases import busybox_base
from tests.support.engine import require_engine


def pytest_configure(config):
    # tests/support announces slow preparation (debootstrap, image builds)
    # through the terminal reporter.
    progress.attach(config)


def pytest_collection_finish(session):
    # the selected engine tests' slow images start building now, beside the
    # tests that come first (tests/support/prewarm.py)
    prewarm.start(session.items)


def pytest_runtest_logstart(nodeid, location):
    progress.flush()


def pytest_runtest_logfinish(nodeid, location):
    progress.flush()


def pytest_sessionfinish(session, exitstatus):
    prewarm.stop()
    progress.flush()


@pytest.fixture(autouse=True)
def layer_cache(tmp_path_factory, monkeypatch):
    """Each test gets a layer-index cache of its own (slimscope reads
    SLIMSCOPE_CACHE_DIR; subprocesses inherit it), so no test writes into the
    user's ~/.cache/slimscope and no test sees another's cached indexes.
    A directory apart from tmp_path: tests check that nothing lands there."""
    d = tmp_path_factory.mktemp("layer-cache")
    monkeypatch.setenv("SLIMSCOPE_CACHE_DIR", str(d))
    return d


@pytest.fixture(scope="session")
def engine():
    """A connected docker.DockerClient (skip locally / fail in CI without one)."""
    return require_engine()


@pytest.fixture(scope="session")
def busybox_image(engine):
    """Tag of the offline-made busybox base image."""
    return busybox_base()


def pytest_collection_modifyitems(items):
    # Whatever takes the engine needs the engine: mark it so `-m "not engine"`
    # deselects it, even where the test forgot the marker.
    for item in items:
        if "engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.engine)
