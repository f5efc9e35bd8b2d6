"""What the chapter teaches next: other cells and wrappers, held-out text, the
learning rate's decay and TensorBoard, in the model and through the recipes."""
import dataclasses
import glob
import json
import math

import numpy as np
import pytest
import tensorflow as tf

from cookbook_lstm import errors
from cookbook_lstm import checkpoints, settings
from cookbook_lstm import shakespeare_data
from conftest import FLOAT32_EPS, run_in_process, script_module
from cookbook_lstm.model_parts import CELLS, stacked_cell
from lstm_model import LSTM_Model

tf1 = tf.compat.v1


def _names(variables):
    return sorted(v.op.name for v in variables)


def _count(variables):
    return int(sum(np.prod(v.shape.as_list()) for v in variables))


# Each cell's parameters for input width e and n units, counted from TF1's
# equations: an LSTM has 4 gates over [input, h] with a bias each (and
# LSTMCell's peepholes 3 diagonal vectors of n); a GRU 2 gates and a
# candidate; a basic RNN one layer.
def hand_count(cell, e, n, peepholes=False):
    return {'basic_lstm': 4 * ((e + n) * n + n),
            'lstm': 4 * ((e + n) * n + n) + (3 * n if peepholes else 0),
            'gru': 3 * ((e + n) * n + n),
            'basic_rnn': (e + n) * n + n}[cell]


CELL_NAMES = {
    'basic_lstm': ['basic_lstm_cell/bias', 'basic_lstm_cell/kernel'],
    'lstm': ['lstm_cell/bias', 'lstm_cell/kernel', 'lstm_cell/w_f_diag',
             'lstm_cell/w_i_diag', 'lstm_cell/w_o_diag'],
    'gru': ['gru_cell/candidate/bias', 'gru_cell/candidate/kernel', 'gru_cell/gates/bias',
            'gru_cell/gates/kernel'],
    'basic_rnn': ['basic_rnn_cell/bias', 'basic_rnn_cell/kernel'],
}


@pytest.mark.parametrize('cell', ['basic_lstm', 'lstm', 'gru', 'basic_rnn'])
@pytest.mark.parametrize('separate', [False, True], ids=['tied', 'separate'])
def test_each_cell_has_tf1_names_and_the_hand_counted_parameters(graph, cell, separate):
    peepholes = cell == 'lstm'
    with tf1.variable_scope('lstm_model'):
        LSTM_Model(16, 3, 2, 0.01, 3, 28, separate_layers=separate, cell=cell,
                   peepholes=peepholes)
    layers = range(3) if separate else range(1)
    assert _names(tf1.trainable_variables()) == sorted(
        ['lstm_model/lstm_vars/W', 'lstm_model/lstm_vars/b',
         'lstm_model/lstm_vars/embedding_mat'] +
        ['lstm_model/rnn_decoder/multi_rnn_cell/cell_{}/{}'.format(k, name)
         for k in layers for name in CELL_NAMES[cell]])
    output_and_embedding = 16 * 28 + 28 + 28 * 16
    assert _count(tf1.trainable_variables()) == \
        len(layers) * hand_count(cell, 16, 16, peepholes) + output_and_embedding


def test_wrappers_add_no_variables_and_the_sampling_model_never_drops(graph):
    with tf1.variable_scope('lstm_model') as scope:
        model = LSTM_Model(8, 2, 2, 0.01, 3, 10, separate_layers=True, cell='gru',
                           dropout=0.5, residual=True)
        scope.reuse_variables()
        sampler = LSTM_Model(8, 2, 1, None, 1, 10, infer_sample=True, separate_layers=True,
                             cell='gru', residual=True)
    assert _count(tf1.trainable_variables()) == 2 * hand_count('gru', 8, 8) + 8 * 10 + 10 + 80
    layer = model.lstm_cell._cells[0]
    assert type(layer).__name__ == 'ResidualWrapper'
    assert type(layer.cell).__name__ == 'DropoutWrapper'
    assert sampler.keep_prob is None
    assert type(sampler.lstm_cell._cells[0].cell).__name__ == 'GRUCell'
    # dropout draws a new mask each call, unless every unit is kept
    graph.run(tf1.global_variables_initializer())
    feed = {model.x_data: np.ones((2, 3), np.int32), model.y_output: np.ones((2, 3), np.int32)}
    dropped = [graph.run(model.cost, feed) for _ in range(2)]
    kept = [graph.run(model.cost, {**feed, model.keep_prob: 1.0}) for _ in range(2)]
    assert dropped[0] != dropped[1] and kept[0] == kept[1]


