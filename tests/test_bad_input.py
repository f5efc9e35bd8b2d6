"""Bad input and damaged run folders: one line that says what to do, nothing touched.

The recipes and the sampler run in this process (conftest.run_in_process),
as their command lines run them.
"""
import errno
import json
import os

import numpy as np
import pytest

from cookbook_lstm.record import read_record
from cookbook_lstm import checkpoints
from conftest import folder_bytes, run_in_process

TINY_04 = ('--tiny', '--seed', 2)


def one_line_error(result, status=1):
    """The result failed with `status` and one line of message (argparse: usage too)."""
    assert result.returncode == status, (result.stdout[-2000:], result.stderr[-3000:])
    assert 'Traceback' not in result.stderr
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    if status == 2:  # argparse: usage, then one line
        lines = [l for l in lines if not l.startswith(('usage:', ' '))]
    assert len(lines) == 1, result.stderr
    return lines[0]


# ---------------------------------------------------------------- flags

@pytest.mark.parametrize('args, message', [
    (('--seed', -1), 'argument --seed: must be a whole number from 0 to 4294967295, got -1'),
    (('--seed', 99999999999),
     'argument --seed: must be a whole number from 0 to 4294967295, got 99999999999'),
    (('--out', ''), 'argument --out: is empty: name a folder for the run'),
    (('--resume', ' '), 'argument --resume: is empty: name a folder for the run'),
])
def test_bad_flag_values_are_refused_by_the_parser(args, message, tmp_path):
    result = run_in_process('03', *args)
    assert message in one_line_error(result, status=2)


def test_a_model_larger_than_memory_is_refused_before_it_is_built(corpus, tmp_path):
    # (each flag within its own bound: the memory check refuses them together)
    result = run_in_process('03', '--tiny', '--rnn-size', 16384, '--embedding-size', 16384,
                            '--batch-size', 1000, '--seq-len', 1000, '--corpus', corpus,
                            '--out', tmp_path / 'r')
    line = one_line_error(result)
    assert line.startswith('The model would need at least ')
    assert 'Give a smaller --rnn-size' in line
    assert 'Starting Epoch' not in result.stdout
    assert not (tmp_path / 'r').exists()


def test_an_out_folder_that_cannot_be_written_is_refused_before_any_work(corpus, tmp_path):
    if os.geteuid() == 0:  # root writes in any folder, whatever its mode; not in /sys
        target, where = '/sys/cookbook-run', '/sys'
    else:
        locked = tmp_path / 'locked'
        locked.mkdir(mode=0o500)
        target, where = locked / 'run', locked
    result = run_in_process('04', '--tiny', '--corpus', corpus, '--out', target)
    assert one_line_error(result) == '--out {}: cannot write in {} (Permission denied). ' \
                                     'Choose a folder you can write to.'.format(target, where)
    assert 'Loading Shakespeare Data' not in result.stdout


def test_an_out_folder_inside_a_file_is_named(corpus, tmp_path):
    (tmp_path / 'notes.txt').write_text('mine')
    result = run_in_process('04', '--tiny', '--corpus', corpus,
                            '--out', tmp_path / 'notes.txt' / 'sub')
    assert one_line_error(result) == '--out {}: {} is a file, not a folder. Name a folder ' \
                                     'for the run.'.format(tmp_path / 'notes.txt' / 'sub',
                                                           tmp_path / 'notes.txt')
    assert (tmp_path / 'notes.txt').read_text() == 'mine'


def test_a_folder_given_as_the_corpus_says_so(tmp_path):
    result = run_in_process('04', '--tiny', '--corpus', tmp_path, '--out', tmp_path / 'r')
    assert one_line_error(result) == 'Error: --corpus {}: that is a folder. Give the path ' \
                                     'of a raw Project Gutenberg text file ' \
                                     '(pg100.txt).'.format(tmp_path)


# ---------------------------------------------------------------- --overwrite

