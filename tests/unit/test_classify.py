"""Splitting RUN lines into commands and telling install, build and runtime steps apart."""

from __future__ import annotations

from slimscope.dockerfile import classify


def test_shell_split_and_classify():
    segs = classify.split_commands("a 'x && y' && b \"q;r\" ; c $(d && e) || f | g")
    assert [s.text for s in segs] == ["a 'x && y'", "b \"q;r\"", "c $(d && e)", "f | g"]
    step, kinds = classify.classify_run(
        "apt-get update && apt-get install -y gcc libssl-dev ca-certificates python3", "/")
    assert step.kind == "install"
    assert step.build_packages == ["gcc", "libssl-dev"]
    assert step.runtime_packages == ["ca-certificates", "python3"]
    step, _ = classify.classify_run("gcc -static -o hello hello.c", "/src")
    assert (step.kind, step.outputs, step.static) == ("build", ["/src/hello"], True)
    step, _ = classify.classify_run("python3 -m venv /opt/v && /opt/v/bin/pip install x", "/")
    assert step.kind == "build" and step.outputs == ["/opt/v", "/opt/v"]
    step, _ = classify.classify_run("npm ci", "/app")
    assert step.outputs == ["/app/node_modules"]
    step, _ = classify.classify_run("useradd app && mkdir /data", "/")
    assert step.kind == "runtime"
    step, _ = classify.classify_run("./weird-script.sh", "/")
    assert step.kind == "unknown"