@pytest.mark.float32
def test_the_residual_wrapper_adds_the_input_to_the_cells_output(graph):
    x = tf.constant(np.random.RandomState(0).uniform(-1, 1, (2, 6)), tf.float32)
    h = tf.constant(np.random.RandomState(1).uniform(-1, 1, (2, 6)), tf.float32)
    residual = stacked_cell('basic_rnn', 6, 1, residual=True)
    with tf1.variable_scope('cell'):
        with_input, _ = residual(x, h)
    with tf1.variable_scope('cell', reuse=True):
        alone, _ = residual.cell(x, h)
    graph.run(tf1.global_variables_initializer())
    got, plain, inputs = graph.run([with_input, alone, x])
    # one float32 addition of two terms below 2 in size: a rounding of at most eps x 2
    np.testing.assert_allclose(got, plain + inputs, rtol=0, atol=2 * FLOAT32_EPS * 2)
    assert np.abs(got - plain).max() > 0.1  # the input is really there


def test_bad_cell_settings_are_clear_errors(graph):
    with pytest.raises(ValueError, match='Peepholes are an option of the lstm cell'):
        LSTM_Model(8, 1, 2, 0.01, 3, 10, peepholes=True)
    with pytest.raises(ValueError, match=r'embedding \(4\) must be as wide as the cell \(8\)'):
        LSTM_Model(8, 1, 2, 0.01, 3, 10, embedding_size=4, residual=True)
    with pytest.raises(ValueError, match='above 0 and at most 1, not 0'):
        LSTM_Model(8, 1, 2, 0.01, 3, 10, dropout=0)
    with pytest.raises(ValueError, match="cell must be one of basic_lstm, lstm, gru, "
                                         "basic_rnn, not 'rnn'"):
        LSTM_Model(8, 1, 2, 0.01, 3, 10, cell='rnn')


def test_the_cell_setting_offers_the_models_cells_and_old_folders_read_as_the_book():
    # The setting (flag and folder check) must not import TensorFlow, so the
    # model's names are a second list: a cell added to the model alone would
    # be refused by the flag, the sampler and --resume.
    assert settings.SETTINGS['cell'].kind.names == CELLS
    # A folder written before the new settings reads as the book's run: the
    # recipes' defaults, so that --resume and the sampler rebuild what trained
    for recipe in ('03', '04'):
        book = dataclasses.asdict(script_module(recipe).Config())
        assert {k: book[k] for k in settings.BEFORE} == settings.BEFORE


def test_the_learning_rate_fed_reaches_adam(graph):
    model = LSTM_Model(8, 1, 2, 0.05, 3, 10)
    graph.run(tf1.global_variables_initializer())
    feed = {model.x_data: np.ones((2, 3), np.int32), model.y_output: np.ones((2, 3), np.int32)}
    before = graph.run(tf1.trainable_variables())
    graph.run(model.train_op, {**feed, model.lr: 0.0})
    unchanged = graph.run(tf1.trainable_variables())
    graph.run(model.train_op, feed)  # the default: the rate given, 0.05
    changed = graph.run(tf1.trainable_variables())
    assert all(np.array_equal(a, b) for a, b in zip(before, unchanged))
    assert not all(np.array_equal(a, b) for a, b in zip(before, changed))


# ---- held-out text

def test_hold_out_keeps_the_end_of_the_text_in_whole_batches():
    ix = np.arange(20, dtype=np.int32)
    train, held = shakespeare_data.hold_out(ix, 0.5, 2, 3)
    assert train.tolist() == list(range(10))
    [(x, y)] = held
    assert x.tolist() == [[10, 11, 12], [13, 14, 15]]
    assert y.tolist() == [[11, 12, 13], [14, 15, 16]]
    same, none = shakespeare_data.hold_out(ix, 0.0, 2, 3)
    assert same is ix and none == []
    with pytest.raises(errors.CorpusError,
                       match='keeps 4 of the 20 tokens out of training, too few for one '
                             r'batch of 2 x 3 \+ 1: give a --valid-fraction of at least 0.35,'):
        shakespeare_data.hold_out(ix, 0.2, 2, 3)
    # a text too short for any fraction: no fraction to advise (it would be above 1)
    with pytest.raises(errors.CorpusError,
                       match=r'The text has 6 tokens, too few to hold out one batch of 2 x 3 '
                             r'\+ 1 and train on the rest: give a longer text'):
        shakespeare_data.hold_out(ix[:6], 0.5, 2, 3)


def events(folder):
    """Every scalar in a run's event files: {tag: [(step, value), ...]}, and the rest."""
    scalars, graphs, starts = {}, 0, []
    for path in sorted(glob.glob(str(folder / 'tensorboard' / 'events.out.tfevents.*'))):
        for event in tf1.train.summary_iterator(path):
            graphs += event.HasField('graph_def')
            if event.HasField('session_log'):
                starts.append((event.session_log.status, event.step))
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars, graphs, starts


