"""`slimscope ci`: the size-budget gate."""

from __future__ import annotations

import os
import sys

import click

from slimscope.cli.common import SOURCES_HELP, image_options, load_analysis
from slimscope.errors import BadInput, CheckFailed, SlimscopeError
from slimscope.fileio import write_atomic

CI_HELP = """Fail the pipeline when IMAGE breaks its size budget.

Rules come from .slimscope.toml ([ci]), pyproject.toml ([tool.slimscope.ci]) or
dive's .dive-ci, found from the working directory upward; flags override them.
no-hidden-secrets is on unless turned off; every other rule is off until given
a budget. Sizes: 150MB, 1.5GiB, 2048 (bytes); percentages: 10%; `off` disables.

\b
Exit codes: 0 every rule passed, 1 a rule failed, 2 the image, the baseline or
the config could not be read.

\b
Examples:
  slimscope ci myapp:latest --max-size 150MB --min-efficiency 95%
  slimscope ci image.tar --forbid '**/*.pem' --forbid '/var/lib/apt/lists/*'
  slimscope ci myapp:new --baseline ci-main.json --max-growth 5% --junit junit.xml
  slimscope ci myapp:latest --json ci-main.json   # save a baseline for later runs
  slimscope ci myapp:latest --max-size 150MB --html report.html

""" + SOURCES_HELP

SIZE = "SIZE"


def _rule_option(name, metavar, help_):
    return click.option(f"--{name}", name.replace("-", "_"), metavar=metavar, help=help_)


def _write_junit_error(path: str, image: str, message: str) -> None:
    """A JUnit file that shows the failed analysis as an error, so CI never reads a pass."""
    import xml.etree.ElementTree as ET  # only a --junit run writes one

    suites = ET.Element("testsuites", name="slimscope ci", tests="1", failures="0", errors="1")
    suite = ET.SubElement(suites, "testsuite", name=f"slimscope ci {image}", tests="1",
                          failures="0", errors="1", skipped="0", time="0")
    case = ET.SubElement(suite, "testcase", classname="slimscope.ci", name="analysis", time="0")
    err = ET.SubElement(case, "error", message=message, type="unreadable")
    err.text = message
    ET.indent(suites)
    write_atomic(path, ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n")


@click.command("ci", help=CI_HELP)
@click.argument("image")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Read the rules from this file (.slimscope.toml, pyproject.toml or .dive-ci).")
@click.option("--no-config", is_flag=True, help="Ignore config files; use only the flags.")
@_rule_option("max-size", SIZE, "Budget for the final filesystem's bytes.")
@_rule_option("max-compressed-size", SIZE,
              "Budget for the compressed layers (what a push transfers; measured when the "
              "layers are stored uncompressed).")
@_rule_option("max-wasted-bytes", SIZE, "Budget for stored bytes the final filesystem hides.")
@_rule_option("max-wasted-percent", "PCT", "Budget for wasted / stored bytes, e.g. 10%.")
@_rule_option("min-efficiency", "RATIO", "Least final / stored bytes, e.g. 0.95 or 95%.")
@_rule_option("max-layers", "N", "Most layers.")
@_rule_option("max-layer-size", SIZE, "Budget for each layer's bytes.")
@click.option("--forbid", multiple=True, metavar="GLOB",
              help="A path glob the final filesystem must not show (repeatable; adds to the "
                   "config's list).")
@click.option("--path-budget", "path_budgets", multiple=True, metavar="GLOB=SIZE",
              help="Bytes allowed under a glob, e.g. '/usr/lib/python3*/**=80MB' (repeatable).")
@click.option("--allow-hidden-secrets", is_flag=True, default=None,
              help="Turn off no-hidden-secrets (on by default: fail when a deleted or "
                   "overwritten secret file is still stored in a layer).")
@click.option("--secrets-allow", multiple=True, metavar="GLOB",
              help="A secret-looking path that is known to be harmless (repeatable).")
@_rule_option("max-growth", "SIZE|PCT", "Most growth of the final size over --baseline.")
@click.option("--baseline", metavar="FILE|IMAGE",
              help="A JSON report of an earlier run (slimscope ci --json or slimscope analyze "
                   "--format json --files) or another image, for --max-growth.")
@click.option("--junit", type=click.Path(dir_okay=False), help="Write JUnit XML here.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="Write the JSON report (usable as a later --baseline) here.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False),
              help="Write a self-contained HTML page (verdicts, treemap, tables) here, whatever "
                   "the verdict.")
@click.option("--markdown", type=click.Path(dir_okay=False),
              help="Write a Markdown summary here (also appended to $GITHUB_STEP_SUMMARY when set).")
@click.option("--github/--no-github", "github", default=None,
              help="Print ::error annotations (default: when GITHUB_ACTIONS=true).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1),
              help="How many files or layers to name for each failed rule.")
