"""Presentation: plots and the HTML report."""
