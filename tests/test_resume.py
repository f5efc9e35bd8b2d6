"""Resuming a run, Ctrl-C during training (a real process), a diverging loss."""
import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf

from cookbook_lstm import checkpoints
from conftest import interrupt_recipe, run_in_process

# Recipe 04 at the tiny size with 32 sequences per batch: 29 batches per
# epoch on the synthetic corpus, so 40 iterations cross an epoch boundary.
TINY_04 = ('--tiny', '--batch-size', 32, '--seed', 2)


def record(folder):
    return json.loads((folder / 'record.json').read_text())


def rows_without_timings(folder):
    return [row[:4] for row in record(folder)['iterations']['rows']]


def latest(folder):
    return os.path.basename(tf.train.latest_checkpoint(str(folder)))


def test_a_checkpoint_is_complete_when_save_returns(corpus, tmp_path, monkeypatch):
    """Once Checkpoints.save returns, the pointer names the checkpoint, its weights
    and progress file are there and the record ends at its iteration; the
    samples the book prints right after a save reach the record too."""
    seen = []
    save = checkpoints.Checkpoints.save

    def save_then_look(self, iteration, *args):
        save(self, iteration, *args)
        names, _ = checkpoints.read_pointer(self.run_dir)
        saved = record(self.run_dir)
        seen.append((iteration, names[-1], checkpoints.is_complete(self.run_dir / names[-1], True),
                     saved['iterations']['rows'][-1][0], saved['last_checkpoint']))
    monkeypatch.setattr(checkpoints.Checkpoints, 'save', save_then_look)
    out = tmp_path / 'run'
    result = run_in_process('03', '--tiny', '--seed', 1, '--save-every', 3, '--eval-every', 3,
                            '--max-steps', 7, '--corpus', corpus, '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    assert seen == [(i, 'model-{}'.format(i), True, i, i) for i in (3, 6, 7)]
    assert [s['iteration'] for s in record(out)['samples']] == [3, 3, 3, 6, 6, 6]


@pytest.fixture(scope='module')
def uninterrupted(corpus, tmp_path_factory):
    """The reference: 40 iterations in one go."""
    out = tmp_path_factory.mktemp('whole') / 'run'
    result = run_in_process('04', *TINY_04, '--max-steps', 40, '--corpus', corpus, '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_ctrl_c_saves_and_resume_continues_as_if_never_stopped(corpus, uninterrupted,
                                                               tmp_path):
    out = tmp_path / 'run'
    returncode, _, stderr = interrupt_recipe(
        '04', list(TINY_04) + ['--max-steps', 40, '--corpus', corpus, '--out', out],
        'Iteration: 10,')
    assert returncode == 130, stderr[-3000:]
    assert 'Traceback' not in stderr

    # stopped after the iteration it was in, saved it and said how to go on
    stopped = record(out)
    k = stopped['last_checkpoint']
    assert 10 <= k < 29  # inside the first epoch
    assert stopped['status'] == 'interrupted'
    assert latest(out) == 'model-{}'.format(k)
    assert [row[0] for row in stopped['iterations']['rows']] == list(range(1, k + 1))
    assert re.search(r'To continue: python \S*recipes/04_stacking_multiple_lstm\.py '
                     r'--resume ' + re.escape(str(out)), stderr)

    resumed = run_in_process('04', '--resume', out)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    lines = resumed.stdout.splitlines()
    at = lines.index('Resuming {} at iteration {} (epoch 1, batch {}).'.format(out, k + 1, k + 1))
    # the book's epoch line, then it goes on inside epoch 1, at batch k + 1
    assert lines[at + 1] == 'Starting Epoch #1 of 2.'
    assert lines.count('Starting Epoch #1 of 2.') == 1
    assert 'Iteration: 40, Epoch: 2, Batch: 11 out of 30, Loss:' in resumed.stdout
    assert latest(out) == 'model-40'

    # the same 40 iterations, batches and losses as the run that never stopped
    whole, joined = rows_without_timings(uninterrupted), rows_without_timings(out)
    assert [r[:3] for r in joined] == [r[:3] for r in whole]
    np.testing.assert_allclose([r[3] for r in joined], [r[3] for r in whole], rtol=1e-6)
    assert record(out)['samples'] == record(uninterrupted)['samples']
    assert record(out)['resumptions'][0]['at_iteration'] == k


def test_resume_at_an_epoch_boundary_and_with_more_steps(corpus, uninterrupted, tmp_path):
    out = tmp_path / 'run'
    first = run_in_process('04', *TINY_04, '--max-steps', 29, '--corpus', corpus, '--out', out)
    assert first.returncode == 0, first.stderr[-3000:]
    more = run_in_process('04', '--resume', out, '--max-steps', 40)
    assert more.returncode == 0, more.stderr[-3000:]
    assert 'Resuming {} at iteration 30 (epoch 2, batch 1); max_steps 29 -> 40.'.format(
        out) in more.stdout.splitlines()
    assert 'Starting Epoch #2 of 2.' in more.stdout
    finished = run_in_process('04', '--resume', out)
    assert finished.returncode == 0
    assert 'The run already did 40 iterations, and --max-steps is 40; nothing is left to ' \
           'train.' in finished.stderr
    assert 'Iteration:' not in finished.stdout
    np.testing.assert_allclose([r[3] for r in rows_without_timings(out)],
                               [r[3] for r in rows_without_timings(uninterrupted)], rtol=1e-6)
    assert json.loads((out / 'config.json').read_text())['max_steps'] == 40


def test_a_resumed_run_that_printed_no_samples_says_they_were_printed_before(corpus,
                                                                              tmp_path):
    out = tmp_path / 'run'
    assert run_in_process('04', *TINY_04, '--max-steps', 12, '--corpus', corpus,
                          '--out', out).returncode == 0
    more = run_in_process('04', '--resume', out, '--max-steps', 15)  # no samples at 13-15
    assert more.returncode == 0, more.stderr[-3000:]
    assert 'The greedy samples were last printed before this run was resumed (record.json ' \
        'holds them), at iteration 10; the last checkpoint is of iteration 15, 5 iterations ' \
        'later, so its greedy text may differ.' in more.stdout.splitlines()


def test_a_diverging_loss_stops_the_run_and_keeps_the_last_good_checkpoint(corpus, tmp_path):
    out = tmp_path / 'run'
    assert run_in_process('04', *TINY_04, '--max-steps', 12, '--corpus', corpus,
                          '--out', out).returncode == 0
    # a learning rate of 1e38 sends the weights to ~1e38 in one step
    result = run_in_process('04', '--resume', out, '--learning-rate', 1e38, '--save-every', 1,
                            '--max-steps', 0)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    message = re.search(r'Training stopped: the loss is (nan|inf) at iteration (\d+) ',
                        result.stderr)
    assert message, result.stderr[-3000:]
    bad = int(message.group(2))
    assert bad == 14  # 13 was the first step at that rate; its weights gave 14's loss
    # model-13 holds the weights that gave the bad loss: set aside, not deleted
    assert (out / 'model-13.diverged.index').is_file()
    assert latest(out) == 'model-12'
    assert 'The last good checkpoint is {} (iteration 12)'.format(out / 'model-12') \
        in result.stderr
    written = record(out)
    assert written['status'] == 'diverged' and written['last_checkpoint'] == 12
    assert written['iterations']['rows'][-1][:4] == [14, 1, 14, None]
    # the folder still samples, from the good weights
    sampled = run_in_process('sample', '--checkpoint', out, '--num', 5)
    assert sampled.returncode == 0, sampled.stderr[-3000:]
    assert 'model-12' in sampled.stdout + sampled.stderr


@pytest.fixture(scope='module')
def short_run(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp('short') / 'run'
    result = run_in_process('04', *TINY_04, '--max-steps', 3, '--corpus', corpus, '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize('args, message', [
    (('--rnn-size', 32),
     "--rnn-size 32 differs from the run's rnn_size = 16, and that setting shapes the model"),
    (('--separate-layers',), "--separate-layers True differs from the run's "
                             'separate_layers = False'),
    (('--seed', 3), "--seed 3 differs from the run's seed = 2"),
    (('--out', 'elsewhere'), 'drop --out'),
    (('--tiny',), 'drop --tiny'),
])
def test_resume_refuses_a_setting_that_changes_the_run(short_run, args, message):
    before = files(short_run)
    result = run_in_process('04', '--resume', short_run, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert 'Traceback' not in result.stderr
    assert files(short_run) == before


def test_resume_refuses_another_corpus_or_recipe(short_run, tmp_path):
    before = files(short_run)
    other = tmp_path / 'other.txt'
    other.write_text('thou art more to be or not wherefore ' * 40)
    result = run_in_process('04', '--resume', short_run, '--corpus', other)
    assert result.returncode != 0
    assert 'the corpus differs' in result.stderr and '--corpus PATH' in result.stderr
    wrong = run_in_process('03', '--resume', short_run)
    assert wrong.returncode != 0
    assert 'it is a run of recipe 04_stacking_multiple_lstm; resume it with ' \
           'recipes/04_stacking_multiple_lstm.py' in wrong.stderr
    missing = run_in_process('04', '--resume', tmp_path / 'nothing')
    assert missing.returncode != 0 and 'no such run folder' in missing.stderr
    for result in (wrong, missing):
        assert 'Traceback' not in result.stderr
    assert files(short_run) == before


def test_resume_without_the_progress_file_names_it(short_run, tmp_path):
    import shutil
    copy = tmp_path / 'copy'
    shutil.copytree(short_run, copy)
    (copy / 'model-3.progress.npz').unlink()
    result = run_in_process('04', '--resume', copy)
    assert result.returncode != 0
    assert 'no complete checkpoint here (the latest checkpoint, model-3, lacks some of its ' \
           'weights and progress file' in result.stderr
    assert 'Traceback' not in result.stderr
