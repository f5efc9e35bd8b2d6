"""Each refusal says what to do; these tests do it and see the command go through.

A test provokes the refusal, checks the advice is in its one line, follows the
advice literally, and asserts the command then works. Tests that only check
the message live beside the code they test; these follow it.
"""
import shutil

import pytest

from conftest import run_in_process
from cookbook_lstm import run_folder

TINY = ('--tiny', '--max-steps', 1)


def refusal(result):
    """The refusal's one line; the run must have been refused without a traceback."""
    assert result.returncode != 0, result.stdout[-2000:]
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    return result.stderr.strip().splitlines()[-1]


def works(result):
    assert result.returncode == 0, result.stderr[-3000:]


# ---------------------------------------------------------------- settings that cannot go together

# (recipe, the flags refused, the advice, the flags that follow it)
TOGETHER = [
    ('03', ('--softmax-blocks', 40), 'give at most 32.', ('--softmax-blocks', 32)),
    ('03', ('--peepholes',), 'Add --cell lstm, or drop --peepholes.',
     ('--peepholes', '--cell', 'lstm')),
    ('03', ('--peepholes',), 'Add --cell lstm, or drop --peepholes.', ()),
    ('04', ('--cell', 'gru', '--cell-impl', 'fused'), 'drop --cell-impl, or that.',
     ('--cell', 'gru')),
    ('04', ('--cell', 'gru', '--cell-impl', 'fused'), 'drop --cell-impl, or that.',
     ('--cell-impl', 'fused')),
    ('03', ('--residual', '--embedding-size', 8), 'give --embedding-size 16 (now 8).',
     ('--residual', '--embedding-size', 16)),
]


@pytest.mark.parametrize('recipe, refused, advice, followed', TOGETHER)
def test_settings_that_cannot_go_together_run_as_advised(recipe, refused, advice, followed,
                                                         corpus, tmp_path):
    common = TINY + ('--corpus', corpus, '--out', tmp_path / 'run')
    assert refusal(run_in_process(recipe, *common, *refused)).endswith(advice)
    works(run_in_process(recipe, *common, *followed))


# ---------------------------------------------------------------- resuming a run

MORE = ('--max-steps', 14)


@pytest.mark.parametrize('refused, advice', [
    (('--cell', 'gru'), 'Drop --cell to continue the run, or start a new run with --out.'),
    (('--rnn-size', 32), 'Drop --rnn-size to continue the run, or start a new run with --out.'),
    (('--tiny',), 'drop --tiny.'),
    (('--out', 'elsewhere'), 'drop --out.'),
])
def test_resume_goes_on_once_the_flag_is_dropped(run_copy, refused, advice):
    assert refusal(run_in_process('04', '--resume', run_copy, *refused, *MORE)).endswith(advice)
    works(run_in_process('04', '--resume', run_copy, *MORE))


def test_a_changed_setting_trains_as_a_new_run_with_out(run_copy, corpus, tmp_path):
    line = refusal(run_in_process('04', '--resume', run_copy, '--cell', 'gru', *MORE))
    assert line.endswith('or start a new run with --out.')
    works(run_in_process('04', '--tiny', '--cell', 'gru', '--max-steps', 1, '--corpus', corpus,
                         '--out', tmp_path / 'new'))


def test_resume_with_nothing_left_goes_on_with_a_larger_max_steps(run_copy):
    result = run_in_process('04', '--resume', run_copy, '--max-steps', 12)
    assert result.returncode == 0 and 'Give a larger --max-steps' in result.stderr
    assert 'Resuming' not in result.stdout
    more = run_in_process('04', '--resume', run_copy, '--max-steps', 13)
    works(more)
    assert 'Resuming' in more.stdout and (run_copy / 'model-13.index').exists()


def test_resume_on_another_text_goes_on_with_the_runs_text(run_copy, corpus, tmp_path):
    other = tmp_path / 'other.txt'
    other.write_text('thou art more to be or not wherefore ' * 40)
    line = refusal(run_in_process('04', '--resume', run_copy, '--corpus', other, *MORE))
    assert line.endswith("Give the run's text with --corpus PATH.")
    works(run_in_process('04', '--resume', run_copy, '--corpus', corpus, *MORE))


