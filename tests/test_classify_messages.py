"""tools/classify_messages.py: one's own text messages classified with a run of recipe 02.

A tiny run of the recipe (in this process), then: the notebook's five new
texts, a file of messages, the words the vocabulary did not know and those
cut, checked by hand against the run's vocab.json; the probability against
the recipe's own graph (its saved meta graph, restored), for a run of the
printed code and one with --single-softmax; and the refusals, one line each.
"""
import json

import numpy as np
import pytest

from conftest import assert_float32_close, run_in_process, script_module

TINY = ('--tiny', '--seed', 3, '--offline', '--max-steps', 5)  # a checkpoint in seconds
LENGTH = 10  # the tiny run's max_sequence_length


def classify(*args):
    return run_in_process('classify', *args)


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('cls') / 'run'
    result = run_in_process('02', *TINY, '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def vocabulary(folder):
    return json.loads((folder / 'vocab.json').read_text())['vocab2ix']


def test_the_notebooks_five_texts_are_classified_one_line_each(tiny_run):
    result = classify(tiny_run)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    shown = ["'Hi, please respond asap to claim your change to win now'",
             "'Hey what are you doing for dinner tonight?'",
             "'New offer, show this text for 50% off of our inagural sale!'",
             "'Can you take the dog to the vet tomorrow?'",
             "'Congratulations! You have been randomly selected to recei...'"]
    for line, message in zip(lines, shown):
        verdict, probability, rest = line.split(None, 2)
        assert verdict in ('spam', 'ham') and 0 <= float(probability) <= 1
        assert (verdict == 'spam') == (float(probability) >= 0.5)
        assert rest.startswith(message)
    # 'inagural' (sic) is no word the messages used ten times
    assert 'unknown: ' in lines[2] and 'inagural' in lines[2].split('unknown: ')[1]
    assert "printed code's extra softmax (single_softmax false)" in result.stderr


def test_a_file_of_messages_one_a_line_blank_lines_skipped(tiny_run, tmp_path):
    messages = tmp_path / 'mine.txt'
    messages.write_bytes('Free entry: txt WIN now\n\n   \nsee you at 6 \u263a\nok\n'.encode())
    result = classify(tiny_run, '--messages-file', messages)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for line, message in zip(lines, ["'Free entry: txt WIN now'", "'see you at 6 \u263a'",
                                     "'ok'"]):
        assert line.split(None, 2)[2].startswith(message)


def test_the_unknown_and_the_cut_words_are_named(tiny_run):
    vocab2ix = vocabulary(tiny_run)
    message = 'Hello, Zzqx! Are you FREE to-night? 123 QWV zzqx to call now. The ZZQX blorp'
    # cleaned by hand: punctuation and digits dropped, lower case
    words = 'hello zzqx are you free tonight qwv zzqx to call now the zzqx blorp'.split()
    assert len(words) == 14
    assert 'zzqx' not in vocab2ix and 'qwv' not in vocab2ix and 'blorp' not in vocab2ix
    read, cut = words[:LENGTH], words[LENGTH:]
    assert cut == ['now', 'the', 'zzqx', 'blorp']
    # by hand from vocab.json: which of the words read the run did not keep
    unknown = []
    for word in read:
        if word not in vocab2ix and word not in unknown:
            unknown.append(word)
    assert unknown[:2] == ['zzqx', 'qwv'] and 'blorp' not in unknown
    result = classify(tiny_run, '--messages', message)
    assert result.returncode == 0, result.stderr[-3000:]
    line, = result.stdout.splitlines()
    assert line.endswith("  (unknown: {}; cut after 10 words: now the zzqx blorp)".format(
        ' '.join(unknown)))

    # and the ids fed: the vocabulary's, 0 for the unknown, cut at 10
    tool = script_module('classify')
    from cookbook_lstm import resuming
    from cookbook_lstm.spam_data import clean_text
    _, checkpoint, config, run_vocab, _, _ = resuming.load_run(tiny_run)
    classifier = tool.Classifier(checkpoint, config, run_vocab)
    reading, = classifier.read([clean_text(message)])
    assert reading.ids.tolist() == [vocab2ix.get(w, 0) for w in read]
    assert (reading.unknown, reading.cut) == (unknown, cut)
    short, = classifier.read(['you free'])
    assert short.ids.tolist() == [vocab2ix['you'], vocab2ix['free']] + [0] * (LENGTH - 2)


def recipe_graph(checkpoint, ids):
    """The recipe's own graph, from its saved meta graph, restored from checkpoint:
    its logits_out (the tensor its accuracy takes the argmax of) and the logits."""
    import tensorflow as tf
    tf1 = tf.compat.v1
    graph = tf1.Graph()
    with graph.as_default(), tf1.Session(graph=graph) as sess:
        saver = tf1.train.import_meta_graph(str(checkpoint) + '.meta')
        saver.restore(sess, str(checkpoint))
        argmax, = [op for op in graph.get_operations() if op.type == 'ArgMax'
                   and op.inputs[0].shape.as_list() == [None, 2]]
        logits_out = argmax.inputs[0]
        logits = logits_out.op.inputs[0] if logits_out.op.type == 'Softmax' else logits_out
        placeholders = [op.outputs[0] for op in graph.get_operations()
                        if op.type == 'Placeholder']
        x_data, = [p for p in placeholders if p.dtype == tf.int32 and p.shape.rank == 2]
        keep, = [p for p in placeholders if p.dtype == tf.float32]
        return sess.run([logits_out, logits], {x_data: ids, keep: 1.0})


@pytest.fixture(scope='module')
def single_softmax_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('cls1') / 'run'
    result = run_in_process('02', *TINY, '--single-softmax', '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.mark.parametrize('which', ['printed', 'single_softmax'])
def test_the_probability_is_the_softmax_of_the_recipes_own_logits(which, tiny_run, request):
    folder = tiny_run if which == 'printed' else request.getfixturevalue('single_softmax_run')
    from cookbook_lstm import resuming
    from cookbook_lstm.spam_data import clean_text
    _, checkpoint, config, vocab2ix, _, _ = resuming.load_run(folder)
    assert config['single_softmax'] == (which == 'single_softmax')
    message = 'URGENT! You have won a FREE prize: call now to claim, txt WIN to 80086'
    classifier = script_module('classify').Classifier(checkpoint, config, vocab2ix)
    readings = classifier.read([clean_text(message), 'ok see you at home'])
    ids = np.array([r.ids for r in readings])
    want_output, want_logits = recipe_graph(checkpoint, ids)
    rnn, embedding = config['rnn_size'], config['embedding_size']
    # the same ops on the same weights: rounding apart, the same logits and output
    assert_float32_close(classifier.logits(readings), want_logits,
                         terms=rnn + embedding + 1, steps=LENGTH + 1)
    assert_float32_close(classifier.outputs(readings), want_output,
                         terms=rnn + embedding + 1, steps=LENGTH + 2)
    logits = want_logits.astype(np.float64)
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    probabilities = classifier.probabilities(readings)
    assert_float32_close(probabilities, softmax, terms=rnn + embedding + 3, steps=LENGTH + 2)
    if which == 'printed':  # the model's own output is that softmax
        assert np.array_equal(classifier.outputs(readings), probabilities)
    # the line printed: the recipe's verdict (its argmax; spam is 0) and that probability
    line = classify(folder, '--messages', message).stdout.splitlines()[0]
    verdict = ['spam', 'ham'][int(np.argmax(want_output[0]))]
    assert line.startswith('{:4} {:.3f}  '.format(verdict, probabilities[0][0]))


@pytest.mark.parametrize('args, message', [
    (('--messages', 'hi', '  '), 'Error: message 2 is empty: give each message some words.'),
    (('--messages', '!!! 0800 123 :-)'),
     "Error: message 1 ('!!! 0800 123 :-)') has no words once cleaned as the recipe "
     "cleans (it drops punctuation and digits): give each message some words."),
])
def test_refusals_of_messages_are_one_line(tiny_run, args, message):
    result = classify(tiny_run, *args)
    assert (result.returncode, result.stdout) == (1, '')
    assert result.stderr.strip() == message


def test_refusals_of_files_are_one_line(tiny_run, tmp_path):
    advice = 'Give a text file of messages, one a line.'
    latin1 = tmp_path / 'latin1.txt'
    latin1.write_bytes('free entry\ncaf\u00e9 at 6\n'.encode('latin-1'))
    blank = tmp_path / 'blank.txt'
    blank.write_text('\n  \n\n')
    missing = tmp_path / 'missing.txt'
    for path, message in [
            (latin1, 'Error: {}: line 2 is not UTF-8 text (byte 0xe9). {}'.format(latin1, advice)),
            (blank, 'Error: {}: holds no messages. {}'.format(blank, advice)),
            (missing, 'Error: {}: no such file. {}'.format(missing, advice)),
            # worded for a file of the user's: give a file, not "move it away"
            (tmp_path, 'Error: {}: that is a folder, not a file. {}'.format(tmp_path, advice))]:
        result = classify(tiny_run, '--messages-file', path)
        assert (result.returncode, result.stdout) == (1, ''), path
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(message), lines


def test_refusals_of_run_folders_are_one_line(saved_run, tmp_path):
    missing = tmp_path / 'nowhere'
    result = classify(missing)
    assert (result.returncode, result.stdout) == (1, '')
    assert result.stderr.strip() == 'Error: {}: no such run folder or checkpoint.'.format(
        missing)
    # a run of another recipe (conftest's tiny run of recipe 04)
    result = classify(saved_run)
    assert (result.returncode, result.stdout) == (1, '')
    assert result.stderr.strip() == (
        'Error: {} is a run of recipe 04_stacking_multiple_lstm, not of 02_implementing_rnn: '
        'classify with a run of recipes/02_implementing_rnn.py.'.format(saved_run))


def test_messages_and_a_file_of_them_are_not_both_taken(tiny_run, tmp_path):
    result = classify(tiny_run, '--messages', 'hi', '--messages-file', tmp_path / 'm.txt')
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith(
        'give --messages or --messages-file, not both')
