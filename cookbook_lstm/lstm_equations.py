"""The LSTM cell of recipe 03's "Getting ready", as six NumPy equations.

One step of TF1's BasicLSTMCell, written the way the chapter writes it:
the forget gate, the input gate, the candidate, the cell update, the output
gate and the output. The weights are the cell's own: its kernel
[input + units, 4 units] (rows for the input, then for h; columns for the
gates i, j, f, o in that order, j being the candidate) and its bias
[4 units]; like the cell, the forget gate adds forget_bias (1.0) to its
sum. tests/test_lstm_equations.py checks these lines against the cell and
TensorFlow's fused kernel; the notebooks show them step by step.
"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def split_kernel(kernel, bias, input_size):
    """The cell's kernel and bias as the chapter's weights, one set per gate.

    Returns {gate: (W, U, b)} for gates 'i', 'j', 'f', 'o': W [input x
    units] multiplies the input x, U [units x units] the last output h, b
    [units] is the bias.
    """
    units = bias.shape[0] // 4
    return {gate: (kernel[:input_size, k * units:(k + 1) * units],
                   kernel[input_size:, k * units:(k + 1) * units],
                   bias[k * units:(k + 1) * units])
            for k, gate in enumerate('ijfo')}


def lstm_step(x, h, c, kernel, bias, forget_bias=1.0):
    """One step of BasicLSTMCell: (c, h) after input x [batch x input].

    h, c: the last output and cell state [batch x units].
    """
    w = split_kernel(kernel, bias, x.shape[1])

    def gate(name):
        W, U, b = w[name]
        return x @ W + h @ U + b
    f = sigmoid(gate('f') + forget_bias)   # forget gate: how much of c to keep
    i = sigmoid(gate('i'))                 # input gate: how much of the candidate to add
    c_tilde = np.tanh(gate('j'))           # candidate cell state
    c = f * c + i * c_tilde                # cell update
    o = sigmoid(gate('o'))                 # output gate
    h = o * np.tanh(c)                     # output: the new h
    return c, h