def test_resume_with_the_other_recipe_goes_on_with_the_one_named(run_copy):
    line = refusal(run_in_process('03', '--resume', run_copy, *MORE))
    assert line.endswith('resume it with recipes/04_stacking_multiple_lstm.py.')
    works(run_in_process('04', '--resume', run_copy, *MORE))


def _unlink_data(folder):
    for path in folder.glob('model-12.data-*'):
        path.unlink()


@pytest.mark.parametrize('damage, advice', [
    (_unlink_data, 'Give the run folder instead: its newest complete checkpoint is used.'),
    (lambda folder: (folder / 'model-12.progress.npz').unlink(),
     'Resume from the run folder, which takes the newest complete checkpoint.'),
    (lambda folder: None, 'Resume from the folder (it takes the newest complete checkpoint), '
                          'or copy the folder, move model-12.* out of the copy and resume the '
                          'copy from model-10.'),
])
def test_resume_from_a_checkpoint_goes_on_from_the_folder(run_copy, tmp_path, damage, advice):
    damage(run_copy)
    checkpoint = run_copy / ('model-10' if advice.startswith('Resume from the folder')
                             else 'model-12')
    assert refusal(run_in_process('04', '--resume', checkpoint, *MORE)).endswith(advice)
    if 'copy the folder' in advice:  # its second way: a copy without the later checkpoint
        copy = tmp_path / 'copy-from-10'
        shutil.copytree(run_copy, copy)
        for path in copy.glob('model-12.*'):
            path.rename(tmp_path / path.name)
        works(run_in_process('04', '--resume', copy / 'model-10', *MORE))
    works(run_in_process('04', '--resume', run_copy, *MORE))


# ---------------------------------------------------------------- the run's folder

def test_out_holding_a_run_trains_into_another_out(corpus, tmp_path):
    args = TINY + ('--corpus', corpus)
    works(run_in_process('03', *args, '--out', tmp_path / 'run'))
    line = refusal(run_in_process('03', *args, '--out', tmp_path / 'run'))
    assert line.endswith('Choose another --out, or add --overwrite to replace that run.')
    works(run_in_process('03', *args, '--out', tmp_path / 'another'))


def test_out_under_a_file_trains_into_a_folder(corpus, tmp_path):
    (tmp_path / 'afile').write_text('not a folder')
    args = TINY + ('--corpus', corpus)
    line = refusal(run_in_process('03', *args, '--out', tmp_path / 'afile' / 'run'))
    assert line.endswith('is a file, not a folder. Name a folder for the run.')
    works(run_in_process('03', *args, '--out', tmp_path / 'folder' / 'run'))


def _strangers_config(out):
    (out / 'config.json').write_text('{}')
    return 'Move it away, or choose another --out.', [out / 'config.json']


def _strangers_checkpoint(out):
    (out / 'model-3.index').write_text('theirs')
    return 'Move them away, or choose another --out.', [out / 'model-3.index']


def _folder_for_a_file(out):
    (out / 'record.json').mkdir()
    return ("move it away (it is not one of this project's files), then run again.",
            [out / 'record.json'])


def _linked_lock(out):
    (out.parent / 'elsewhere').write_text('')
    (out / run_folder.LOCK_FILE).hardlink_to(out.parent / 'elsewhere')
    return 'move it away, then run again.', [out / run_folder.LOCK_FILE]


@pytest.mark.parametrize('plant', [_strangers_config, _strangers_checkpoint,
                                   _folder_for_a_file, _linked_lock])
def test_what_is_moved_away_lets_the_same_command_run(plant, corpus, tmp_path):
    out = tmp_path / 'run'
    out.mkdir()
    advice, in_the_way = plant(out)
    args = TINY + ('--corpus', corpus, '--out', out, '--overwrite')
    assert refusal(run_in_process('03', *args)).endswith(advice)
    away = tmp_path / 'away'
    away.mkdir()
    for path in in_the_way:
        path.rename(away / path.name)
    works(run_in_process('03', *args))


