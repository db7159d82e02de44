"""The image-config -> Dockerfile emitter that `slim` and `dockerfile` share."""

from __future__ import annotations

import pytest

from slimscope.core.dockerconfig import FIELDS, config_lines, duration, healthcheck_line
from slimscope.dockerfile import parser
from slimscope.errors import BadInput

S = 1_000_000_000


@pytest.mark.parametrize("ns, text", [
    (30 * S, "30s"), (90 * S, "90s"), (3600 * S, "1h"), (120 * S, "2m"), (S // 2, "500ms"),
    (1500, "1500ns"), (7_000, "7us"), (1_500_000_000, "1500ms")])
def test_durations_are_exact_go_durations(ns, text):
    assert duration(ns) == text


def test_healthcheck_spelling():
    hc = {"Test": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], "Interval": 30 * S,
          "Timeout": 3 * S, "StartPeriod": 5 * S, "StartInterval": S, "Retries": 3}
    assert healthcheck_line(hc) == ("HEALTHCHECK --interval=30s --timeout=3s --start-period=5s "
                                    "--start-interval=1s --retries=3 "
                                    "CMD curl -f http://localhost/ || exit 1")
    assert healthcheck_line({"Test": ["CMD", "/bin/check", "--quick"], "Interval": 7 * S}) == \
        'HEALTHCHECK --interval=7s CMD ["/bin/check", "--quick"]'
    assert healthcheck_line({"Test": ["NONE"], "Interval": 7 * S}) == "HEALTHCHECK NONE"
    assert healthcheck_line({"Test": []}) is None          # inherited: nothing to write
    with pytest.raises(BadInput):
        healthcheck_line({"Test": ["WHAT", "x"]})


def test_every_field_in_order():
    cfg = {"Env": ["PATH=/usr/bin", 'A=b "c" $HOME'], "Cmd": ["run", "x"], "Entrypoint": ["/e"],
           "WorkingDir": "/w", "User": "app", "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
           "Volumes": {"/d": {}}, "Labels": {"k": "v"}, "StopSignal": "SIGTERM",
           "Shell": ["/bin/sh", "-ec"], "OnBuild": ["RUN echo hi"],
           "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 5 * S}}
    assert config_lines(cfg) == [
        'ENV PATH="/usr/bin"', 'ENV A="b \\"c\\" \\$HOME"', 'LABEL "k"="v"',
        "EXPOSE 443/tcp 80/tcp", 'VOLUME ["/d"]', "WORKDIR /w", "STOPSIGNAL SIGTERM",
        'SHELL ["/bin/sh", "-ec"]', "HEALTHCHECK --interval=5s CMD true", "USER app",
        'ENTRYPOINT ["/e"]', 'CMD ["run", "x"]', "ONBUILD RUN echo hi"]
    assert config_lines(cfg, ["Cmd", "User"]) == ['CMD ["run", "x"]', "USER app"]
    assert config_lines({}) == []
    assert set(FIELDS) == {"Env", "Labels", "ExposedPorts", "Volumes", "WorkingDir", "StopSignal",
                           "Shell", "Healthcheck", "User", "Entrypoint", "Cmd", "OnBuild"}


def test_the_parser_reads_back_what_was_written():
    value = 'a "quoted" value \\ with a backslash'
    df = parser.parse("FROM scratch\n" + "\n".join(config_lines(
        {"Env": ["X=" + value], "Labels": {"k 1": value}})) + "\n")
    env, label = df.instructions[1], df.instructions[2]
    assert parser.parse_assignments(env.rest) == [("X", value)]
    assert parser.parse_assignments(label.rest) == [("k 1", value)]


def test_the_dockerfile_generator_uses_it():
    # slim's engine way no longer writes config as instructions: it loads the whole config
    from slimscope.dockerfile import generate
    assert generate.config_lines is config_lines
