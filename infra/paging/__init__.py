"""The SNS-to-PagerDuty relay (Lambda code) and what it sends."""
