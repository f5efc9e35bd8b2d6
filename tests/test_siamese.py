"""Recipe 06, the Siamese similarity measure: its data, its model file, its run.

The model file's loss against a NumPy transcription of the book's formula on
hand-made scores; the towers' shared weights; the typo generator's contract;
the dropout masks a resumed run repeats; and the recipe's tiny run: its
folder, its resumption (the same losses and accuracies to the last bit),
--corrected, and the matching command.
"""
import json
import random
import string
import subprocess
import sys

import numpy as np
import pytest

from conftest import (PROJECT_DIR, RECIPES, assert_float32_close, folder_bytes, interrupt_recipe, run_in_process,
                      script_module)

CHARACTERS = string.ascii_lowercase + '0123456789'


@pytest.fixture(scope='module')
def recipe():
    return script_module('06')


@pytest.fixture(scope='module')
def model():
    import sys
    sys.path.insert(0, str(PROJECT_DIR / 'recipes'))  # beside the driver, as the book has it
    import siamese_similarity_model
    return siamese_similarity_model


# ---------------------------------------------------------------- the data

def test_create_typo_changes_one_character_to_a_letter_or_digit(recipe):
    random.seed(0)
    changed = 0
    for _ in range(500):
        address = '{} {} {}'.format(random.randint(1, 9999), random.choice(recipe.street_names),
                                    random.choice(recipe.street_types))
        typo = recipe.create_typo(address)
        differ = [i for i, (a, b) in enumerate(zip(address, typo)) if a != b]
        assert len(typo) == len(address) and len(differ) <= 1
        if differ:
            changed += 1
            assert typo[differ[0]] in CHARACTERS
    # the book's typo may draw the character it replaces: one time in 36 or so
    assert 430 <= changed < 500


def test_a_batch_is_half_an_address_and_its_typo_half_mismatched(recipe):
    random.seed(1)
    batch = recipe.get_batch(8)
    assert [target for _, target in batch] == [1] * 4 + [-1] * 4
    for (address, other), target in batch:
        differ = sum(a != b for a, b in zip(address, other))
        if target == 1:  # an address and its own typo
            assert len(address) == len(other) and differ <= 1
    # the second half: each address with the typo of the one before it (np.roll)
    firsts = [pair[0] for pair, _ in batch[4:]]
    seconds = [pair[1] for pair, _ in batch[4:]]
    for k in range(4):
        before = firsts[k - 1]
        assert len(seconds[k]) == len(before) and \
            sum(a != b for a, b in zip(before, seconds[k])) <= 1
    assert [t for _, t in recipe.get_batch(6, dissimilar=0)] == [1, 1, 1, 0, 0, 0]


def test_address2onehot_gives_ids_padded_or_cut_to_the_length(recipe):
    assert recipe.address2onehot('ab 1', max_address_len=6) == [1, 2, 37, 28, 0, 0]
    assert recipe.address2onehot('ab 1') == [1, 2, 37, 28] + [0] * 16  # the book's 20
    assert recipe.address2onehot('abcdefgh', max_address_len=3) == [1, 2, 3]
    assert recipe.vocab_length == 38 and len(recipe.vocab2ix_dict) == 37
    assert 0 not in recipe.vocab2ix_dict.values()


# ---------------------------------------------------------------- the model file

def book_loss(s, y, margin):
    """The book's loss, transcribed: y * 0.25 (1 - s)^2 + (1 - y) s^2, zero where
    y == 0 and s < margin, averaged."""
    s, y = np.asarray(s, np.float64), np.asarray(y, np.float64)
    each = y * 0.25 * (1 - s) ** 2 + (1 - y) * s ** 2
    each[(y == 0) & (s < margin)] = 0
    return each.mean()


@pytest.mark.float32
def test_the_loss_is_the_books_formula_for_targets_1_0_and_minus_1(model, graph):
    import tensorflow as tf
    scores = [0.9, -0.3, 0.1, 0.3, 0.6, -0.8, 0.25, 1.0]
    for targets in ([1, 1, 1, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 1, 0, 1],
                    [1, 1, -1, -1, -1, -1, 1, -1]):
        got = graph.run(model.loss(tf.constant(scores), tf.constant(targets), 0.25))
        # each pair's loss in three float32 stages (a square, a product, a sum),
        # then an eight-term mean
        assert_float32_close(got, book_loss(scores, targets, 0.25), terms=8, steps=4)
    # the book's -1: a dissimilar pair at s = 0.1 costs 2(0.01) - 0.25(0.81) < 0,
    # the margin never applying
    minus = graph.run(model.loss(tf.constant([0.1]), tf.constant([-1]), 0.25))
    assert_float32_close(minus, 2 * 0.01 - 0.25 * 0.81, terms=2, steps=3)
    assert minus < 0
    assert graph.run(model.loss(tf.constant([0.1]), tf.constant([0]), 0.25)) == 0


