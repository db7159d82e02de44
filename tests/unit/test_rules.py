"""The gate's path globs (gate/rules.py)."""

from __future__ import annotations

import pytest

from slimscope.gate.rules import glob_match


@pytest.mark.parametrize("glob,path,expected", [
    ("/var/lib/apt/lists/*", "/var/lib/apt/lists/deb.debian.org_Packages", True),
    ("/var/lib/apt/lists/*", "/var/lib/apt/lists", False),
    ("/var/lib/apt/lists/*", "/var/lib/apt/lists/partial/x", False),
    ("**/*.pem", "/etc/ssl/private/server.pem", True),
    ("**/*.pem", "/server.pem", True),
    ("**/*.pem", "/etc/ssl/private/server.pem.bak", False),
    ("*.pem", "/deep/down/key.pem", True),
    ("**/.git", "/src/app/.git", True),
    ("**/.git", "/src/app/.github", False),
    ("/usr/lib/python3*/**", "/usr/lib/python3.11/os.py", True),
    ("/usr/lib/python3*/**", "/usr/lib/python3.11", True),
    ("/usr/lib/python3*/**", "/usr/local/lib/python3.11/os.py", False),
    ("/app/*.so.[0-9]", "/app/libx.so.1", True),
    ("/app/*.so.[!0-9]", "/app/libx.so.1", False),
    ("/a/**/z", "/a/z", True),
    ("/a/**/z", "/a/b/c/z", True),
    ("/app/?.txt", "/app/a.txt", True),
    ("/app/?.txt", "/app/ab.txt", False),
])
def test_globs(glob, path, expected):
    assert glob_match(glob, path) is expected