def test_overwrite_removes_only_the_runs_files_and_lists_them(corpus, run_copy):
    (run_copy / 'model-notes.txt').write_text('mine')
    result = run_in_process('04', *TINY_04, '--max-steps', 1, '--corpus', corpus,
                            '--out', run_copy, '--overwrite')
    assert result.returncode == 0, result.stderr[-3000:]
    listed = [l for l in result.stdout.splitlines() if l.startswith('--overwrite:')]
    assert listed == ["--overwrite: removed the earlier run's 14 files: checkpoint, "
                      'config.json, loss.png, model-10.data-00000-of-00001, model-10.index, '
                      'model-10.meta, model-10.progress.npz, model-12.data-00000-of-00001, '
                      'model-12.index, model-12.meta, model-12.progress.npz, record.json, '
                      'vocab.json, vocab.pkl']
    assert (run_copy / 'model-notes.txt').read_text() == 'mine'
    assert checkpoints.read_pointer(run_copy) == (['model-1'], None)


def test_overwrite_refuses_a_folder_whose_config_json_is_not_ours(corpus, tmp_path):
    out = tmp_path / 'theirs'
    out.mkdir()
    (out / 'config.json').write_text('{"learning_rate": 3}\n')
    before = folder_bytes(out)
    result = run_in_process('04', '--tiny', '--corpus', corpus, '--out', out, '--overwrite')
    assert one_line_error(result).startswith('--overwrite: {} was not written by this '
                                             'project'.format(out / 'config.json'))
    assert folder_bytes(out) == before


# ---------------------------------------------------------------- a damaged folder, resumed

def _edit_json(path, change):
    content = json.loads(path.read_text())
    path.write_text(json.dumps(change(content)))


def _drop_from_progress(path, name):
    with np.load(path) as npz:
        kept = {k: npz[k] for k in npz.files if k != name}
    np.savez(path, **kept)


def _truncate(path):
    path.write_bytes(path.read_bytes()[:60])


DAMAGES = {
    'config rnn_size a string': (
        lambda d: _edit_json(d / 'config.json', lambda c: dict(c, rnn_size='16')),
        '"rnn_size" is "16", it must be a whole number of at least 1'),
    'config rnn_size wrong': (
        lambda d: _edit_json(d / 'config.json', lambda c: dict(c, rnn_size=32)),
        'lstm_model/lstm_vars/W is [16, 28] in the checkpoint but [32, 28] in the model '
        'config.json describes'),
    'config a list': (
        lambda d: (d / 'config.json').write_text('[16, 3]'),
        "holds list, not the run's settings"),
    'record without rows': (
        lambda d: (d / 'record.json').write_text('{"format": 1}'),
        'record.json: "status" is missing'),
    'progress without order': (
        lambda d: _drop_from_progress(d / 'model-12.progress.npz', 'order'),
        'model-12.progress.npz: "order" is missing'),
    'vocabulary of the wrong structure': (
        lambda d: (d / 'vocab.json').write_text('{"vocab2ix": ["a", "b"]}'),
        'vocab.json: the vocabulary is not a mapping of tokens to indices'),
    'truncated data': (
        lambda d: _truncate(d / 'model-12.data-00000-of-00001'),
        'model-12: the checkpoint cannot be read'),
    'truncated index': (
        lambda d: _truncate(d / 'model-12.index'),
        'model-12: the checkpoint cannot be read'),
}


@pytest.mark.parametrize('damage', sorted(DAMAGES))
def test_a_damaged_folder_is_refused_before_anything_in_it_is_written(run_copy, damage):
    make, message = DAMAGES[damage]
    make(run_copy)
    before = folder_bytes(run_copy)
    # --max-steps changes config.json when a resumption goes ahead
    result = run_in_process('04', '--resume', run_copy, '--max-steps', 20)
    line = one_line_error(result)
    assert line.startswith('Cannot resume: ') and message in line, line
    assert folder_bytes(run_copy) == before


def test_the_sampler_refuses_an_edited_vocab_size(run_copy):
    _edit_json(run_copy / 'config.json', lambda c: dict(c, vocab_size=40))
    result = run_in_process('sample', '--checkpoint', run_copy)
    assert 'is [16, 28] in the checkpoint but [16, 40] in the model config.json ' \
           'describes' in one_line_error(result)