def test_the_books_accuracy_counts_a_zero_score_wrong_the_corrected_one_by_margin(model, graph):
    import tensorflow as tf
    scores = tf.constant([0.5, -0.5, 0.0, 0.0, 0.2, 0.3])
    book = graph.run(model.accuracy(scores, tf.constant([1, -1, 1, -1, -1, 1])))
    assert book == pytest.approx(3 / 6)  # two zeros wrong either way; 0.2 for -1 wrong
    corrected = graph.run(model.corrected_accuracy(scores, tf.constant([1, 0, 1, 0, 0, 1]),
                                                   0.25))
    assert corrected == pytest.approx(5 / 6)  # only the 0.0 of a similar pair: below 0.25


def towers(model, recipe, keep=1.0, length=6, units=3):
    import tensorflow as tf
    tf1 = tf.compat.v1
    a1 = tf1.placeholder(tf.int32, [None, length])
    a2 = tf1.placeholder(tf.int32, [None, length])
    identity = tf1.diag(tf.ones([recipe.vocab_length]))
    scores = model.snn(tf.nn.embedding_lookup(identity, a1), tf.nn.embedding_lookup(identity, a2),
                       keep, recipe.vocab_length, units, length)
    return a1, a2, scores


@pytest.mark.float32
def test_the_two_towers_share_one_set_of_weights(model, recipe, graph):
    import tensorflow as tf
    a1, a2, scores = towers(model, recipe)
    names = sorted(v.op.name for v in tf.compat.v1.trainable_variables())
    assert names == ['A', 'b', 'bidirectional_rnn/bw/basic_lstm_cell/bias',
                     'bidirectional_rnn/bw/basic_lstm_cell/kernel',
                     'bidirectional_rnn/fw/basic_lstm_cell/bias',
                     'bidirectional_rnn/fw/basic_lstm_cell/kernel']
    graph.run(tf.compat.v1.global_variables_initializer())
    x = [recipe.address2onehot(a, max_address_len=6) for a in ('1 elm', '22 jay', 'abc')]
    got = graph.run(scores, {a1: x, a2: x})
    assert got.shape == (3,)
    # the same address through both towers: the same output, a cosine of 1 (the
    # graph's rewriting may order the two towers' float32 sums apart: each output
    # normalised, then a 10-term dot product)
    assert_float32_close(got, [1.0, 1.0, 1.0], terms=10, steps=2)


def test_the_dropout_masks_follow_the_step_fed(model, recipe, graph):
    import tensorflow as tf
    from cookbook_lstm.model_parts import dropout_step
    a1, a2, scores = towers(model, recipe, keep=tf.compat.v1.placeholder(tf.float32, []))
    keep = [t for t in tf.compat.v1.get_default_graph().get_operations()
            if t.type == 'Placeholder' and t.outputs[0].shape.rank == 0][0].outputs[0]
    graph.run(tf.compat.v1.global_variables_initializer())
    x = [recipe.address2onehot(a, max_address_len=6) for a in ('1 elm', '22 jay', 'abc', 'x y')]
    y = x[1:] + x[:1]

    def run(step, p=0.5):
        return graph.run(scores, {a1: x, a2: y, keep: p, dropout_step(): step})
    assert np.array_equal(run(3), run(3))  # a resumed run draws the same masks
    assert not np.array_equal(run(3), run(4))
    assert np.array_equal(run(3, 1.0), run(9, 1.0))  # keeping all: no mask at all


# ---------------------------------------------------------------- the recipe's run

TINY = ('--tiny', '--seed', 4)


