"""The run folder's files, read safely and written atomically: in-process, no TensorFlow run."""
import errno
import json
import os
import pickle

import numpy as np
import pytest

from cookbook_lstm import checkpoints
from cookbook_lstm import record
from cookbook_lstm import safe_files
from cookbook_lstm import vocab_files
from cookbook_lstm import run_folder as rf
from cookbook_lstm.errors import RunError


# ---------------------------------------------------------------- atomic writes

def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / 'record.json'
    safe_files.write_atomically(path, 'old')

    def disk_full(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(rf.os, 'fsync', disk_full)
    with pytest.raises(OSError) as caught:
        safe_files.write_atomically(path, 'new')
    assert safe_files.is_disk_full(caught.value)
    assert path.read_text() == 'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['record.json']


# ---------------------------------------------------------------- nothing read runs code

class _Payload:
    """Unpickling this runs a shell command that leaves a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ('touch {}'.format(self.marker),))


def _vocab():
    vocab2ix = {'unknown': 0, 'thou': 1, 'art': 2}
    return vocab2ix, {ix: w for w, ix in vocab2ix.items()}


def test_the_vocabulary_is_read_from_json_and_the_books_pickle_never_opened(tmp_path):
    vocab2ix, ix2vocab = _vocab()
    vocab_files.write_vocab(tmp_path, vocab2ix, ix2vocab)
    assert pickle.loads((tmp_path / 'vocab.pkl').read_bytes()) == [vocab2ix, ix2vocab]
    # a crafted vocab.pkl beside a good vocab.json: the pickle is never opened
    marker = tmp_path / 'ran'
    (tmp_path / 'vocab.pkl').write_bytes(pickle.dumps(_Payload(marker)))
    assert vocab_files.read_vocab(tmp_path) == (vocab2ix, ix2vocab)
    assert vocab_files.read_vocab(tmp_path, allow_pickle=True) == (vocab2ix, ix2vocab)
    assert not marker.exists()


def test_a_crafted_vocab_pkl_runs_nothing_even_when_asked_to_read_it(tmp_path):
    marker = tmp_path / 'ran'
    (tmp_path / 'vocab.pkl').write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(RunError, match='is a pickle, which this project does not open by '
                                       'default.*--read-vocab-pkl'):
        vocab_files.read_vocab(tmp_path)
    with pytest.raises(RunError, match=r'asks for posix\.system, which a vocabulary does '
                                       r'not need'):
        vocab_files.read_vocab(tmp_path, allow_pickle=True)
    assert not marker.exists()
    # the book's own pickle of plain data reads
    vocab2ix, ix2vocab = _vocab()
    (tmp_path / 'vocab.pkl').write_bytes(pickle.dumps([vocab2ix, ix2vocab]))
    assert vocab_files.read_vocab(tmp_path, allow_pickle=True) == (vocab2ix, ix2vocab)


def _progress(prefix, order=(2, 0, 1)):
    rng = np.random.RandomState(0)
    import random
    checkpoints.write_progress(
        prefix, {'iteration': 7, 'epoch': 1, 'batch': 2, 'order': list(order)},
        [rng.randn(4, 3).astype(np.float32)] * 2, random.getstate(), np.random.get_state())


def test_progress_round_trips_without_pickle(tmp_path):
    import random
    prefix = tmp_path / 'model-7'
    _progress(prefix)
    got = checkpoints.read_progress(prefix, num_batches=3)
    assert (got['iteration'], got['epoch'], got['batch'], got['order']) == (7, 1, 2, [2, 0, 1])
    assert [a.shape for a in got['lstm_state']] == [(4, 3), (4, 3)]
    random.setstate(got['python_random'])
    np.random.set_state(got['numpy_random'])
    # a file with an object array in it (a pickle inside the .npz) is refused unopened
    marker = tmp_path / 'ran'
    np.savez(str(prefix) + '.progress.npz', meta=np.array([_Payload(marker)], dtype=object))
    with pytest.raises(RunError, match='cannot be read.*Object arrays cannot be loaded'):
        checkpoints.read_progress(prefix, num_batches=3)
    assert not marker.exists()


@pytest.mark.parametrize('drop, message', [
    ('order', '"order" is missing'),
    ('meta', '"meta" is missing'),
])
def test_a_progress_file_lacking_a_part_is_named(tmp_path, drop, message):
    prefix = tmp_path / 'model-7'
    _progress(prefix)
    path = str(prefix) + '.progress.npz'
    with np.load(path) as npz:
        kept = {k: npz[k] for k in npz.files if k != drop}
    np.savez(path, **kept)
    with pytest.raises(RunError) as caught:
        checkpoints.read_progress(prefix, num_batches=3)
    # the way forward that works: the folder, once the damaged checkpoint is moved away
    assert message in str(caught.value) and 'move model-7.* out of the folder, then ' \
        '--resume the folder' in str(caught.value)


def test_a_progress_file_of_another_run_is_refused(tmp_path):
    _progress(tmp_path / 'model-7')
    with pytest.raises(RunError, match="not an order of this run's 5 batches"):
        checkpoints.read_progress(tmp_path / 'model-7', num_batches=5)


# ---------------------------------------------------------------- settings and record

def _config(**changes):
    config = {'recipe': '04_stacking_multiple_lstm', 'level': 'char', 'rnn_size': 16,
              'num_layers': 3, 'embedding_size': 16, 'vocab_size': 28,
              'separate_layers': False, 'batch_size': 4, 'training_seq_len': 8}
    config.update(changes)
    return config


def test_a_config_from_before_the_settings_object_reads_with_todays_names(tmp_path):
    old = _config(max_steps=None)
    old['seq_len'] = old.pop('training_seq_len')
    (tmp_path / 'config.json').write_text(json.dumps(old))
    config = rf.read_config(tmp_path)
    assert config['training_seq_len'] == 8 and 'seq_len' not in config
    assert config['max_steps'] == 0  # null was 'no limit', as 0 is now


@pytest.mark.parametrize('content, message', [
    (_config(rnn_size='16'), '"rnn_size" is "16", it must be a whole number of at least 1'),
    (_config(rnn_size=[16]), '"rnn_size" is [16], it must be a whole number'),
    (_config(separate_layers='no'), '"separate_layers" is "no", it must be true or false'),
    ([1, 2], "holds list, not the run's settings"),
    ({'recipe': 'x'}, 'the setting "level" is missing'),
])
def test_a_config_of_the_wrong_form_is_named(tmp_path, content, message):
    (tmp_path / 'config.json').write_text(json.dumps(content))
    with pytest.raises(RunError) as caught:
        rf.read_config(tmp_path)
    assert message in str(caught.value)
    assert '\n' not in str(caught.value)


@pytest.mark.parametrize('content, message', [
    ({'format': 1}, '"status" is missing'),
    ({'status': 'running', 'config': {}, 'iterations': {'rows': [[1, 1, 1]]},
      'samples': []}, '"iterations" holds no rows of [iteration'),
    ({'status': 'running', 'config': {}, 'iterations': {'rows': []}, 'samples': 3},
     '"samples" is not a list'),
])
def test_a_record_of_the_wrong_form_is_named(tmp_path, content, message):
    (tmp_path / 'record.json').write_text(json.dumps(content))
    with pytest.raises(RunError) as caught:
        record.read_record(tmp_path)
    assert message in str(caught.value)


@pytest.mark.parametrize('vocab, message', [
    ({'vocab2ix': ['thou']}, 'not a mapping of tokens to indices'),
    ({'vocab2ix': {'unknown': 0, 'thou': '1'}}, "maps 'thou' to '1'"),
    ({'vocab2ix': {'unknown': 0, 'thou': 0}}, 'gives two tokens one index'),
    ({'words': {}}, 'no "vocab2ix" in it'),
])
def test_a_vocabulary_of_the_wrong_structure_is_named(tmp_path, vocab, message):
    (tmp_path / 'vocab.json').write_text(json.dumps(vocab))
    with pytest.raises(RunError) as caught:
        vocab_files.read_vocab(tmp_path)
    assert message in str(caught.value)


# ---------------------------------------------------------------- the lock

def test_a_second_writer_is_refused_with_the_first_ones_pid(tmp_path):
    first = rf.FolderLock(tmp_path).acquire()
    first.claim()
    with pytest.raises(RunError, match=r'is in use: a run is writing there \(PID {}\)'.format(
            os.getpid())):
        rf.FolderLock(tmp_path).acquire()
    first.release()
    # a lock file left behind (its process gone) is taken over
    (tmp_path / 'run.lock').write_text('PID 99999999\n')
    again = rf.FolderLock(tmp_path).acquire()
    again.claim()
    assert (tmp_path / 'run.lock').read_text() == 'PID {}\n'.format(os.getpid())
    again.release()


# ---------------------------------------------------------------- --overwrite

def test_overwrite_removes_only_what_this_project_wrote(tmp_path):
    ours = ['config.json', 'vocab.json', 'vocab.pkl', 'record.json', 'checkpoint', 'loss.png',
            'model-10.index', 'model-10.meta', 'model-10.data-00000-of-00001',
            'model-10.progress.npz', 'model-12.diverged.index', 'record.json.tmp',
            'model-8.meta.tmp.tmpaf04e18127e7473791afb7911d44f068', 'checkpoint.tmp']
    theirs = ['model-notes.txt', 'notes.txt', 'model-10.index.bak', 'model-x.index',
              'notes.tmp', 'model-10_temperature.txt']
    for name in ours + theirs:
        (tmp_path / name).write_text('x')
    (tmp_path / 'config.json').write_text(json.dumps(_config()))
    (tmp_path / 'model-10_temp').mkdir()
    removed = rf.remove_run_files(tmp_path)
    assert removed == sorted(ours + ['model-10_temp'])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(theirs)


def test_overwrite_refuses_a_config_json_it_did_not_write(tmp_path):
    (tmp_path / 'config.json').write_text('{"learning_rate": 3}')
    (tmp_path / 'checkpoint').write_text('x')
    with pytest.raises(RunError, match='was not written by this project'):
        rf.remove_run_files(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['checkpoint', 'config.json']


# ---------------------------------------------------------------- which checkpoint

def _checkpoint(folder, iteration, progress=True):
    for suffix in ('.index', '.data-00000-of-00001', '.meta'):
        (folder / 'model-{}{}'.format(iteration, suffix)).write_bytes(b'x')
    if progress:
        (folder / 'model-{}.progress.npz'.format(iteration)).write_bytes(b'x')


def test_the_latest_complete_checkpoint_is_taken_and_a_fallback_is_said(tmp_path):
    _checkpoint(tmp_path, 10)
    _checkpoint(tmp_path, 20)
    checkpoints.write_pointer(tmp_path, ['model-10', 'model-20'])
    assert checkpoints.find_checkpoint(tmp_path, need_progress=True) == (
        tmp_path, str(tmp_path / 'model-20'), None)
    # the latest lost its progress file: resuming takes model-10 and says so;
    # sampling needs only the weights
    (tmp_path / 'model-20.progress.npz').unlink()
    run_dir, prefix, note = checkpoints.find_checkpoint(tmp_path, need_progress=True)
    assert prefix == str(tmp_path / 'model-10')
    assert note == ('the latest checkpoint, model-20, lacks some of its weights and progress '
                    'file: using model-10, the newest complete one')
    assert checkpoints.find_checkpoint(tmp_path)[1] == str(tmp_path / 'model-20')


def test_a_checkpoint_file_of_binary_garbage_falls_back_to_the_files(tmp_path):
    _checkpoint(tmp_path, 10)
    _checkpoint(tmp_path, 30, progress=False)
    (tmp_path / 'checkpoint').write_bytes(bytes(range(256)))
    run_dir, prefix, note = checkpoints.find_checkpoint(tmp_path, need_progress=True)
    assert prefix == str(tmp_path / 'model-10')
    assert note == 'the "checkpoint" file is not text: using model-10, the newest complete one'


def test_a_folder_with_no_complete_checkpoint_is_named(tmp_path):
    (tmp_path / 'model-5.index').write_bytes(b'x')  # its data file never written
    with pytest.raises(RunError, match='no complete checkpoint here'):
        checkpoints.find_checkpoint(tmp_path)


def test_the_pointer_is_the_format_tensorflow_reads(tmp_path):
    import tensorflow as tf
    _checkpoint(tmp_path, 3)
    _checkpoint(tmp_path, 4)
    checkpoints.write_pointer(tmp_path, ['model-3', 'model-4'])
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert os.path.basename(state.model_checkpoint_path) == 'model-4'
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == [
        'model-3', 'model-4']
    assert checkpoints.read_pointer(tmp_path) == (['model-3', 'model-4'], None)
