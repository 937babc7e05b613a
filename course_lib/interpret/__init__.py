"""Looking inside a trained network (notebook 10): which pixels a decision rests on, what units respond to,
and how easily the decision is changed. Every function takes a course_lib.scratch model with NumPy arrays or a
torch model with tensors, and returns the same kind."""

# attribution
from .attribution import completeness_gap, guided_backprop, integrated_gradients, occlusion, saliency, smoothgrad
from .cam import class_activation_map, grad_cam, upsample_map
from .sanity import cascading_randomization, randomization_check, rank_correlation
