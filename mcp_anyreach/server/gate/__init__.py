"""The confirmation gate: previews, confirmation tokens and the audit log around every write."""