@image_options
def ci(image, config_path, no_config, max_size, max_compressed_size, max_wasted_bytes,
       max_wasted_percent, min_efficiency, max_layers, max_layer_size, forbid, path_budgets,
       allow_hidden_secrets, secrets_allow, max_growth, baseline, junit, json_path, html_path,
       markdown, github, top, image_sel, platform, no_hash, no_cache):
    try:
        _gate(image, config_path, no_config, max_size, max_compressed_size, max_wasted_bytes,
              max_wasted_percent, min_efficiency, max_layers, max_layer_size, forbid,
              path_budgets, allow_hidden_secrets, secrets_allow, max_growth, baseline, junit,
              json_path, html_path, markdown, github, top, image_sel, platform, no_hash, no_cache)
    except (CheckFailed, KeyboardInterrupt):
        raise
    except Exception as e:
        # Whatever stops the gate with exit 2, the JUnit file says so: a CI that reads
        # only the file must never mistake a missing verdict for a pass.
        message = (str(e) if isinstance(e, SlimscopeError)
                   else f"unexpected error: {type(e).__name__}: {e}")
        if junit:
            _write_junit_error(junit, image, message)
        if html_path:
            _write_html_error(html_path, image, message)
        raise


def _write_html_error(path: str, image: str, message: str) -> None:
    """The page says the run failed, rather than leaving none or last run's behind; the
    error that stopped the run stays the one reported, even if this write fails too."""
    from slimscope import html

    try:
        write_atomic(path, html.ci_error_page(image, message).encode())
    except (SlimscopeError, OSError):
        pass


def _gate(image, config_path, no_config, max_size, max_compressed_size, max_wasted_bytes,
          max_wasted_percent, min_efficiency, max_layers, max_layer_size, forbid, path_budgets,
          allow_hidden_secrets, secrets_allow, max_growth, baseline, junit, json_path, html_path,
          markdown, github, top, image_sel, platform, no_hash, no_cache):
    from slimscope.gate import config as gconfig
    from slimscope.gate import reports
    from slimscope.gate.rules import Context, build_rules, evaluate

    overrides = {k: v for k, v in {
        "max-size": max_size, "max-compressed-size": max_compressed_size,
        "max-wasted-bytes": max_wasted_bytes, "max-wasted-percent": max_wasted_percent,
        "min-efficiency": min_efficiency, "max-layers": max_layers,
        "max-layer-size": max_layer_size, "max-growth": max_growth, "baseline": baseline,
    }.items() if v is not None}
    if allow_hidden_secrets:
        overrides["no-hidden-secrets"] = False
    if forbid:
        overrides["forbid"] = forbid
    if secrets_allow:
        overrides["secrets-allow"] = secrets_allow
    if path_budgets:
        overrides["path-budgets"] = path_budgets
    cfg = gconfig.load(config_path, use_config=not no_config, overrides=overrides)
    if not build_rules(cfg):
        raise BadInput("no rule is enabled: give a budget (e.g. --max-size 200MB) or a config "
                       "file; a gate that checks nothing would always pass")
    if cfg.max_growth is not None and not cfg.baseline:
        raise BadInput("max-growth needs a baseline: --baseline FILE|IMAGE or `baseline` in "
                       f"the config{f' ({cfg.source})' if cfg.source else ''}")

    base_view = None
    if cfg.baseline:
        from slimscope.core.delta import load_view  # and the path table: only for a baseline
        base_view = load_view(cfg.baseline, lambda name: load_analysis(
            name, None, platform, no_hash, no_cache, "reading baseline"))
    analysis = load_analysis(image, image_sel, platform, no_hash, no_cache)
    if cfg.max_compressed_size is not None:
        # The rules read the analysis and change nothing: measure before they run.
        from slimscope.core.analysis import measure_compressed
        measure_compressed(analysis)

    ctx = Context(cfg, top=top, baseline=base_view)
    results = evaluate(analysis, ctx)
    diff = ctx.diff(analysis) if base_view is not None else None
    outcome = reports.Outcome(analysis, cfg, results, base_view, diff, top)

    if junit:
        write_atomic(junit, reports.render_junit(outcome))
    if json_path:
        write_atomic(json_path, reports.json_bytes(outcome))
    if html_path:
        from slimscope import html
        write_atomic(html_path, html.ci_page(reports.to_json(outcome)).encode())
    md = None
    if markdown or os.environ.get("GITHUB_STEP_SUMMARY"):
        md = reports.render_markdown(outcome, top)
    if markdown:
        write_atomic(markdown, md.encode() + b"\n")
    if md is not None:
        reports.append_step_summary(md)
    click.echo(reports.render_text(outcome, top))
    if github is None:
        github = os.environ.get("GITHUB_ACTIONS", "").lower() == "true"
    if github:
        for line in reports.github_annotations(outcome):
            click.echo(line)
    if not outcome.passed:
        failed = CheckFailed(outcome.verdict())
        # the report's last line says it already; on one terminal, once is enough
        failed.shown = sys.stdout.isatty() and sys.stderr.isatty()
        raise failed
