"""Looking inside a trained network (notebook 10): which pixels a decision rests on, what units respond to,
and how easily the decision is changed. Every function takes a course_lib.scratch model with NumPy arrays or a
torch model with tensors, and returns the same kind."""
