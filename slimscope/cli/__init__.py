"""The `slimscope` command line: one group, one module per command. Nothing imports
this package; it imports the rest."""

from __future__ import annotations

import importlib
import sys

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

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, cmd_name):
        if cmd_name not in COMMANDS:
            return None
        module, attr = COMMANDS[cmd_name]
        return getattr(importlib.import_module(module), attr)

    def resolve_command(self, ctx, args):
        name = click.utils.make_str(args[0])
        unknown = getattr(click.exceptions, "NoSuchCommand", None)   # click >= 8.2
        if (unknown is not None and name not in COMMANDS and not name.startswith("-")
                and not ctx.resilient_parsing):
            raise unknown(name, possibilities=list(COMMANDS), ctx=ctx)   # "did you mean"
        return super().resolve_command(ctx, args)

    def invoke(self, ctx):
        debug = ctx.params.get("debug") or "--debug" in sys.argv
        try:
            return super().invoke(ctx)
        except SlimscopeError as e:
            if debug:
                import traceback
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
                import traceback
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


# name -> module and attribute: a command's module is imported when it runs (or for
# --help), so `analyze` does not pay for the junit writer of `ci` or the linter
COMMANDS = {
    "analyze": ("slimscope.cli.analyze", "analyze"),
    "ci": ("slimscope.cli.ci", "ci"),
    "diff": ("slimscope.cli.diff", "diff"),
    "dockerfile": ("slimscope.cli.dockerfile", "dockerfile_cmd"),
    "lint": ("slimscope.cli.lint", "lint_cmd"),
    "slim": ("slimscope.cli.slim", "slim"),
    "tui": ("slimscope.cli.tui", "tui"),
}


