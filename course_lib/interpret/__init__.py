"""Looking inside a trained network (notebook 10): which pixels a decision rests on, what units respond to,
and how easily the decision is changed. Every function takes a course_lib.scratch model with NumPy arrays or a
torch model with tensors, and returns the same kind."""
from ._model import scores

# attribution
from .attribution import completeness_gap, guided_backprop, integrated_gradients, occlusion, saliency, smoothgrad
from .cam import class_activation_map, grad_cam, upsample_map
from .sanity import cascading_randomization, randomization_check, rank_correlation

# adversarial
from .adversarial import adversarial_batch, fgsm, fooling_rate, linear_score_change, loss_gradient, pgd
from .adversarial import random_sign

# features
from .features import (Box, Contributions, Projection, TopUnits, feature_maps, map_readability, map_resolution,
                       nearest_neighbour_agreement, pca_2d, penultimate_features, receptive_field,
                       top_activating, top_patches, unit_contributions)
from .maximize import activation_objective, deep_dream, gaussian_blur, maximize_activation
