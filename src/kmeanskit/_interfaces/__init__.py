"""Interfaces: the command line and the HTTP service. They parse, call the library and present; no numerics."""
