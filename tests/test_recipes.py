"""Each recipe end to end, as a user runs it: a subprocess on a synthetic corpus."""
import hashlib
import json
import pickle
import re
import shlex
import signal

import numpy as np
import pytest
import tensorflow as tf

from cookbook_lstm import text_source
from cookbook_lstm import shakespeare_data as sd
from conftest import (PROJECT_DIR, interrupt_recipe, run_in_process, run_recipe,
                      seeded_graph)
from lstm_model import LSTM_Model

tf1 = tf.compat.v1
# The synthetic corpus once cleaned, written out by hand: its sonnet lines,
# the four play lines 30 times, and the licence line the book's cut keeps.
CLEANED_PLAY = [
    "romeo wherefore art thou romeo thou art more fair than the sun",
    "to be or not to be that is the question and thou art it",
    "juliet o romeo romeo wherefore art thou 'tis the unknown hour-",
    "thou art more lovely to be or not to be the unknown answer",
]
CLEANED_WORDS = ("from fairest creatures we desire increase that thereby beauty's rose "
                 "might never die".split() + ' '.join(CLEANED_PLAY * 30).split()
                 + 'end of the project gutenberg ebook of the complete works'.split())
# Vocabulary lengths, counted by hand. Words: the 25 words of the play lines
# (each seen 30 times, more than --min-word-freq 5), 'unknown' among them, plus
# the book's unused class: 26. Characters: space, "'", '-' and the 24 letters
# of a-y without x, plus 'unknown': 28.
VOCAB_LENGTH = {'03': 26, '04': 28}


def expected_vocab_length(recipe):
    """(the vocabulary length, the number of tokens) of the synthetic corpus."""
    tokens = len(CLEANED_WORDS) if recipe == '03' else len(' '.join(CLEANED_WORDS))
    return VOCAB_LENGTH[recipe], tokens


def test_the_hand_written_corpus_is_the_cleaned_synthetic_one(corpus_file):
    s_text, _ = text_source.gutenberg_text(corpus_file.read_bytes(), 'test')
    assert sd.clean_text(s_text) == ' '.join(CLEANED_WORDS)
    assert len(CLEANED_WORDS) == 13 + 30 * 50 + 10  # words per line: 12 + 14 + 11 + 13


