"""The probes that say what "in use" means, run on an image and compared across images.

An exec probe is one run of the image (its entrypoint with CMD, or with the
--exec command as docker run would take it), compared by exit code, stdout
and stderr. A service run starts the image's own entrypoint with its ports
published on 127.0.0.1, waits until each probed port answers HTTP, sends the
GETs (compared by status and body), runs the --probe-script against it
(compared by exit code and stdout) and stays up for --duration seconds.
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass, field

from slimscope.engine import short_error
from slimscope.errors import BadInput

EXEC_TIMEOUT = 300       # seconds an exec probe may run
PORT_TIMEOUT = 60        # seconds a service may take to answer on a probed port
SCRIPT_TIMEOUT = 300


@dataclass
class Exec:
    argv: list | None        # None: the image's own entrypoint and command

    @property
    def name(self) -> str:
        return "entrypoint" if self.argv is None else "--exec " + shlex.join(self.argv)


@dataclass
class Http:
    port: int | None         # None: the image's only exposed TCP port
    path: str

    @property
    def name(self) -> str:
        return f"--http-probe {self.port or ''}{self.path}"


@dataclass
class Service:
    http: list                # Http probes
    script: str | None
    duration: float


@dataclass
class Outcome:
    probe: str
    result: dict              # what is compared
    shown: str = ""           # how it reads in a report

    def fails(self) -> str | None:
        """Why this outcome on the original image is a failed probe, else None."""
        r = self.result
        if "exit_code" in r and r["exit_code"] != 0:
            return f"exit code {r['exit_code']}"
        if "status" in r and r["status"] >= 400:
            return f"HTTP status {r['status']}"
        return None


@dataclass
class Probes:
    execs: list = field(default_factory=list)
    service: Service | None = None


HTTP_SPEC = re.compile(r"\A(\d{1,5})?(/.*)?\Z", re.S)


def parse(execs, http_specs, script, duration) -> Probes:
    out = Probes()
    for cmd in execs:
        try:
            argv = shlex.split(cmd)
        except ValueError as e:
            raise BadInput(f"--exec: cannot split {cmd!r}: {e}") from None
        if not argv:
            raise BadInput("--exec wants a command, e.g. --exec 'app --version'")
        out.execs.append(Exec(argv))
    https = []
    for spec in http_specs:
        m = HTTP_SPEC.match(spec or "")
        if not spec or not m or (m.group(1) and not 0 < int(m.group(1)) < 65536):
            raise BadInput(f"--http-probe wants [PORT][/PATH], e.g. 8080/health, got {spec!r}")
        https.append(Http(int(m.group(1)) if m.group(1) else None, m.group(2) or "/"))
    if script is not None and not os.path.isfile(script):
        raise BadInput(f"--probe-script {script}: no such file")
    if duration is not None and duration < 0:
        raise BadInput("--duration wants a number of seconds >= 0")
    if https or script or duration:
        out.service = Service(https, os.path.abspath(script) if script else None,
                              duration or 0)
    if not out.execs and out.service is None:
        out.execs.append(Exec(None))
    return out


def exposed_tcp(config: dict) -> list:
    ports = ((config.get("config") or {}).get("ExposedPorts") or {})
    return sorted(int(p.split("/")[0]) for p in ports if p.endswith("/tcp") or "/" not in p)


def resolve_ports(service: Service, config: dict) -> list:
    """The container ports the service run publishes (filling in a port left out)."""
    exposed = exposed_tcp(config)
    for h in service.http:
        if h.port is None:
            if len(exposed) != 1:
                raise BadInput(f"--http-probe {h.path}: say which port (the image exposes "
                               f"{', '.join(map(str, exposed)) or 'none'})")
            h.port = exposed[0]
    return sorted(set(exposed) | {h.port for h in service.http})


def run_exec(containers, image: str, probe: Exec, watch_start=None) -> Outcome:
    """Run probe in image to its end; watch_start(cid) starts it watched (else plain)."""
    client = containers.client
    cid = containers.create(image, "exec", command=probe.argv, network_disabled=True)
    try:
        _start(client, cid, watch_start)
        try:
            code = client.api.wait(cid, timeout=EXEC_TIMEOUT)["StatusCode"]
        except Exception:
            hint = ("; a service is probed with --http-probe, --probe-script or --duration"
                    if probe.argv is None else "")
            raise BadInput(f"{probe.name}: did not finish within {EXEC_TIMEOUT}s in "
                           f"{image}{hint}") from None
        out = client.api.logs(cid, stdout=True, stderr=False)
        err = client.api.logs(cid, stdout=False, stderr=True)
        if watch_start is not None:
            watch_start.finish(cid)
        return Outcome(probe.name, {"exit_code": code, "stdout": out, "stderr": err},
                       _shown(code, out, err))
    finally:       # on an interrupt too: the container goes first, then its watch
        containers.remove(cid)
        if watch_start is not None:
            watch_start.drop(cid)


def _start(client, cid, watch_start):
    import docker
    try:
        if watch_start is not None:
            watch_start(cid)
        else:
            client.api.start(cid)
    except docker.errors.APIError as e:
        raise BadInput(f"cannot start the container: {e.explanation or e}") from None


def _shown(code, out: bytes, err: bytes) -> str:
    def clip(b: bytes) -> str:
        text = b.decode("utf-8", "replace")
        return text if len(text) <= 400 else text[:400] + f"... ({len(b)} bytes)"
    return f"exit code {code}\n    stdout: {clip(out)!r}\n    stderr: {clip(err)!r}"


class PortSilent(BadInput):
    def __init__(self, port: int, why: str):
        super().__init__(f"port {port} never answered HTTP ({why})")
        self.port = port


def run_service(containers, image: str, service: Service, ports: list,
                watch_start=None, replay: bool = False) -> list:
    """Outcomes of the service run: one per HTTP probe, the script, and whether it stayed up."""
    client = containers.client
    host_config = client.api.create_host_config(
        port_bindings={f"{p}/tcp": ("127.0.0.1", None) for p in ports})
    cid = containers.create(image, "service", host_config=host_config,
                            ports=[(p, "tcp") for p in ports])
    outcomes = []
    try:
        _start(client, cid, watch_start)
        bound = _bound_ports(client, cid, ports)
        for h in service.http:
            try:
                status, body = _get_when_up(client, cid, bound.get(h.port), h)
            except PortSilent as e:
                if not replay:
                    raise
                outcomes.append(Outcome(h.name, {"no answer": str(e)}, str(e)))
                continue
            outcomes.append(Outcome(h.name, {"status": status, "body": body},
                                    f"status {status}, body {body[:300]!r}"
                                    + (f"... ({len(body)} bytes)" if len(body) > 300 else "")))
        if service.script:
            code, out = _script(service.script, cid, bound)
            outcomes.append(Outcome(f"--probe-script {service.script}",
                                    {"exit_code": code, "stdout": out}, _shown(code, out, b"")))
        if service.duration:
            time.sleep(service.duration)
        running = client.api.inspect_container(cid)["State"].get("Running", False)
        outcomes.append(Outcome("service", {"running": running},
                                "still running" if running else "had exited"))
        client.api.stop(cid, timeout=5)     # what it opens on its way out counts too
        if watch_start is not None:
            watch_start.finish(cid)
        return outcomes
    finally:
        containers.remove(cid)
        if watch_start is not None:
            watch_start.drop(cid)


def _bound_ports(client, cid, ports) -> dict:
    deadline = time.monotonic() + 10
    while True:
        net = client.api.inspect_container(cid).get("NetworkSettings") or {}
        got = {}
        for p in ports:
            for b in (net.get("Ports") or {}).get(f"{p}/tcp") or []:
                if b.get("HostPort"):
                    got[p] = int(b["HostPort"])
        if len(got) == len(ports) or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def _get_when_up(client, cid, host_port, h: Http):
    assert h.port is not None, "resolve_ports fills in every probe's port first"
    deadline = time.monotonic() + PORT_TIMEOUT
    why = "nothing listening"
    while time.monotonic() < deadline:
        state = client.api.inspect_container(cid)["State"]
        if not state.get("Running"):
            raise PortSilent(h.port, f"the container exited with code {state.get('ExitCode')}")
        if host_port:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", host_port, timeout=10)
                conn.request("GET", h.path)
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
                return resp.status, body
            except (OSError, http.client.HTTPException) as e:
                why = short_error(e) or type(e).__name__
        time.sleep(0.1)
    raise PortSilent(h.port, f"{why} after {PORT_TIMEOUT}s")


def _script(script: str, cid: str, bound: dict):
    env = dict(os.environ, SLIMSCOPE_CONTAINER=cid)
    for port, host_port in bound.items():
        env[f"SLIMSCOPE_PORT_{port}"] = f"127.0.0.1:{host_port}"
    argv = [script] if os.access(script, os.X_OK) else ["/bin/sh", script]
    try:
        p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           timeout=SCRIPT_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BadInput(f"--probe-script {script} did not finish within {SCRIPT_TIMEOUT}s"
                       ) from None
    return p.returncode, p.stdout


def run_all(containers, image: str, probes: Probes, ports: list, watch_start=None,
            replay: bool = False) -> list:
    outcomes = [run_exec(containers, image, e, watch_start) for e in probes.execs]
    if probes.service is not None:
        outcomes += run_service(containers, image, probes.service, ports, watch_start, replay)
    return outcomes


def differences(original: list, slimmed: list) -> list:
    """(probe, original shown, slimmed shown) for every outcome that differs."""
    return [(a.probe, a.shown, b.shown) for a, b in zip(original, slimmed)
            if a.result != b.result]
