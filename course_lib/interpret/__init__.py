"""Looking inside a trained network (notebook 10): which pixels a decision rests on, what units respond to,
and how easily the decision is changed. Every function takes a course_lib.scratch model with NumPy arrays or a
torch model with tensors, and returns the same kind."""

# adversarial
from .adversarial import adversarial_batch, fgsm, fooling_rate, linear_score_change, loss_gradient, pgd  # noqa: F401
from .adversarial import random_sign  # noqa: F401

# attribution
from .attribution import completeness_gap, guided_backprop, integrated_gradients, occlusion, saliency  # noqa: F401
from .attribution import smoothgrad  # noqa: F401
from .cam import class_activation_map, grad_cam, upsample_map  # noqa: F401

# features
from .features import feature_maps, map_readability, map_resolution, nearest_neighbour_agreement  # noqa: F401
from .features import pca_2d, penultimate_features, receptive_field, top_activating, top_patches  # noqa: F401
from .features import unit_contributions  # noqa: F401
from ._model import scores  # noqa: F401
