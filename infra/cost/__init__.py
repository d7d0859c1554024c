"""Cost and cardinality: what a stack's monitoring will cost AMP before it runs.

`assumptions` (metric shapes; the label-value counts they multiply are the
configuration's, `infra.config.label_values`), `model` (series, samples,
query load), `pricing` (the bill from the stack file's price table), `limits`
(the workspace's label-set limits: the stack file's own and those derived
from the model); `python -m infra.cost <stack>` prints the breakdown.
"""