@pytest.mark.parametrize('recipe', ['03', '04'])
def test_recipe_runs_end_to_end(recipe, corpus_file, tmp_path):
    out = tmp_path / "a run's folder"  # a shell would split it, and read the quote
    result = run_recipe(recipe, '--tiny', '--max-steps', 12, '--seed', 1,
                        '--corpus', corpus_file, '--out', out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    # TensorFlow's native start-up notices are held back ('I0000 00:00...', cuInit)
    assert not re.search(r'^[IWEF]\d{4} |cuInit|oneDNN custom operations', result.stderr,
                         re.MULTILINE), result.stderr[-3000:]

    # the book's lines, in the book's order and format
    vocab_length, num_tokens = expected_vocab_length(recipe)
    num_batches = int(num_tokens / (4 * 8)) + 1
    for line in ['Loading Shakespeare Data', 'Cleaning Text',
                 'Vocabulary Length = {}'.format(vocab_length),
                 'Starting Epoch #1 of 2.']:
        assert line in lines
    assert lines.index('Loading Shakespeare Data') < lines.index('Cleaning Text') \
        < lines.index('Vocabulary Length = {}'.format(vocab_length)) \
        < lines.index('Starting Epoch #1 of 2.')
    status = [l for l in lines if l.startswith('Iteration:')]
    assert len(status) == 1
    # the configuration's batch count beside the book's 'out of' count, explained
    assert "  num_batches = {}  (the status lines say 'out of {}', one more, as the book " \
        'prints)'.format(num_batches, num_batches + 1) in lines
    assert re.fullmatch(r'Iteration: 10, Epoch: 1, Batch: 10 out of {}, Loss: \d+\.\d\d'
                        .format(num_batches + 1), status[0])
    # at iteration 10, as in the book: the save, then the three samples
    after = lines[lines.index(status[0]) + 1:]
    assert after[0] == 'Model Saved To: {}'.format(out / 'model')
    assert after[1].startswith('thou art more')
    assert after[2].startswith('to be or not to')
    assert after[3].startswith('wherefore art thou')
    # the book's cut, on a file that has the book's layout but is not the book's file
    assert 'Text source: file {}; cut at character 7675 as the book does; the 2011 edition ' \
        "by its header, but not the book's file (sha256 {}..., not 7a8203c516f6...): 15,958 " \
        "bytes against the book's 5,589,889; another copy or revision of the 2011 " \
        'edition'.format(corpus_file.resolve(), hashlib.sha256(
            corpus_file.read_bytes()).hexdigest()[:12]) in lines
    # the last lines: where the printed samples stand beside the checkpoint the
    # sampler reads, a continuation drawn with the strategy measured best for the
    # recipe (30 words or 150 characters of the vocabulary, never 'unknown' nor
    # the book's unused class), the command for more
    strategy, options, num = {'03': ('topk, top 20', '--strategy topk --top-k 20', 30),
                              '04': ('weighted, temperature 0.3',
                                     '--strategy weighted --temperature 0.3', 150)}[recipe]
    assert lines[-5:-3] == [
        'The greedy samples above were printed at iteration 10; the last checkpoint is of '
        'iteration 12, 2 iterations later, so its greedy text may differ.',
        'Drawn from that checkpoint as the sampler draws best for this recipe ({}; '
        'docs/sampling.md):'.format(strategy)]
    assert lines[-3].startswith('thou art more')
    drawn = lines[-3].split()[3:] if recipe == '03' else list(lines[-3][len('thou art more'):])
    assert len(drawn) == num
    assert lines[-2] == 'More, drawn afresh each time: python {} --checkpoint {} {} --num ' \
        '{}'.format(PROJECT_DIR / 'tools' / 'sample_shakespeare.py', shlex.quote(str(out)),
                    options, num)
    # the command, copied into a shell, names the folder
    assert shlex.split(lines[-2].split(': ', 1)[1])[3] == str(out)

    # the run folder: checkpoints, vocabulary, settings and the figure
    assert (out / 'loss.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    with open(out / 'vocab.pkl', 'rb') as f:  # the book's file, written by this test's run
        vocab2ix, ix2vocab = pickle.load(f)
    assert json.loads((out / 'vocab.json').read_text())['vocab2ix'] == vocab2ix
    assert vocab2ix['unknown'] == 0 and ix2vocab[0] == 'unknown'
    assert all(ix2vocab[i] == w for w, i in vocab2ix.items())
    assert all(t in vocab2ix for t in drawn) and 'unknown' not in drawn
    checkpoint = tf.train.latest_checkpoint(str(out))
    assert checkpoint.endswith('model-12')
    assert (out / 'model-10.index').is_file()  # --tiny saves every 10

    # the last checkpoint restores into the model its config describes
    config = json.loads((out / 'config.json').read_text())
    assert config['vocab_size'] == vocab_length and config['max_steps'] == 12
    graph = seeded_graph()
    with graph.as_default(), tf1.Session(graph=graph) as sess:
        with tf1.variable_scope('lstm_model'):
            LSTM_Model(config['rnn_size'], config['num_layers'], 1, None, 1,
                       config['vocab_size'], infer_sample=True,
                       embedding_size=config['embedding_size'],
                       separate_layers=config['separate_layers'])
        tf1.train.Saver().restore(sess, checkpoint)
        W = [v for v in tf1.global_variables() if v.name == 'lstm_model/lstm_vars/W:0'][0]
        np.testing.assert_array_equal(
            sess.run(W), tf.train.load_checkpoint(checkpoint).get_tensor('lstm_model/lstm_vars/W'))


def test_recipe_04_separate_layers_prints_its_parameter_count(corpus_file, tmp_path):
    result = run_in_process('04', '--tiny', '--max-steps', 1, '--rnn-size', 128,
                            '--separate-layers', '--corpus', corpus_file, '--out', tmp_path / 'r')
    assert result.returncode == 0, result.stderr[-3000:]
    vocab_length, _ = expected_vocab_length('04')
    lstm = 3 * ((128 + 128) * 4 * 128 + 4 * 128)
    softmax_and_embedding = 128 * vocab_length + vocab_length + vocab_length * 128
    assert 'Trainable parameters = {:,}'.format(lstm + softmax_and_embedding) \
        in result.stdout.splitlines()


def test_run_folder_is_never_overwritten_silently(corpus_file, tmp_path):
    out = tmp_path / 'run'
    args = ('--tiny', '--max-steps', 1, '--corpus', corpus_file, '--out', out)
    assert run_in_process('03', *args).returncode == 0
    before = (out / 'config.json').read_text()
    again = run_in_process('03', *args)
    assert again.returncode != 0
    assert 'already holds a run' in again.stderr and '--overwrite' in again.stderr
    assert 'Traceback' not in again.stderr
    assert (out / 'config.json').read_text() == before
    (out / 'notes.txt').write_text('mine')
    replaced = run_in_process('03', *args, '--overwrite')
    assert replaced.returncode == 0, replaced.stderr[-3000:]
    assert (out / 'notes.txt').read_text() == 'mine'
    assert tf.train.latest_checkpoint(str(out)).endswith('model-1')


def test_empty_corpus_is_a_clear_error(tmp_path):
    empty = tmp_path / 'empty.txt'
    empty.write_bytes(b'\r\n ,;\r\n')
    result = run_in_process('04', '--tiny', '--corpus', empty, '--out', tmp_path / 'r')
    assert result.returncode != 0
    assert 'Error: The corpus is empty' in result.stderr
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'r').exists()  # no empty run folder left behind


def test_prime_word_outside_the_vocabulary_is_refused_before_training(tmp_path):
    corpus = tmp_path / 'c.txt'
    corpus.write_text('thou art more to be or not ' * 10)  # no 'wherefore'
    result = run_in_process('03', '--tiny', '--corpus', corpus, '--out', tmp_path / 'r')
    assert result.returncode != 0
    assert "outside the vocabulary: 'wherefore'" in result.stderr
    assert 'Starting Epoch' not in result.stdout
    assert 'Traceback' not in result.stderr


def test_bad_flag_value_is_a_clear_error(tmp_path):
    result = run_in_process('03', '--batch-size', 0)
    assert result.returncode == 2
    assert '--batch-size: must be a whole number of at least 1, got 0' in result.stderr


def test_ctrl_c_stops_a_run_started_with_sigint_ignored(corpus_file, tmp_path):
    # as a non-interactive shell starts a background job: SIGINT ignored
    returncode, _, stderr = interrupt_recipe(
        '03', ['--tiny', '--epochs', '100000', '--corpus', corpus_file,
               '--out', tmp_path / 'r'], 'Starting Epoch', sigint=signal.SIG_IGN)
    # our handler ran: a clean stop with status 130, not an endless run
    assert returncode == 130, stderr[-3000:]
    assert 'Interrupted' in stderr and 'Traceback' not in stderr
