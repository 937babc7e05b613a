# Notebook 13's exercise section, for the notebook builder (exec'd with md(id, text) and code(id, text) defined).
# Assumes the setup cell every notebook has (np, torch, nn) and `from course_lib.exercises import check`.
# The section number, 11, is a guess: set it to the section's place in the notebook.

md("ex-h", r"""
## 11. Exercises

Write each function between the `### BEGIN SOLUTION` and `### END SOLUTION` lines (in the learner copy of this
notebook a stub that raises `NotImplementedError` stands there), then run the cell: `check` tries it on hidden
inputs against the reference and says what is off. NumPy only; every array has torch's shape, a batch of N rows
first.

**13.rnn_step.** `rnn_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh)`: one step of the plain RNN,

$$h' = \tanh(x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh}),$$

for `x` (N, I) and `h` (N, H), with torch's parameters `weight_ih` (H, I), `weight_hh` (H, H), `bias_ih` and
`bias_hh` (H,). Return h', (N, H).
""")

code("ex-rnn", r"""
def rnn_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    ### BEGIN SOLUTION
    return np.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)
    ### END SOLUTION

check("13.rnn_step", rnn_step)
ex_rnn_cell = nn.RNNCell(3, 5).double()          # torch's cell: 3 inputs, 5 hidden units
ex_x, ex_h = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)
ex_weights = [p.detach().numpy() for p in ex_rnn_cell.parameters()]   # weight_ih, weight_hh, bias_ih, bias_hh
assert np.allclose(rnn_step(ex_x.numpy(), ex_h.numpy(), *ex_weights), ex_rnn_cell(ex_x, ex_h).detach().numpy(),
                   rtol=0, atol=1e-12)
""")

md("ex-lstm-h", r"""
**13.lstm_step.** `lstm_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh)`: one step of the LSTM cell. The
weights are (4H, I) and (4H, H), the biases (4H,), their four H-row blocks stacked in torch's order i, f, g, o:

$$z = x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh} = [z_i, z_f, z_g, z_o], \qquad
i, f, o = \sigma(z_i), \sigma(z_f), \sigma(z_o), \qquad g = \tanh(z_g),$$

$$c' = f \odot c + i \odot g, \qquad h' = o \odot \tanh(c').$$

Return `(h_new, c_new)`, each (N, H).
""")

code("ex-lstm", r"""
def lstm_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    ### BEGIN SOLUTION
    z_i, z_f, z_g, z_o = np.split(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh, 4, axis=1)
    i, f, o = (1 / (1 + np.exp(-z)) for z in (z_i, z_f, z_o))
    c_new = f * c + i * np.tanh(z_g)
    return o * np.tanh(c_new), c_new
    ### END SOLUTION

check("13.lstm_step", lstm_step)
ex_lstm_cell = nn.LSTMCell(3, 4).double()        # torch's cell: 3 inputs, 4 hidden units, weight_ih (16, 3)
ex_x, ex_h, ex_c = (torch.randn(2, n, dtype=torch.float64) for n in (3, 4, 4))
ex_weights = [p.detach().numpy() for p in ex_lstm_cell.parameters()]
for mine, torchs in zip(lstm_step(ex_x.numpy(), ex_h.numpy(), ex_c.numpy(), *ex_weights),
                        ex_lstm_cell(ex_x, (ex_h, ex_c)), strict=True):      # (h', c') both
    assert np.allclose(mine, torchs.detach().numpy(), rtol=0, atol=1e-12)
""")

md("ex-params-h", r"""
**13.lstm_parameters.** `lstm_parameters(input_size, hidden_size, num_layers, bias)`: the number of parameters of
`nn.LSTM(input_size, hidden_size, num_layers, bias=bias)`. A layer reading n numbers a step holds `weight_ih`
(4h, n), `weight_hh` (4h, h) and, with `bias=True`, `bias_ih` and `bias_hh` (4h each):

$$4\,\big(h\,(n + h) + 2h\big),$$

with n = `input_size` for the first layer and n = h for every layer above it (it reads the h numbers of the layer
below).
""")

code("ex-params", r"""
def lstm_parameters(input_size, hidden_size, num_layers, bias):
    ### BEGIN SOLUTION
    h, total = hidden_size, 0
    for layer in range(num_layers):
        n = input_size if layer == 0 else h
        total += 4 * (h * (n + h) + (2 * h if bias else 0))
    return total
    ### END SOLUTION

check("13.lstm_parameters", lstm_parameters)
# two layers of 128 reading a digit row by row, 28 pixels a step: torch's own count
assert lstm_parameters(28, 128, 2, True) == sum(p.numel() for p in nn.LSTM(28, 128, 2).parameters()) == 212_992
""")

md("ex-clip-h", r"""
**13.clip_grad_norm.** `clip_grad_norm(grads, max_norm)`: clip a list of gradient arrays $g_1, \dots, g_K$ by their
global norm, as `torch.nn.utils.clip_grad_norm_` does. With m = `max_norm`:

$$\text{total} = \sqrt{\textstyle\sum_k \lVert g_k \rVert^2}, \qquad s = \frac{m}{\text{total} + 10^{-6}}, \qquad
g_k \leftarrow s\, g_k \ \text{ for every } k, \text{ only when } s < 1.$$

Return `(clipped, total_norm)`: the list of clipped arrays in order, and the total norm before clipping. One scale
for all the arrays keeps the gradient's direction.
""")

code("ex-clip", r"""
def clip_grad_norm(grads, max_norm):
    ### BEGIN SOLUTION
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    scale = max_norm / (total + 1e-6)
    return [g * min(scale, 1.0) for g in grads], total
    ### END SOLUTION

check("13.clip_grad_norm", clip_grad_norm)
ex_h_new, ex_c_new = ex_lstm_cell(ex_x, (ex_h, ex_c))        # the LSTM cell above: a loss, and its gradients
(ex_h_new.sum() + ex_c_new.sum()).backward()
ex_grads = [p.grad.numpy().copy() for p in ex_lstm_cell.parameters()]
ex_total = torch.nn.utils.clip_grad_norm_(ex_lstm_cell.parameters(), max_norm=0.01)   # torch's, in place
ex_clipped, ex_my_total = clip_grad_norm(ex_grads, 0.01)
assert ex_total > 0.01 and np.isclose(ex_my_total, ex_total.item(), rtol=1e-12)
assert all(np.allclose(mine, p.grad.numpy(), rtol=1e-12, atol=0)
           for mine, p in zip(ex_clipped, ex_lstm_cell.parameters(), strict=True))
""")
