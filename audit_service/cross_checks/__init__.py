"""The cross-check: shopper reports against what the cameras measured at the visit, the review of
disagreements, and each shopper's reliability. Rules in docs/performance.md, "Cross-check"."""