def record(folder):
    return json.loads((folder / 'record.json').read_text())


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('s06') / 'run'
    result = run_in_process('06', *TINY, '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


def test_the_tiny_run_prints_the_books_lines_and_keeps_its_folder(tiny_run):
    out, result = tiny_run
    lines = result.stdout.splitlines()
    metrics = [line for line in lines if line.startswith('Training Metrics, Batch ')]
    assert [m.split(':')[0] for m in metrics] == ['Training Metrics, Batch 0',
                                                   'Training Metrics, Batch 10']
    assert "Query Addresses: ['111 abbey ln', '271 doner cicle', '314 king avenue', " \
        "'tensorflow is fun']" in lines
    assert any(line.startswith('Model Found Matches: [') for line in lines)
    names = {p.name for p in out.iterdir()}
    assert {'config.json', 'record.json', 'loss.png', 'checkpoint', 'vocab.json',
            'model-20.index', 'model-20.progress.npz'} <= names
    config = json.loads((out / 'config.json').read_text())
    assert (config['recipe'], config['batch_size'], config['n_batches'], config['corrected'],
            config['vocab_size'], config['max_address_len'], config['seed']) == (
                '06_siamese_similarity', 8, 20, False, 38, 8, 4)
    rows = record(out)['iterations']['rows']
    assert record(out)['iterations']['columns'][-1] == 'accuracy'
    assert [r[0] for r in rows] == list(range(1, 21))
    # the printed lines are the record's rows 1 and 11, to the printed digits
    assert metrics[1] == 'Training Metrics, Batch 10: Loss={:.3f}, Accuracy={:.3f}.'.format(
        rows[10][3], rows[10][5])
    matches = [s['text'] for s in record(out)['samples']]
    assert len(matches) == 4 and all(m in script_module('06').test_references for m in matches)


def test_a_resumed_run_ends_as_the_run_that_never_stopped(tiny_run, tmp_path):
    whole, _ = tiny_run
    out = tmp_path / 'run'
    first = run_in_process('06', *TINY, '--max-steps', 13, '--out', out)
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = run_in_process('06', '--resume', out, '--max-steps', 0)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'Resuming {} at iteration 14 '.format(out) in resumed.stdout
    want, got = record(whole), record(out)
    # dropout on, batches drawn at random: the same losses and accuracies to the bit
    assert [r[3:4] + r[5:] for r in got['iterations']['rows']] == \
        [r[3:4] + r[5:] for r in want['iterations']['rows']]
    assert got['samples'][-4:] == want['samples']
    assert got['status'] == 'finished'


def test_a_resumption_refuses_another_target_convention(tiny_run):
    out, _ = tiny_run
    before = folder_bytes(out)
    refused = run_in_process('06', '--resume', out, '--corrected')
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "Cannot resume {}: --corrected True differs from the run's corrected = False, and "
        "that setting shapes the model, its batches or its random state. Drop --corrected "
        "to continue the run, or start a new run with --out.".format(out)]
    assert folder_bytes(out) == before


def test_corrected_feeds_targets_1_and_0_and_its_loss_is_never_negative(tiny_run, tmp_path):
    out = tmp_path / 'run'
    result = run_in_process('06', *TINY, '--corrected', '--max-steps', 10, '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = record(out)['iterations']['rows']
    assert all(r[3] >= 0 for r in rows)  # the margin's zero, never the book's negative terms
    # the same seed, batches and weights as the book's run: the first batch's
    # loss differs by its dissimilar targets alone
    book_first = record(tiny_run[0])['iterations']['rows'][0][3]
    assert rows[0][3] != book_first


@pytest.mark.parametrize('args, message', [
    (('--batch-size', 5), '--batch-size 5: recipe 06 makes half of each batch similar pairs '
                          'and half mismatched ones, at least two of each; give an even '
                          'number of at least 4.'),
    (('--margin', 2), 'argument --margin: must be a number from -1 to 1, got 2'),
    (('--dropout-keep-prob', 0), 'argument --dropout-keep-prob: must be a number from 0.01 '
                                 'to 1, got 0'),
])
def test_bad_settings_are_refused_in_one_line(args, message, tmp_path):
    result = run_in_process('06', *TINY, *args, '--out', tmp_path / 'run')
    assert result.returncode in (1, 2)
    assert result.stderr.strip().splitlines()[-1].endswith(message)
    assert not (tmp_path / 'run').exists()


def test_help_lists_only_what_the_recipe_takes():
    result = run_in_process('06', '--help')
    for flag in ('--batch-size', '--n-batches', '--margin', '--corrected', '--resume',
                 '--tiny', '--seed', '--max-steps', '--out', '--overwrite'):
        assert flag in result.stdout
    for flag in ('--corpus', '--offline', '--rnn-size', '--epochs', '--tensorboard'):
        assert flag not in result.stdout


# ---------------------------------------------------------------- matching

def test_matching_a_saved_run_with_ones_own_addresses(tiny_run, tmp_path):
    out, _ = tiny_run
    book = run_in_process('match', out)
    assert book.returncode == 0, book.stderr[-3000:]
    want = [s['text'] for s in record(out)['samples']]
    assert 'Model Found Matches: {}'.format(want) in book.stdout  # as the run found them
    references = tmp_path / 'refs.txt'
    references.write_text('12 elm st\n\n9 baker rd\n')
    mine = run_in_process('match', out, '--queries', '12 Elm St', '--references-file',
                          references)
    assert mine.returncode == 0, mine.stderr[-3000:]
    # the same address, lower-cased, is its own best match at a score of 1
    assert "'12 elm st' -> '12 elm st' (score 1.000)" in mine.stdout


@pytest.mark.parametrize('args, message', [
    (('--queries', '12 Elm St.'), "Error: '12 Elm St.' (of the queries) has characters the "
                                  "model never saw: '.'. It knows a-z, 0-9 and the space "
                                  "only; write the address with those (drop the "
                                  "punctuation)."),
    (('--queries', ' '), 'Error: an empty address among the queries: give each some '
                         'characters.'),
])
def test_matching_refuses_what_the_model_cannot_read(tiny_run, args, message):
    out, _ = tiny_run
    result = run_in_process('match', out, *args)
    assert result.returncode == 1
    assert result.stderr.strip() == message


def test_matching_refuses_a_language_model_run(saved_run):
    result = run_in_process('match', saved_run)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        'Error: {} is a run of recipe 04_stacking_multiple_lstm, not of 06_siamese_similarity: '
        'match with a run of recipes/06_siamese_similarity.py.'.format(saved_run))


