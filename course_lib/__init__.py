"""Helper package of the course: from-scratch NumPy code (``scratch``) mirrored in PyTorch."""

__version__ = "0.1.0"
