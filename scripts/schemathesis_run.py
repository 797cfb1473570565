"""Runs the schemathesis CLI (`st run ...`) with one workaround for the interpreter here.

CPython 3.11 before 3.11.8 can raise `SystemError: AST constructor recursion depth mismatch` from
`ast.parse` when it is called deep in the stack (CPython gh-106905). Hypothesis parses source
files only to *describe* lambdas in strategy reprs, and schemathesis then reports that
SystemError as a runtime error of the run. A description is cosmetic, so here it falls back to
Hypothesis's own "<unknown>" form instead; nothing about generation or checking changes.
"""

import sys

from hypothesis.internal import lambda_sources

_describe = lambda_sources._lambda_description


def _lambda_description(f, *args, **kwargs):
    try:
        return _describe(f, *args, **kwargs)
    except SystemError:
        return "lambda: <unknown>"


lambda_sources._lambda_description = _lambda_description

from schemathesis.cli import schemathesis  # noqa: E402 (after the patch, on purpose)

if __name__ == "__main__":
    sys.exit(schemathesis())
