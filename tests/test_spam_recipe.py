"""Recipe 02, the RNN spam classifier: its cell, its run, its corrections.

The BasicRNNCell against its equation on hand-made numbers; the tiny run's
printed lines and folder; a resumed run (inside an epoch, the messages'
order kept) and a killed one ending as the run that never stopped; the
corrections; the book's empty last batch; a foreign --data file refused.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import (PROJECT_DIR, RECIPES, assert_float32_close, folder_bytes, run_in_process)

TINY = ('--tiny', '--seed', 3, '--offline')


def record(folder):
    return json.loads((folder / 'record.json').read_text())


def losses(folder):
    """Each step's loss and accuracy, and each epoch's figures."""
    r = record(folder)
    return [row[3:4] + row[5:] for row in r['iterations']['rows']], r['held_out']


@pytest.mark.float32
def test_the_basic_rnn_cell_is_its_equation(graph):
    """h_t = tanh([x_t, h_{t-1}] W + b), the cell's one equation, on hand-made numbers."""
    import tensorflow as tf
    tf1 = tf.compat.v1
    x = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)       # [batch 2 x input 2]
    h = np.array([[0.1, -0.2, 0.3], [0.0, 0.4, -0.5]], np.float32)  # [batch 2 x units 3]
    W = np.arange(15, dtype=np.float32).reshape(5, 3) / 10 - 0.7    # [(2 + 3) x 3]
    b = np.array([0.05, -0.1, 0.2], np.float32)
    cell = tf1.nn.rnn_cell.BasicRNNCell(3)
    output, state = cell(tf.constant(x), tf.constant(h))
    graph.run(tf1.global_variables_initializer())
    kernel, bias = cell.trainable_variables
    graph.run([kernel.assign(W), bias.assign(b)])
    got_output, got_state = graph.run([output, state])
    want = np.tanh(np.concatenate([x, h], 1).astype(np.float64) @ W + b)
    # a five-term product and the bias, then tanh (|tanh'| <= 1)
    assert_float32_close(got_output, want, terms=6, steps=2, scale=3.0)
    assert np.array_equal(got_output, got_state)  # its output is its state


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('s02') / 'run'
    result = run_in_process('02', *TINY, '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_the_tiny_run_prints_the_books_lines_and_keeps_its_folder(tiny_run):
    out, result = tiny_run
    lines = result.stdout.splitlines()
    # the book's vocabulary and split, from the collection shipped in the package
    assert 'Vocabulary Size: 933' in lines
    assert '80-20 Train Test split: 4459 -- 1115' in lines
    r = record(out)
    epochs = [line for line in lines if line.startswith('Epoch: ')]
    assert epochs == ['Epoch: {}, Test Loss: {:.2}, Test Acc: {:.2}'.format(
        h['epoch'], h['loss'], h['accuracy']) for h in r['held_out']]
    assert [h['epoch'] for h in r['held_out']] == [1, 2]
    assert [h['iteration'] for h in r['held_out']] == [18, 36]  # 4,459 messages, 250 a batch
    names = {p.name for p in out.iterdir()}
    assert {'config.json', 'record.json', 'loss.png', 'accuracy.png', 'vocab.json',
            'model-18.index', 'model-36.index'} <= names
    config = json.loads((out / 'config.json').read_text())
    assert (config['recipe'], config['vocab_size'], config['num_batches'],
            config['single_softmax'], config['corpus']['sha256'][:8]) == (
        '02_implementing_rnn', 933, 18, False, '7d039a24')
    vocab = json.loads((out / 'vocab.json').read_text())['vocab2ix']
    assert vocab['<UNK>'] == 0 and len(vocab) == 933


def test_the_double_softmax_loss_never_goes_below_its_floor(tiny_run):
    # the printed code's loss takes softmax outputs (0 to 1) as logits: at best
    # -ln(e / (e + 1)) = 0.3133 per message, however right the model is
    rows, held_out = losses(tiny_run[0])
    floor = -np.log(np.e / (np.e + 1))
    assert all(row[0] >= floor - 1e-6 for row in rows)
    assert all(h['loss'] >= floor - 1e-6 for h in held_out)


def test_a_run_resumed_inside_an_epoch_ends_as_the_whole(tiny_run, tmp_path):
    whole, _ = tiny_run
    out = tmp_path / 'run'
    assert run_in_process('02', *TINY, '--max-steps', 25, '--out', out).returncode == 0
    resumed = run_in_process('02', '--resume', out, '--max-steps', 0)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'Resuming {} at iteration 26 (epoch 2, batch 8)'.format(out) in resumed.stdout
    # dropout, shuffled messages, the same losses and test figures to the bit
    assert losses(out) == losses(whole)


def test_a_run_killed_while_saving_resumes_to_the_same_end(tiny_run, tmp_path):
    """SIGKILL before the progress file of the second save (epoch 2's end): the
    resumed run trains epoch 2 again from model-18, in the same order."""
    whole, _ = tiny_run
    done = subprocess.run(
        [sys.executable, str(PROJECT_DIR / 'tests' / 'kill_during_save.py'), '2',
         str(tmp_path), str(RECIPES['02'])] + [str(a) for a in TINY] + ['--', 'progress'],
        capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ['progress', '-9'], done.stderr[-3000:]
    folder = tmp_path / 'progress'
    resumed = run_in_process('02', '--resume', folder)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'Resuming {} at iteration 19 '.format(folder) in resumed.stdout
    assert losses(folder) == losses(whole)


def test_single_softmax_changes_the_loss_alone(tiny_run, tmp_path):
    out = tmp_path / 'run'
    result = run_in_process('02', *TINY, '--single-softmax', '--max-steps', 1, '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    # the same seed, split, weights and first batch: its loss differs by the softmax alone
    book_first = losses(tiny_run[0])[0][0]
    assert losses(out)[0][0][0] != book_first[0] and losses(out)[0][0][1:] == book_first[1:]


def test_a_resumption_refuses_the_other_loss(tiny_run):
    out, _ = tiny_run
    before = folder_bytes(out)
    refused = run_in_process('02', '--resume', out, '--single-softmax')
    assert refused.returncode == 1
    assert refused.stderr.strip().startswith(
        "Cannot resume {}: --single-softmax True differs from the run's single_softmax = "
        'False'.format(out))
    assert folder_bytes(out) == before


def test_no_empty_batch_where_the_batch_size_divides_the_messages(tmp_path):
    # 4,459 = 13 x 343: the book's int(4459 / 343) + 1 = 14 batches, the last empty
    # (its loss the mean of nothing, nan); here 13
    out = tmp_path / 'run'
    result = run_in_process('02', *TINY, '--batch-size', 343, '--epochs', 1, '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((out / 'config.json').read_text())
    assert config['num_batches'] == 13
    assert [h['iteration'] for h in record(out)['held_out']] == [13]


def test_a_file_that_is_not_the_collection_is_refused_in_one_line(tmp_path):
    data = tmp_path / 'mine.txt'
    data.write_text('ham\tfine\nnot a label\tx\n')
    result = run_in_process('02', *TINY, '--data', data, '--out', tmp_path / 'run')
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith('Error: --data {}: line 2\'s label is '.format(data))
    assert not (tmp_path / 'run').exists()


def test_a_collection_too_small_to_train_is_refused_before_anything_is_written(tmp_path):
    data = tmp_path / 'one.txt'
    data.write_text('ham\tGo until jurong point, crazy.. Available only in bugis\n')
    result = run_in_process('02', *TINY, '--data', data, '--out', tmp_path / 'run')
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        'Error: the messages give a vocabulary of <UNK> alone (no word is seen more than '
        '--min-word-frequency 10 times): give a lower --min-word-frequency, or more messages.')
    assert not (tmp_path / 'run').exists()


def test_the_text_sampler_refuses_a_spam_run_and_names_the_classifier(tiny_run):
    out, _ = tiny_run
    result = run_in_process('sample', '--checkpoint', out)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        'Error: {} is a run of 02_implementing_rnn, which writes no text: give a run folder '
        'of recipe 03 or 04 (a run of recipe 02 classifies messages: '
        'tools/classify_messages.py).'.format(out))
