"""After a deploy: `make verify` (read-only checks of the running stack) and `make test-alert` (fire, deliver, resolve).

See docs/after-deploy.md.
"""
