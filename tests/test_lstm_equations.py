"""The chapter's six LSTM equations (lstm_equations.py) against the cell that trains."""
import numpy as np
import pytest
import tensorflow as tf

from conftest import assert_float32_close
from cookbook_lstm.lstm_equations import lstm_step, split_kernel

tf1 = tf.compat.v1

INPUT, UNITS, BATCH, STEPS = 5, 4, 3, 6


def weights_and_inputs():
    rng = np.random.RandomState(7)
    kernel = rng.uniform(-0.8, 0.8, (INPUT + UNITS, 4 * UNITS)).astype(np.float32)
    bias = rng.uniform(-0.5, 0.5, 4 * UNITS).astype(np.float32)
    xs = rng.uniform(-1, 1, (STEPS, BATCH, INPUT)).astype(np.float32)
    return kernel, bias, xs


def numpy_steps(kernel, bias, xs):
    """c and h after each step, from the equations in float64."""
    h = c = np.zeros((BATCH, UNITS))
    out = []
    for x in xs:
        c, h = lstm_step(x.astype(np.float64), h, c, kernel.astype(np.float64),
                         bias.astype(np.float64))
        out.append((c, h))
    return out


def test_the_kernel_splits_into_the_gates_in_tf1s_order():
    kernel = np.arange(3 * 8).reshape(3, 8)  # input 1, units 2: columns i i j j f f o o
    w = split_kernel(kernel, np.arange(8), 1)
    assert w['i'][0].tolist() == [[0, 1]] and w['j'][0].tolist() == [[2, 3]]
    assert w['f'][1].tolist() == [[12, 13], [20, 21]] and w['o'][2].tolist() == [6, 7]


@pytest.mark.float32
@pytest.mark.parametrize('kernel_kind', ['BasicLSTMCell', 'LSTMBlockCell'])
def test_the_equations_give_the_cells_c_and_h_over_several_steps(graph, kernel_kind):
    kernel, bias, xs = weights_and_inputs()
    want = numpy_steps(kernel, bias, xs)
    x = tf1.placeholder(tf.float32, [BATCH, INPUT])
    c_in = tf1.placeholder(tf.float32, [BATCH, UNITS])
    h_in = tf1.placeholder(tf.float32, [BATCH, UNITS])
    if kernel_kind == 'BasicLSTMCell':
        cell = tf1.nn.rnn_cell.BasicLSTMCell(UNITS)  # forget bias 1.0
        _, (c_out, h_out) = cell(x, tf1.nn.rnn_cell.LSTMStateTuple(c_in, h_in))
        graph.run([v.assign(kernel if v.name.endswith('kernel:0') else bias)
                   for v in cell.weights])
    else:  # TensorFlow's fused kernel, as fast_lstm runs it
        no_peephole = tf.zeros([UNITS])
        _, c_out, _, _, _, _, h_out = tf.raw_ops.LSTMBlockCell(
            x=x, cs_prev=c_in, h_prev=h_in, w=kernel, wci=no_peephole, wcf=no_peephole,
            wco=no_peephole, b=bias, forget_bias=1.0, cell_clip=-1.0, use_peephole=False)
    c = h = np.zeros((BATCH, UNITS), np.float32)
    for step, (x_t, (want_c, want_h)) in enumerate(zip(xs, want), 1):
        c, h = graph.run([c_out, h_out], {x: x_t, c_in: c, h_in: h})
        # Each gate sums INPUT + UNITS products and a bias in float32; the
        # step's error, and the error carried from the steps before (the
        # forget gate < 1 does not amplify it), give step x (INPUT + UNITS
        # + 1) x eps, relative to the terms' size (below 1 here: weights
        # < 0.8, inputs and h < 1; the tolerance's scale is 1 at least).
        assert_float32_close(c, want_c, terms=INPUT + UNITS + 1, steps=step)
        assert_float32_close(h, want_h, terms=INPUT + UNITS + 1, steps=step)
    # the state really moved: six steps from zero are not zero
    assert np.abs(c).min() > 0
