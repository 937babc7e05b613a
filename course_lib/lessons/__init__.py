"""One module per notebook: what notebook NN draws, explores and runs as an experiment.

``lessons/nb05_convolution_arithmetic.py`` belongs to ``notebooks/05_convolution_arithmetic.ipynb``.
A helper that a second notebook needs moves down into the library (``course_lib.*``).

Figures, one convention for notebooks, tests and widgets:
- ``plot_*`` functions and widget callbacks (``explore_*``, ``playground``, ``browse_digit``) draw a new
  figure and end with ``return plots.finish(fig)`` (lay out, ``plt.close(fig)``, return the Figure); they never
  call ``plt.show()``. Closed, the figure is drawn once: as the value of the cell that ends with the call, by
  ``display(fig)`` in a cell that goes on, or by ``widgets.interact(callback, ...)``, which shows what the
  callback returns.
- ``draw_*(ax, ...)`` functions paint on an Axes they are given and return None.
"""
