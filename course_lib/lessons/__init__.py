"""One module per notebook: what notebook NN draws, explores and runs as an experiment.

``lessons/nb05_convolution_arithmetic.py`` belongs to ``notebooks/05_convolution_arithmetic.ipynb``.
A helper that a second notebook needs moves down into the library (``course_lib.*``).
Every widget callback returns a matplotlib Figure; the notebook shows it.
"""
