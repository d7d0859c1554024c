"""`python -m lab [stack]`: run the alerting lab and print what it measured; exit 1 if a check fails."""

from __future__ import annotations

import sys

from lab.run import LabError, check, run_lab


def main(argv: list[str]) -> int:
    stack = argv[0] if argv else "dev"
    try:
        report = run_lab(stack)
    except LabError as error:
        print(f"lab failed: {error}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    problems = check(report)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
