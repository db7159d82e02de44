"""Shared fixtures. Engine-backed tests take the `engine` fixture: it skips them
when no Docker engine answers, and fails them under CI=true (CI must start one)."""

from __future__ import annotations

import pytest

from tests.support.engine import busybox_base, require_engine


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