def test_held_out_perplexity_each_epoch_and_tensorboard_scalars(corpus, tmp_path):
    out = tmp_path / 'run'
    result = run_in_process('04', '--tiny', '--batch-size', 32, '--seed', 3, '--corpus', corpus,
                            '--valid-fraction', 0.1, '--lr-decay', 0.5, '--tensorboard',
                            '--max-steps', 0, '--out', out)  # both epochs: no step limit
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((out / 'record.json').read_text())
    config = json.loads((out / 'config.json').read_text())
    assert (config['valid_fraction'], config['lr_decay'], config['tensorboard']) == \
        (0.1, 0.5, True)
    rows = record['iterations']['rows']
    per_epoch = config['num_batches']
    assert len(rows) == 2 * per_epoch
    held = record['held_out']
    assert [(h['epoch'], h['iteration']) for h in held] == [(1, per_epoch), (2, 2 * per_epoch)]
    for h in held:
        assert h['perplexity'] == pytest.approx(math.exp(h['loss']), rel=1e-12)
        assert 'Epoch: {}, Held-out Loss: {:.2f}, Perplexity: {:.1f}'.format(
            h['epoch'], h['loss'], h['perplexity']) in result.stdout.splitlines()

    scalars, graphs, starts = events(out)
    assert graphs == 1 and starts == []
    assert [step for step, _ in scalars['loss/train']] == [r[0] for r in rows]
    np.testing.assert_allclose([v for _, v in scalars['loss/train']], [r[3] for r in rows],
                               rtol=FLOAT32_EPS)  # the same float32 losses, as float32
    # the learning rate halves after each epoch
    rates = dict(scalars['learning_rate'])
    assert rates[1] == pytest.approx(0.0005) and rates[per_epoch + 1] == pytest.approx(0.00025)
    assert [s for s, _ in scalars['perplexity/held_out']] == [h['iteration'] for h in held]
    np.testing.assert_allclose([v for _, v in scalars['loss/held_out']],
                               [h['loss'] for h in held], rtol=FLOAT32_EPS)


def test_a_resumed_run_keeps_its_held_out_losses_and_tells_tensorboard(corpus, tmp_path):
    out = tmp_path / 'run'
    common = ('--tiny', '--batch-size', 32, '--seed', 4, '--corpus', corpus,
              '--valid-fraction', 0.1, '--tensorboard')
    first = run_in_process('04', *common, '--max-steps', 30, '--save-every', 30, '--out', out)
    assert first.returncode == 0, first.stderr[-3000:]
    per_epoch = json.loads((out / 'config.json').read_text())['num_batches']
    assert per_epoch < 30
    for flag, value in (('--cell', 'gru'), ('--dropout', '0.8'), ('--valid-fraction', '0.2'),
                        ('--residual', None), ('--peepholes', None)):
        refused = run_in_process('04', '--resume', out, flag, *([value] if value else []))
        assert refused.returncode == 1
        assert '{} '.format(flag) in refused.stderr and 'Drop {}'.format(flag) in refused.stderr
    resumed = run_in_process('04', '--resume', out, '--max-steps', 0, '--lr-decay', 0.5,
                             '--tensorboard')  # a writer is never turned on by the folder
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    record = json.loads((out / 'record.json').read_text())
    assert [h['epoch'] for h in record['held_out']] == [1, 2]
    assert record['resumptions'][0]['changed'] == {
        'lr_decay': {'from': 1.0, 'to': 0.5}, 'max_steps': {'from': 30, 'to': 0}}
    _, graphs, starts = events(out)
    assert graphs == 2 and starts == [(tf1.SessionLog.START, 31)]