def test_a_checkpoint_pointer_of_binary_garbage_falls_back_and_says_so(run_copy):
    (run_copy / 'checkpoint').write_bytes(os.urandom(64) + b'\xff\xfe')
    result = run_in_process('04', '--resume', run_copy, '--max-steps', 13)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'Note: the "checkpoint" file is not text: using model-12, the newest complete ' \
           'one.' in result.stderr.splitlines()
    assert 'Resuming {} at iteration 13 (epoch 1, batch 13); max_steps 12 -> 13.'.format(
        run_copy) in result.stdout.splitlines()
    assert checkpoints.read_pointer(run_copy) == (['model-10', 'model-12', 'model-13'], None)


class _Payload:
    """Unpickling this runs a shell command that leaves a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ('touch {}'.format(self.marker),))


def test_crafted_pickles_in_a_folder_run_nothing_when_it_is_sampled_or_resumed(run_copy):
    import pickle
    marker = run_copy.parent / 'ran'
    crafted = pickle.dumps(_Payload(marker))
    (run_copy / 'vocab.pkl').write_bytes(crafted)
    (run_copy / 'model-12.progress.pkl').write_bytes(crafted)  # the earlier format's name
    sampled = run_in_process('sample', '--checkpoint', run_copy, '--num', 3)
    assert sampled.returncode == 0, sampled.stderr[-3000:]
    resumed = run_in_process('04', '--resume', run_copy, '--max-steps', 13)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # even asked to read vocab.pkl, with vocab.json gone
    (run_copy / 'vocab.json').unlink()
    asked = run_in_process('sample', '--checkpoint', run_copy, '--read-vocab-pkl')
    assert 'asks for posix.system, which a vocabulary does not need' in one_line_error(asked)
    assert not marker.exists()


def test_a_folder_of_the_earlier_pickled_format_says_what_can_be_done(run_copy):
    import pickle
    for path in run_copy.glob('model-*.progress.npz'):
        path.rename(str(path)[:-len('.npz')] + '.pkl')
    (run_copy / 'vocab.json').unlink()
    before = folder_bytes(run_copy)
    line = one_line_error(run_in_process('04', '--resume', run_copy))
    assert 'was written by an earlier version of this project' in line
    assert 'sample from it with --read-vocab-pkl' in line
    line = one_line_error(run_in_process('sample', '--checkpoint', run_copy))
    assert 'add --read-vocab-pkl' in line
    assert run_in_process('sample', '--checkpoint', run_copy, '--read-vocab-pkl',
                          '--num', 3).returncode == 0
    assert folder_bytes(run_copy) == before
    assert pickle.loads(before['vocab.pkl'])[0]['unknown'] == 0


@pytest.mark.parametrize('args, message', [
    (('--temperature', '0.5'), '--temperature changes the draws of --strategy weighted and '
                               'topk; greedy takes the most probable token whatever it is: add '
                               '--strategy weighted, or drop --temperature'),
    (('--strategy', 'weighted', '--top-k', '5'), '--top-k is read by --strategy topk only: add '
                                                 '--strategy topk, or drop --top-k'),
])
def test_a_setting_the_strategy_does_not_read_is_refused(saved_run, args, message):
    result = run_in_process('sample', '--checkpoint', saved_run, *args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith('error: ' + message)


def test_top_k_above_the_vocabulary_is_refused(saved_run):
    result = run_in_process('sample', '--checkpoint', saved_run, '--strategy', 'topk',
                            '--top-k', 28)
    assert one_line_error(result) == "Error: --top-k 28: a draw can take 27 tokens of this " \
        "vocabulary (never 'unknown', nor an index that names no token), so give at most 27."


# ---------------------------------------------------------------- a full disk

def test_a_full_disk_stops_the_run_and_keeps_the_last_good_checkpoint(run_copy, monkeypatch):
    def disk_full_at_progress(step):
        if step == 'progress':
            raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(checkpoints, '_saving', disk_full_at_progress)
    result = run_in_process('04', '--resume', run_copy, '--max-steps', 20)
    line = one_line_error(result)
    assert line.startswith('Training stopped: no space left on device while saving '
                           'iteration 20. The last good checkpoint is {} (iteration 12); '
                           'record.json says so. Free some space, then: python '.format(
                               run_copy / 'model-12'))
    assert checkpoints.read_pointer(run_copy) == (['model-10', 'model-12'], None)
    assert not list(run_copy.glob('model-20*')) and not list(run_copy.glob('*.tmp'))
    record = read_record(run_copy)
    assert record['status'] == 'disk full' and record['last_checkpoint'] == 12
