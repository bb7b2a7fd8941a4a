"""Numba kernels: no validation, no policy. See each kernel's IN/OUT contract."""