def test_a_run_killed_just_after_saving_an_epochs_end_prints_its_held_out_loss_again(
        corpus, tmp_path, monkeypatch):
    """The held-out loss follows the save at an epoch's last iteration; a kill in
    between leaves a complete checkpoint whose record lacks it. Resumed from
    there, the run makes it again, the same number."""
    common = ('--tiny', '--batch-size', 32, '--seed', 5, '--corpus', corpus,
              '--valid-fraction', 0.1)
    probe = run_in_process('04', *common, '--max-steps', 1, '--out', tmp_path / 'probe')
    assert probe.returncode == 0, probe.stderr[-3000:]
    per_epoch = json.loads((tmp_path / 'probe' / 'config.json').read_text())['num_batches']
    saved_records = {}
    save = checkpoints.Checkpoints.save

    def save_and_keep_the_record(self, iteration, *args):
        save(self, iteration, *args)
        saved_records[iteration] = (self.run_dir / 'record.json').read_bytes()
    monkeypatch.setattr(checkpoints.Checkpoints, 'save', save_and_keep_the_record)
    out = tmp_path / 'run'
    args = ('--save-every', per_epoch, '--max-steps', per_epoch + 3, '--out', out)
    whole = run_in_process('04', *common, *args)
    assert whole.returncode == 0, whole.stderr[-3000:]
    want = json.loads((out / 'record.json').read_text())
    assert [h['iteration'] for h in want['held_out']] == [per_epoch]
    # the folder as a kill right after the save at the epoch's end leaves it
    checkpoints.remove_checkpoint(out / 'model-{}'.format(per_epoch + 3))
    checkpoints.write_pointer(out, ['model-{}'.format(per_epoch)])
    (out / 'record.json').write_bytes(saved_records[per_epoch])
    assert json.loads(saved_records[per_epoch])['held_out'] == []

    resumed = run_in_process('04', '--resume', out)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    line = 'Epoch: 1, Held-out Loss: {:.2f}, Perplexity: {:.1f}'.format(
        want['held_out'][0]['loss'], want['held_out'][0]['perplexity'])
    assert line in whole.stdout and line in resumed.stdout
    got = json.loads((out / 'record.json').read_text())
    assert got['held_out'] == want['held_out']  # the same process kind: the same bits
    assert [r[:4] for r in got['iterations']['rows']] == \
        [r[:4] for r in want['iterations']['rows']]


def test_new_flags_refuse_bad_values_in_one_line(tmp_path):
    out = str(tmp_path / 'run')
    for args, message in [
            (['--dropout', '0'], 'argument --dropout: must be a number from 0.01 to 1, got 0'),
            (['--lr-decay', '1.5'], 'argument --lr-decay: must be a number above 0 and at '
                                    'most 1, got 1.5'),
            (['--valid-fraction', '1'], 'argument --valid-fraction: must be a number from 0 '
                                        'to below 1, got 1'),
            (['--cell', 'lstmx'], "argument --cell: invalid choice: 'lstmx'"),
            (['--peepholes'], '--peepholes is an option of --cell lstm (LSTMCell); --cell '
                              'basic_lstm has no peepholes. Add --cell lstm, or drop '
                              '--peepholes.'),
            (['--cell', 'gru', '--cell-impl', 'fused'],
             "--cell-impl fused runs the book's BasicLSTMCell alone, not --cell gru: drop "
             '--cell-impl, or that.'),
            (['--residual', '--embedding-size', '8'],
             "--residual adds each layer's input to its output, so the embedding must be as "
             'wide as the cell: give --embedding-size 16 (now 8).')]:
        result = run_in_process('03', '--tiny', '--out', out, *args)
        assert result.returncode in (1, 2)
        lines = result.stderr.strip().splitlines()
        assert message in lines[-1], (args, result.stderr)
        assert not (tmp_path / 'run').exists()


# The book's cell alone: tests/test_resume.py and test_recipes.py
@pytest.mark.parametrize('cell', [('--cell', 'lstm', '--peepholes'),
                                  ('--cell', 'gru', '--dropout', '0.8'),
                                  ('--cell', 'basic_rnn', '--residual', '--separate-layers')],
                         ids=['lstm', 'gru-dropout', 'basic_rnn-residual'])
def test_each_cell_trains_samples_and_resumes(corpus, tmp_path, cell):
    out = tmp_path / 'run'
    trained = run_in_process('04', '--tiny', '--seed', 5, '--corpus', corpus,
                             '--max-steps', 12, '--out', out, *cell)
    assert trained.returncode == 0, trained.stderr[-3000:]
    config = json.loads((out / 'config.json').read_text())
    assert config['cell'] == cell[1]
    assert (config['dropout'], config['residual']) == ('--dropout' in cell and 0.8 or 1.0,
                                                       '--residual' in cell)
    sampled = run_in_process('sample', '--checkpoint', out, '--num', 5)
    assert sampled.returncode == 0, sampled.stderr[-3000:]
    assert sampled.stdout.splitlines()[0].startswith('thou art more')
    resumed = run_in_process('04', '--resume', out, '--max-steps', 15)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    rows = json.loads((out / 'record.json').read_text())['iterations']['rows']
    assert [r[0] for r in rows] == list(range(1, 16))


def test_the_sampler_refuses_the_fused_cell_for_a_gru_run(corpus, tmp_path):
    out = tmp_path / 'run'
    assert run_in_process('04', '--tiny', '--corpus', corpus, '--max-steps', 2, '--cell', 'gru',
                          '--out', out).returncode == 0
    refused = run_in_process('sample', '--checkpoint', out, '--cell-impl', 'fused')
    assert refused.returncode != 0
    assert "--cell-impl fused runs the book's BasicLSTMCell alone; this run has gru" \
        in refused.stderr
