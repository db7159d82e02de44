"""One self-contained HTML page per analysis, ci run or diff, built from their JSON
documents: `analysis_page`, `ci_page`, `ci_error_page`, `diff_page`."""

from slimscope.html.page import analysis_page, ci_error_page, ci_page, diff_page

__all__ = ["analysis_page", "ci_error_page", "ci_page", "diff_page"]