# ---------------------------------------------------------------- Ctrl-C and a kill

def test_ctrl_c_saves_and_the_resumed_run_ends_as_the_whole(tiny_run, tmp_path):
    whole, _ = tiny_run
    out = tmp_path / 'run'
    code, stdout, stderr = interrupt_recipe('06', list(TINY) + ['--out', out],
                                            'Training Metrics, Batch 10')
    assert code == 130, stderr[-3000:]
    assert 'To continue: ' in stderr and record(out)['status'] == 'interrupted'
    resumed = run_in_process('06', '--resume', out)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert [r[3:4] + r[5:] for r in record(out)['iterations']['rows']] == \
        [r[3:4] + r[5:] for r in record(whole)['iterations']['rows']]


KILL_POINTS = ('progress', 'pointer')


@pytest.fixture(scope='module')
def killed(tmp_path_factory):
    """A tiny run SIGKILLed before each of KILL_POINTS of its second save (iteration
    20, its last): one forked process a point."""
    base = tmp_path_factory.mktemp('killed06')
    done = subprocess.run(
        [sys.executable, str(PROJECT_DIR / 'tests' / 'kill_during_save.py'), '2',
         str(base), str(RECIPES['06'])] + [str(a) for a in TINY] + ['--'] + list(KILL_POINTS),
        capture_output=True, text=True, timeout=300)
    ended = dict(line.rsplit(' ', 1) for line in done.stdout.splitlines())
    assert ended == {point: '-9' for point in KILL_POINTS}, done.stderr[-3000:]
    return base


@pytest.mark.parametrize('point', KILL_POINTS)
def test_a_run_killed_while_saving_resumes_to_the_same_end(tiny_run, killed, point):
    """Resumed from model-10 (the second save's progress file not yet written: ten
    batches again) or from model-20 (complete, the pointer not yet moved: only the
    matches, the record and the figure left), it ends as the whole run."""
    whole, _ = tiny_run
    folder = killed / point
    assert record(folder)['status'] == 'running'
    resumed = run_in_process('06', '--resume', folder)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    if point == 'progress':
        assert 'Resuming {} at iteration 11 '.format(folder) in resumed.stdout
    else:
        assert 'Completing {}: '.format(folder) in resumed.stdout
    assert [r[3:4] + r[5:] for r in record(folder)['iterations']['rows']] == \
        [r[3:4] + r[5:] for r in record(whole)['iterations']['rows']]
    assert record(folder)['samples'] == record(whole)['samples']
    assert record(folder)['status'] == 'finished' and (folder / 'loss.png').is_file()


def test_more_batches_on_resume(tmp_path):
    out = tmp_path / 'run'
    assert run_in_process('06', *TINY, '--max-steps', 5, '--out', out).returncode == 0
    grown = run_in_process('06', '--resume', out, '--n-batches', 24, '--max-steps', 0)
    assert grown.returncode == 0, grown.stderr[-3000:]
    assert 'Resuming {} at iteration 6 '.format(out) in grown.stdout
    r = record(out)
    assert [row[0] for row in r['iterations']['rows']] == list(range(1, 25))
    assert r['status'] == 'finished' and {s['iteration'] for s in r['samples']} == {5, 24}
    again = run_in_process('06', '--resume', out, '--n-batches', 24)
    assert again.returncode == 0
    assert again.stderr.strip() == (
        'The run already did 24 batches; nothing is left to train. Nothing was written. Give '
        'a larger --max-steps (0: no limit) or --n-batches to train it further.')
