"""Entry point that the Pulumi CLI runs; the program lives in infra/."""

from infra.program import main

main()
