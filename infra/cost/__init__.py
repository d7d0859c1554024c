"""Cost and cardinality: what a stack's monitoring will cost AMP before it runs.

`assumptions` (label-value counts and metric shapes), `model` (series,
samples, query load), `pricing` (the bill from the stack file's price table),
`limits` (AMP label-set limits derived from the model); `python -m infra.cost
<stack>` prints the breakdown.
"""
