"""Looking inside a trained network (notebook 10): which pixels a decision rests on, what units respond to,
and how easily the decision is changed. Every function takes a course_lib.scratch model with NumPy arrays or a
torch model with tensors, and returns the same kind."""

# features
from .features import (Box, Contributions, Projection, TopUnits, feature_maps, map_readability, map_resolution,
                       nearest_neighbour_agreement, pca_2d, penultimate_features, receptive_field,
                       top_activating, top_patches, unit_contributions)
from .maximize import activation_objective, deep_dream, gaussian_blur, maximize_activation
