"""`slimscope slim --trace` with the real engine: images built here from the offline
bases, slimmed by observation, the probes replayed on the result.

Each test asserts what the result must be (the probes answer the same, the size
ratio, the ELF closure kept, --keep-from reproducing the filesystem) and that no
container of the trace outlives it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from slimscope.slim.trace.containers import PREFIX
from tests.support import bases, engine, images
from tests.support import trace_images as T
from tests.support.engine import export_snapshot, named

pytestmark = pytest.mark.engine

REPO = str(engine.REPO_ROOT)

# the Debian targets, built in the background from the session's start
PREWARM = [(T.TARGETS[n][0], lambda n=n: T.build(n)) for n in ("c", "python", "nginx")]


@pytest.fixture(scope="module")
def busybox_script(engine):
    return T.build("busybox")


@pytest.fixture(scope="module")
def c_program(engine):
    return T.build("c")


@pytest.fixture(scope="module")
def py_service(engine):
    return T.build("python")


@pytest.fixture
def out_tag(engine):
    """A fresh tag for the result; removed afterwards, and no trace container left."""
    tags = []

    def make(name="out"):
        tags.append(named(f"trace-{name}:{uuid.uuid4().hex[:10]}"))
        return tags[-1]

    yield make
    for t in tags:
        try:
            engine.api.remove_image(t, force=True)
        except Exception:
            pass
    assert _trace_containers(engine) == []


def _trace_containers(client) -> list:
    return [c["Names"] for c in client.api.containers(all=True, filters={"name": PREFIX})]


def _tag_exists(client, tag) -> bool:
    try:
        client.api.inspect_image(tag)
        return True
    except Exception:
        return False


def _slim(*args):
    result = CliRunner().invoke(main, ["slim", *args, "--json", "--no-compressed"])
    doc = None
    if result.exit_code == 0:
        doc = json.loads(result.output)
    return result, doc


def _run(client, image, argv=None) -> tuple:
    cid = client.api.create_container(image, command=argv, network_disabled=True)["Id"]
    try:
        client.api.start(cid)
        code = client.api.wait(cid, timeout=120)["StatusCode"]
        return code, client.api.logs(cid, stdout=True, stderr=False)
    finally:
        client.api.remove_container(cid, force=True)


def test_busybox_script_runs_identically(engine, busybox_script, out_tag, tmp_path):
    tag = out_tag()
    keep = tmp_path / "keep.txt"
    result, doc = _slim(busybox_script, "--trace", "--tag", tag, "--keep-list", str(keep))
    assert result.exit_code == 0, result.output
    trace = doc["trace"]
    assert [p["probe"] for p in trace["probes"]] == ["entrypoint"]
    assert all(p["same"] for p in trace["probes"])
    assert _run(engine, tag) == _run(engine, busybox_script) == (0, b"hello from world\n3000\n")
    listed = keep.read_text().splitlines()
    assert "traced\t/app/run.sh" in listed and "traced\t/data/small.bin" in listed
    assert not any(line.endswith("/data/big.bin") for line in listed)
    assert doc["after"]["total_bytes"] < doc["before"]["total_bytes"] - 600_000

    # the keep list alone, no tracing, gives the same filesystem
    again = out_tag("again")
    result, doc2 = _slim(busybox_script, "--keep-from", str(keep), "--tag", again)
    assert result.exit_code == 0, result.output
    assert doc2["trace"]["mode"] == "keep-from"
    assert export_snapshot(again) == export_snapshot(tag)


def test_an_insufficient_keep_list_fails_the_replay_and_tags_nothing(engine, busybox_script,
                                                                      out_tag, tmp_path):
    keep = tmp_path / "keep.txt"
    first = out_tag()
    result, _ = _slim(busybox_script, "--trace", "--tag", first, "--keep-list", str(keep))
    assert result.exit_code == 0, result.output
    tag = out_tag("insufficient")
    # /data/b.txt was never read by the traced run: the replay of `b` must differ
    result, _ = _slim(busybox_script, "--keep-from", str(keep), "--exec", "b", "--tag", tag)
    assert result.exit_code == 1, result.output
    assert "--exec b" in result.output and "bee" in result.output
    assert not _tag_exists(engine, tag)


def test_a_probe_that_reads_a_directory_listing_is_caught_by_the_replay(engine, busybox_script,
                                                                        out_tag):
    tag = out_tag()
    # `ls` reads /data's entries without opening them: big.bin goes, the count changes
    result, _ = _slim(busybox_script, "--trace", "--exec", "ls", "--tag", tag)
    assert result.exit_code == 1, result.output
    assert "original" in result.output and "slimmed" in result.output
    assert not _tag_exists(engine, tag)


def test_a_probe_failing_on_the_original_is_bad_input(engine, busybox_script, out_tag):
    tag = out_tag()
    result, _ = _slim(busybox_script, "--trace", "--exec", "fail", "--tag", tag)
    assert result.exit_code == 2
    assert "the probe fails on the original image already" in result.output
    assert "exit code 3" in result.output
    assert not _tag_exists(engine, tag)


def test_a_service_that_never_answers_names_the_port(engine, busybox_script, out_tag,
                                                     monkeypatch):
    from slimscope.slim.trace import probes
    monkeypatch.setattr(probes, "PORT_TIMEOUT", 3)
    tag = out_tag()
    result, _ = _slim(busybox_script, "--trace", "--http-probe", "8081/", "--tag", tag)
    assert result.exit_code == 2
    assert "port 8081 never answered" in result.output


def test_c_program_keeps_its_elf_closure_and_shrinks_20x(engine, c_program, out_tag, tmp_path):
    tag = out_tag()
    keep = tmp_path / "keep.txt"
    out = tmp_path / "c-slim.tar"
    result, doc = _slim(c_program, "--trace", "--exec", "abc", "--tag", tag,
                        "--keep-list", str(keep), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert all(p["same"] for p in doc["trace"]["probes"])
    before, after = doc["before"]["total_bytes"], doc["after"]["total_bytes"]
    assert before >= 20 * after, (before, after)
    lines = keep.read_text().splitlines()
    # the entrypoint's own exec, the container's very first access, was seen
    assert "traced\t/usr/local/bin/hello" in lines
    kept = {line.split("\t")[1] for line in lines if not line.startswith("#")}
    lib = "/usr/lib/x86_64-linux-gnu/"
    for path in ("/usr/local/bin/hello", lib + "libc.so.6", lib + "libm.so.6",
                 lib + "libz.so.1", lib + "ld-linux-x86-64.so.2", "/lib64"):
        assert path in kept, path
    assert _run(engine, tag, ["xyz"]) == _run(engine, c_program, ["xyz"])
    assert out.exists()


def test_python_service_answers_the_same_and_shrinks_10x(engine, py_service, out_tag):
    tag = out_tag()
    result, doc = _slim(py_service, "--trace", "--http-probe", "8080/health",
                        "--http-probe", "/items/abc", "--tag", tag)
    assert result.exit_code == 0, result.output
    probes = {p["probe"]: p for p in doc["trace"]["probes"]}
    assert probes["--http-probe 8080/health"]["same"]
    assert '"item": "abc"' in probes["--http-probe 8080/items/abc"]["slimmed"]
    before, after = doc["before"]["total_bytes"], doc["after"]["total_bytes"]
    assert before >= 10 * after, (before, after)
    reasons = doc["trace"]["kept_by_reason"]
    assert reasons["python-source"]["paths"] > 0


def test_ctrl_c_removes_every_container_and_tag(engine, busybox_script, out_tag, tmp_path):
    tag = out_tag()
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.Popen([sys.executable, "-m", "slimscope", "slim", busybox_script,
                             "--trace", "--http-probe", "8082/", "--tag", tag],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    deadline = time.monotonic() + 60
    while not _trace_containers(engine):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.decode().strip().count("\n") == 0, err
    assert not _tag_exists(engine, tag)
    assert _trace_containers(engine) == []


def test_keep_base_leaves_the_base_layers_whole(engine, busybox_script, out_tag, tmp_path):
    tag = out_tag()
    out = tmp_path / "kb.tar"
    result, doc = _slim(busybox_script, "--trace", "--keep-base", "--tag", tag, "-o", str(out))
    assert result.exit_code == 0, result.output
    base = engine.api.inspect_image(bases.BUSYBOX_TAG)["RootFS"]["Layers"]
    got = engine.api.inspect_image(tag)["RootFS"]["Layers"]
    assert got[:len(base)] == base and len(got) == len(base) + 1
    assert doc["trace"]["kept_by_reason"]["base"]["paths"] > 100
    snap = export_snapshot(tag)
    assert "/data/big.bin" not in snap and "/data/small.bin" in snap and "/bin/busybox" in snap
    assert _run(engine, tag) == _run(engine, busybox_script)


def test_nginx_serves_the_same_page_and_shrinks_8x(engine, out_tag):
    ref = T.build("nginx")
    tag = out_tag()
    result, doc = _slim(ref, "--trace", "--http-probe", "80/", "--tag", tag)
    assert result.exit_code == 0, result.output
    page = next(p for p in doc["trace"]["probes"] if p["probe"] == "--http-probe 80/")
    assert page["same"] and "static page served by nginx" in page["slimmed"]
    before, after = doc["before"]["total_bytes"], doc["after"]["total_bytes"]
    assert before >= 8 * after, (before, after)


def test_probe_script_and_duration_count_as_use(engine, out_tag, tmp_path):
    ref = T.build("httpd")
    script = tmp_path / "probe.py"
    script.write_text(T.PROBE_SCRIPT)
    script.chmod(0o755)
    tag = out_tag()
    result, doc = _slim(ref, "--trace", "--http-probe", "/", "--probe-script", str(script),
                        "--duration", "1", "--tag", tag)
    assert result.exit_code == 0, result.output
    shown = {p["probe"]: p for p in doc["trace"]["probes"]}
    assert "asked for by the probe script" in shown[f"--probe-script {script}"]["slimmed"]
    assert shown["service"]["same"] and shown["service"]["slimmed"] == "still running"
    snap = export_snapshot(tag)
    assert "/www/other.txt" in snap and "/www/never.bin" not in snap


def test_keep_from_reslims_a_rebuilt_image(engine, busybox_script, out_tag, tmp_path):
    keep = tmp_path / "keep.txt"
    result, _ = _slim(busybox_script, "--trace", "--tag", out_tag(), "--keep-list", str(keep))
    assert result.exit_code == 0, result.output
    _tag, dockerfile, files, _p, _r = T.TARGETS["busybox"]
    rebuilt = images.build_image(named("trace-busybox:rebuilt"),
                            dockerfile.replace("echo world", "echo rebuilt-world"), files)
    tag = out_tag("rebuilt")
    result, doc = _slim(rebuilt, "--keep-from", str(keep), "--tag", tag)
    assert result.exit_code == 0, result.output
    assert _run(engine, tag) == (0, b"hello from rebuilt-world\n3000\n")
    assert "/data/big.bin" not in export_snapshot(tag)
