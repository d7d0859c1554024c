"""On-call tools: see what AMP's Alertmanager has firing and silence it, signing with botocore (SigV4)."""
