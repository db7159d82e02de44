"""`slimscope lint`: the Dockerfile's size, correctness and reproducibility findings."""

from __future__ import annotations

import click

from slimscope.cli.common import default_dockerfile, measured, not_empty, put_report, registry_options
from slimscope.errors import BadInput

LINT_HELP = """Size, correctness and reproducibility findings of the Dockerfile PATH
(default ./Dockerfile).

\b
Each finding names its line; with --image (the image built from PATH) it also
gives the bytes it costs, measured from the image's layers. A line that does not
parse is a parse-error finding and the rest is still linted.

\b
Silence a rule with `# slimscope ignore=RULE[,RULE]` on the line before an
instruction, `# slimscope global ignore=RULE` anywhere, --ignore RULE, or the
[lint] table of .slimscope.toml ([tool.slimscope.lint] of pyproject.toml):
ignore = [...], enable = [...], severity = {RULE = "error"}, trusted-registries
= [...], failure-threshold = "...". hadolint's `# hadolint ignore=DL3008` pragmas
and DLxxxx ids work for the rules that map. Exit 1 when a finding is at
--failure-threshold or above (default warning; none: always 0).

\b
Examples:
  slimscope lint
  slimscope lint app/Dockerfile --image app:1.0
  slimscope lint --format sarif -o slimscope.sarif
  slimscope lint --format github --failure-threshold error
  slimscope lint --enable pin-apt --ignore cd-in-run
"""

FORMAT_NAMES = ["text", "json", "sarif", "checkstyle", "gitlab", "github",
                "tty", "codeclimate", "gitlab_codeclimate"]


def _rule_table() -> str:
    from slimscope.dockerfile.rules import RULES

    rows = []
    for r in sorted(RULES.values(), key=lambda r: r.id):
        sev = r.severity if r.default else f"off ({r.severity} when enabled)"
        rows.append(f"{r.id:<26} {sev:<28} {','.join(r.hadolint) or '-':<14} {r.why}")
    return "\n".join(rows)


@click.command("lint", help=LINT_HELP)
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--image", metavar="IMAGE", help="The image built from PATH: measure each finding.")
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), default="text",
              show_default=True, help="Output format (hadolint's tty/codeclimate names accepted).")
@click.option("-o", "--output", metavar="OUT", type=click.Path(dir_okay=False), callback=not_empty,
              help="Write the report here instead of stdout.")
@click.option("--ignore", "ignores", metavar="RULE", multiple=True,
              help="Skip a rule (slimscope id or hadolint DLxxxx id); repeatable.")
@click.option("--enable", "enables", metavar="RULE", multiple=True,
              help="Turn on an off-by-default rule (the pin-* rules); repeatable.")
@click.option("--failure-threshold", "threshold", metavar="LEVEL",
              type=click.Choice(["error", "warning", "info", "style", "none"]), default=None,
              help="Exit 1 when a finding is at LEVEL (error, warning, info, style; none: never) "
                   "or above [default: warning, or the config's].")
@click.option("--config", "config", metavar="FILE", type=click.Path(dir_okay=False),
              help="Read [lint] from FILE instead of looking for .slimscope.toml/pyproject.toml.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 whatever the findings (--failure-threshold none).")
@click.option("--list-rules", is_flag=True, help="Print every rule (id, severity, hadolint id, why).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the layer-index cache.")
@registry_options
def lint_cmd(path, image, fmt, output, ignores, enables, threshold, config, exit_zero, list_rules,
             no_cache):
    from slimscope.dockerfile import lint, lint_config, lint_formats, parser
    from slimscope.dockerfile.rules import RULES

    if list_rules:
        click.echo(_rule_table())
        return
    path = default_dockerfile(path)
    if path is None:
        raise BadInput("no Dockerfile here: name one")
    cfg = lint_config.load(path, RULES, config)
    cfg.ignore |= {lint_config.check_rule(r, RULES, "--ignore") for r in ignores}
    for r in enables:
        cfg.enable |= set(lint_config.rule_ids(lint_config.check_rule(r, RULES, "--enable"), RULES))
    if threshold:
        cfg.failure_threshold = threshold
    df = parser.read(path, tolerant=True)
    _, measure = measured(df, image, no_cache)
    findings = lint.lint(df, measure, cfg)
    text = lint_formats.render(fmt, findings, path, image)
    if output or text:
        put_report(text, output)
    if not exit_zero and lint.fails(findings, cfg.failure_threshold):
        click.get_current_context().exit(1)
