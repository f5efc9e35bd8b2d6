"""What only a real process shows: a live run's lock, Ctrl-C at any moment, a quiet start."""
import os
import re
import signal
import subprocess
import sys
import time


from conftest import RECIPES, run_in_process

# TensorFlow's native start-up notices, in absl's format ('I0000 00:00:...',
# 'E0000 ...'), and the two that read like failures
NATIVE_NOTICE = re.compile(r'^[IWEF]\d{4} |cuInit|oneDNN custom operations', re.MULTILINE)


def start(script, *args):
    """A script as a child process, SIGINT at its default as in a terminal."""
    return subprocess.Popen(
        [sys.executable, str(RECIPES[script])] + [str(a) for a in args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, MPLBACKEND='Agg', PYTHONUNBUFFERED='1'),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def read_until(stream, prefix):
    for line in stream:
        if line.startswith(prefix):
            return line
    raise AssertionError('the child ended before printing {!r}'.format(prefix))


def stop(child):
    child.send_signal(signal.SIGINT)
    try:
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    return child.returncode, out, err


def test_a_live_run_keeps_its_folder_from_a_second_run_and_from_resume(corpus, tmp_path):
    out = tmp_path / 'run'
    live = start('04', '--tiny', '--epochs', 100000, '--save-every', 5, '--corpus', corpus,
                 '--out', out)
    try:
        read_until(live.stdout, 'Model Saved To')
        in_use = '{} is in use: a run is writing there (PID {})'.format(out, live.pid)
        for args in (('--tiny', '--corpus', corpus, '--out', out, '--overwrite'),
                     ('--tiny', '--corpus', corpus, '--out', out),
                     ('--resume', out)):
            refused = run_in_process('04', *args)
            assert refused.returncode == 1, refused.stderr[-2000:]
            assert in_use in refused.stderr, refused.stderr[-2000:]
            assert 'Loading Shakespeare Data' not in refused.stdout
    finally:
        returncode, _, stderr = stop(live)
    # the live run was never disturbed: it stops as a Ctrl-C'd run does
    assert returncode == 130, stderr[-3000:]
    resumed = run_in_process('04', '--resume', out, '--max-steps', 1)
    assert resumed.returncode == 0
    assert 'nothing is left to train' in resumed.stderr  # its checkpoint is there, whole


def test_ctrl_c_during_tensorflows_import_is_one_line(corpus, tmp_path):
    child = start('03', '--tiny', '--corpus', corpus, '--out', tmp_path / 'r')
    maps = '/proc/{}/maps'.format(child.pid)
    deadline = time.monotonic() + 60
    # TensorFlow's library is loaded: the import has begun and has seconds to go
    while '_pywrap_tensorflow' not in open(maps).read():
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.02)
    returncode, out, err = stop(child)
    assert returncode == 130
    assert [l for l in err.splitlines() if l.strip()] == [
        'Stopped by Ctrl-C; nothing was saved since the last checkpoint, if any.']
    assert not (tmp_path / 'r').exists()


def test_ctrl_c_in_the_sampler_stops_a_long_text_cleanly(corpus, tmp_path):
    out = tmp_path / 'run'
    made = run_in_process('04', '--tiny', '--max-steps', 2, '--corpus', corpus, '--out', out)
    assert made.returncode == 0
    child = start('sample', '--checkpoint', out, '--num', 10 ** 7, '--prime', 'thou',
                  '--strategy', 'weighted', '--seed', 1)
    started = child.stdout.read(300)  # the text arrives as it is made, chunk by chunk
    assert started.startswith('thou') and len(started) == 300
    returncode, _, err = stop(child)
    assert returncode == 130
    assert 'Traceback' not in err
    assert err.splitlines()[-1] == 'Stopped by Ctrl-C.'
    assert not NATIVE_NOTICE.search(err), err


def test_help_answers_before_tensorflow_is_imported():
    result = subprocess.run([sys.executable, '-X', 'importtime', str(RECIPES['03']), '--help'],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and '--resume DIR' in result.stdout
    imported = [l.rsplit('|', 1)[-1].strip() for l in result.stderr.splitlines()]
    assert 'numpy' in imported  # the import times were read
    assert not [name for name in imported if name.startswith(('tensorflow', 'keras'))]
