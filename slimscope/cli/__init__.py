"""The `slimscope` command line: one group, one module per command. Nothing imports
this package; it imports the rest."""

from __future__ import annotations

import sys
import traceback

import click

from slimscope import __version__
from slimscope.errors import SlimscopeError, Terminated


class Group(click.Group):
    """Turns every expected failure into one line on stderr and its exit code."""

    def main(self, *args, **kwargs):
        """click's own handling prints a usage block for a bad option; here it is one
        `slimscope:` line with the way to the help, like every other error."""
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
        except click.UsageError as e:
            where = e.ctx.command_path if e.ctx else "slimscope"
            click.echo(f"slimscope: {e.format_message().rstrip('.')} (see '{where} --help')", err=True)
            sys.exit(2)
        except click.ClickException as e:
            click.echo(f"slimscope: {e.format_message()}", err=True)
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("slimscope: interrupted", err=True)
            sys.exit(130)
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx):
        debug = ctx.params.get("debug") or "--debug" in sys.argv
        try:
            return super().invoke(ctx)
        except SlimscopeError as e:
            if debug:
                traceback.print_exc()
            if not e.shown:
                click.echo(f"slimscope: {e}", err=True)
            ctx.exit(e.exit_code)
        except Terminated:
            click.echo("slimscope: terminated", err=True)
            ctx.exit(143)
        except KeyboardInterrupt:
            click.echo("slimscope: interrupted", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            ctx.exit(0)
        except Exception as e:  # a bug: still one line, with the way to see more
            if debug:
                traceback.print_exc()
                ctx.exit(2)
            click.echo(f"slimscope: unexpected error: {type(e).__name__}: {e} "
                       "(run with --debug for a traceback)", err=True)
            ctx.exit(2)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="slimscope")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def main(debug):
    """See where the bytes of a container image go, gate them in CI, make the image smaller.

    \b
    Examples:
      slimscope analyze myapp:1.2
      slimscope analyze sample-images/demo.tar --format json
      slimscope tui oci:./layout
    """


def _register() -> None:
    from slimscope.cli.analyze import analyze
    from slimscope.cli.ci import ci
    from slimscope.cli.diff import diff
    from slimscope.cli.dockerfile import dockerfile_cmd
    from slimscope.cli.lint import lint_cmd
    from slimscope.cli.slim import slim
    from slimscope.cli.tui import tui

    for command in (analyze, ci, diff, dockerfile_cmd, lint_cmd, slim, tui):
        main.add_command(command)


_register()
