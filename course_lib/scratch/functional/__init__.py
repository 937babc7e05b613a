"""Pure NumPy functions with explicit backward passes, named after ``torch.nn.functional``.

Every ``f(input, ...) -> output`` has a partner ``f_backward(grad_output, <what f saved>, <options>)``
that returns the gradient of a scalar loss with respect to the inputs, given ``grad_output = dL/d(output)``.
One file per family: dense (linear and activations), losses, convolution, pooling, normalization,
regularization (dropout), resampling (interpolate, cat), recurrent (one step of the RNN, LSTM and GRU cells).
"""
from .convolution import (
    col2im, conv2d, conv2d_backward, conv2d_loops, conv2d_loops_backward, conv_transpose2d, conv_transpose2d_backward,
    im2col,
)
from .dense import (
    leaky_relu, leaky_relu_backward, linear, linear_backward, log_softmax, log_softmax_backward, relu, relu_backward,
    sigmoid, sigmoid_backward, softmax, softmax_backward, tanh, tanh_backward,
)
from .losses import (
    binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_backward, cross_entropy,
    cross_entropy_backward, hinge_loss, hinge_loss_backward, mse_loss, mse_loss_backward,
)
from .normalization import batch_norm, batch_norm_backward
from .pooling import (
    adaptive_avg_pool2d, adaptive_avg_pool2d_backward, avg_pool2d, avg_pool2d_backward, lp_pool2d,
    lp_pool2d_backward, max_pool2d, max_pool2d_backward,
)
from .recurrent import (
    gru_cell, gru_cell_backward, lstm_cell, lstm_cell_backward, rnn_cell, rnn_cell_backward,
)
from .regularization import dropout, dropout_backward
from .resampling import cat, cat_backward, interpolate, interpolate_backward, interpolation_matrices
