"""What the compare tests of recipes 02 and 06 share: the verdicts of a
comparison, a run folder made of a record, and the command run in-process."""
import json
import signal
import sys

from conftest import PROJECT_DIR

sys.path.insert(0, str(PROJECT_DIR / 'tools'))
import compare_to_book as cmp  # noqa: E402


def verdicts(rows):
    return {r.figure: r.verdict for r in rows}


def judged(rows):
    return [r for r in rows if r.verdict in (cmp.INSIDE, cmp.OUTSIDE)]


def folder_of(tmp_path, record, name='run'):
    folder = tmp_path / name
    folder.mkdir()
    (folder / 'record.json').write_text(json.dumps(record))
    return folder


def command(capsys, *args):
    """The compare command in this process: (status, stdout, stderr)."""
    try:
        code = cmp.command([str(a) for a in args])
    except SystemExit as stop:
        code = stop.code
    finally:  # exit_status_of leaves Ctrl-C ignored once it has stopped a command
        signal.signal(signal.SIGINT, signal.default_int_handler)
    out, err = capsys.readouterr()
    return code, out, err