@pytest.mark.parametrize('follow', ['remove the files', 'another folder'])
def test_a_damaged_file_list_is_passed_by_removing_the_files_or_another_folder(
        follow, saved_run, corpus, tmp_path):
    out = tmp_path / 'run'
    shutil.copytree(saved_run, out)
    (out / run_folder.FILES_LIST).write_text('[1, 2]')
    args = ('--tiny', '--max-steps', 1, '--corpus', corpus, '--overwrite')
    line = refusal(run_in_process('04', *args, '--out', out))
    assert line.endswith("remove the run's files by hand, or choose another folder.")
    if follow == 'remove the files':
        for path in out.iterdir():
            path.unlink()
    else:
        out = tmp_path / 'another'
    works(run_in_process('04', *args, '--out', out))


def test_a_folder_in_use_takes_the_run_once_the_other_ends(corpus, tmp_path):
    out = tmp_path / 'run'
    out.mkdir()
    args = TINY + ('--corpus', corpus, '--out', out)
    lock = run_folder.FolderLock(out).acquire()
    try:
        line = refusal(run_in_process('03', *args))
    finally:
        lock.release()  # the other run ends
    assert line.endswith('Wait for it to end or stop it (Ctrl-C), or choose another folder.')
    works(run_in_process('03', *args))


# ---------------------------------------------------------------- the text and its batches

# (the flags refused, the advice, the flags that follow it)
DATA = [
    (('--min-word-freq', 1000), 'use a longer text or a lower --min-word-freq.',
     ('--min-word-freq', 5)),
    (('--exact-batches', '--batch-size', 40, '--seq-len', 40),  # 1,601 > 1,523 tokens
     'use a longer text or a smaller --batch-size or --seq-len.',
     ('--exact-batches', '--batch-size', 20, '--seq-len', 40)),
    (('--exact-batches', '--batch-size', 40, '--seq-len', 40),
     'use a longer text or a smaller --batch-size or --seq-len.',
     ('--exact-batches', '--batch-size', 40, '--seq-len', 20)),
    (('--valid-fraction', 0.01), 'give a --valid-fraction of at least 0.022, or a smaller '
                                 '--batch-size or --seq-len.', ('--valid-fraction', 0.022)),
    (('--valid-fraction', 0.01), 'give a --valid-fraction of at least 0.022, or a smaller '
                                 '--batch-size or --seq-len.',
     ('--valid-fraction', 0.01, '--batch-size', 1)),
]


@pytest.mark.parametrize('refused, advice, followed', DATA)
def test_the_text_trains_with_the_advised_flags(refused, advice, followed, corpus, tmp_path):
    args = TINY + ('--corpus', corpus, '--out', tmp_path / 'run')
    assert refusal(run_in_process('03', *args, *refused)).endswith(advice)
    works(run_in_process('03', *args, *followed))


# ---------------------------------------------------------------- the tools and recipe 05

def test_top_k_at_most_the_advised_samples(saved_run):
    args = ('--checkpoint', saved_run, '--strategy', 'topk', '--num', 5)
    assert refusal(run_in_process('sample', *args, '--top-k', 28)).endswith('give at most 27.')
    works(run_in_process('sample', *args, '--top-k', 27))


def test_the_heatmap_draws_once_its_out_and_text_are_as_advised(saved_run, tmp_path):
    args = ('--checkpoint', saved_run)
    (tmp_path / 'taken.png').write_text('')
    line = refusal(run_in_process('heatmap', *args, '--out', tmp_path / 'taken.png'))
    assert line.endswith('something is there already; give the name of a new file.')
    line = refusal(run_in_process('heatmap', *args, '--out', tmp_path / 'new' / 'h.png'))
    assert line.endswith('create it or give a path in a folder that does.')
    (tmp_path / 'new').mkdir()
    line = refusal(run_in_process('heatmap', *args, '--out', tmp_path / 'new' / 'h.png',
                                  '--text', '!!!'))
    assert line.endswith('give a line of text to read (the default is a passage of Hamlet).')
    works(run_in_process('heatmap', *args, '--out', tmp_path / 'new' / 'h.png'))
    assert (tmp_path / 'new' / 'h.png').stat().st_size > 0


def test_recipe_05_runs_offline_once_imdb_is_dropped(tmp_path):
    args = ('--tiny', '--offline', '--out', tmp_path / 'run')
    line = refusal(run_in_process('05', *args, '--dataset', 'imdb'))
    assert line.endswith('drop one of them.')
    works(run_in_process('05', *args))
