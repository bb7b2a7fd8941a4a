"""Algorithms: seeding, the assignment step and the one convergence loop."""
