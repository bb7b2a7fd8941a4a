"""Analysis: metrics, choosing k, profiles, monitoring (drift), and the table workflows built on them."""
