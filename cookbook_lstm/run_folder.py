"""The run folder: what it holds, and who may write it.

A run folder is meant to travel (a class, a regression report), so it is
read as data a stranger may have made: see safe_files for the door every
file goes through, vocab_files for the vocabulary, checkpoints for the
weights and where the run stood, record for record.json. This module
answers what a folder holds and who may write in it:

- the names this project writes there (is_ours), and files.json, the list
  of the files a run wrote, the only ones --overwrite removes;
- the lock: one run writes to a folder at a time (run.lock, FolderLock);
- a new run's folder (new_run_dir, take_folder), refused before any work
  when it cannot be written or holds something of the wrong kind.

What a folder holds (N an iteration):

  config.json              the run's settings (settings.check_config)
  vocab.json               the vocabulary this project reads: {"vocab2ix": {...}}
  vocab.pkl                [vocab2ix, ix2vocab] pickled, as the book saves it
  model-N.index, model-N.data-00000-of-00001, model-N.meta
                           the book's Saver checkpoint (weights, Adam's slots)
  model-N.progress.npz     where the run stood at N, for --resume
  record.json              every iteration's loss and every sample
  checkpoint               names the latest checkpoint and the ones kept
  loss.png                 the book's loss figure
  files.json               the names of the files the run wrote
  run.lock                 held by the run writing here
"""
import datetime
import fcntl
import json
import os
import re
import shutil
import stat
from pathlib import Path

from cookbook_lstm import settings
from cookbook_lstm import safe_files
from cookbook_lstm.errors import Refused, RunError
from cookbook_lstm.safe_files import (TMP_SUFFIX, MiB, check_kind, is_disk_full, kind_of,
                                      read_bytes, read_json, sync_folder, write_json)
from cookbook_lstm.settings import RECORDED_NAMES

CONFIG_FILE = 'config.json'
VOCAB_FILE = 'vocab.json'
BOOK_VOCAB_FILE = 'vocab.pkl'
RECORD_FILE = 'record.json'
POINTER_FILE = 'checkpoint'
LOSS_FIGURE = 'loss.png'
LOCK_FILE = 'run.lock'
TENSORBOARD_DIR = 'tensorboard'  # --tensorboard: event files, appended as the run goes
PROGRESS_SUFFIX = '.progress.npz'

FILES_LIST = 'files.json'  # the names of the files the run wrote: what --overwrite removes

# The files this project writes in a run folder, by name. A run lists each
# in files.json before it writes it: a single file by its name, a checkpoint
# by its stem (model-N, or the classifier's lstm, bilstm, bilstm2), which stands
# for every file of that checkpoint.
_OWN_FILE = (r'config\.json|vocab\.json|vocab\.pkl|record\.json|checkpoint|loss\.png'
             r'|accuracy\.png|cell_states\.png|comparison\.png|comparison\.md|files\.json')
_STEM = r'model-\d+|lstm|bilstm|bilstm2'
_LISTED = re.compile(r'{}|{}|tensorboard'.format(_OWN_FILE, _STEM))
CHECKPOINT_FILE = re.compile(
    r'(?:{})(\.diverged)?(\.index|\.meta|\.data-\d{{5}}-of-\d{{5}}|\.progress\.npz)'.format(_STEM))
# Temporary files of those names: ours (NAME.tmp), TensorFlow's own atomic
# writes beside them (NAME.tmp.tmp<32 hex digits>), the files its checkpoint
# writer fills before renaming them (STEM.index.tempstate<digits>,
# STEM.data-...tempstate<digits>), and its sharded save's folder (STEM_temp...)
_TEMPORARY = re.compile(
    r'(?:{}|(?:{})(?:\.index|\.meta|\.data-\d{{5}}-of-\d{{5}}|\.progress\.npz))'
    r'\.tmp(?:\.tmp[0-9a-f]{{32}})?'
    r'|(?:{})(?:\.index|\.data-\d{{5}}-of-\d{{5}})\.tempstate\d+'
    r'|(?:{})_temp(?:_[0-9a-f]+)?'.format(_OWN_FILE, _STEM, _STEM, _STEM))
_FOLDERS = re.compile(r'tensorboard|(?:{})_temp(?:_[0-9a-f]+)?'.format(_STEM))


def is_ours(name):
    """True for a name this project writes in a run folder (its own or a temporary)."""
    return bool(_LISTED.fullmatch(name) and not _STEM_ONLY.fullmatch(name)
                or CHECKPOINT_FILE.fullmatch(name) or _TEMPORARY.fullmatch(name))


def is_temporary(name):
    """True for a temporary file of a write this project (or TensorFlow's saver,
    for it) makes in a run folder: what a write cut short leaves."""
    return _TEMPORARY.fullmatch(name) is not None


# A run folder holds a few dozen entries; a folder of more is not a run's,
# and is refused before any command's work grows with what a stranger put there
MAX_ENTRIES = 10000
RUN_ENTRIES = 100  # the most names a run adds: 5 checkpoints of 4 files, a dozen others


_STEM_ONLY = re.compile(_STEM)


# ------------------------------------------------------------ the lock

def _lock_holder(path):
    """The PID holding a flock on path, from /proc/locks (Linux), or None."""
    try:
        st = os.stat(path, follow_symlinks=False)
        table = read_bytes('/proc/locks', 16 * MiB) if check_kind('/proc/locks') else b''
    except (OSError, RunError):
        return None
    want = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    for line in table.decode('ascii', 'replace').splitlines():
        parts = line.split()
        if len(parts) < 6 or parts[1] != 'FLOCK' or '->' in parts:
            continue
        try:
            major, minor, inode = parts[5].split(':')
            if (int(major, 16), int(minor, 16), int(inode)) == want:
                return int(parts[4])
        except ValueError:
            continue
    return None


class FolderLock:
    """An exclusive lock on run.lock in a run folder, held while a run writes.

    The operating system drops the lock when its process ends, however it
    ends, so a lock file left by a killed run is simply taken over. The
    file is opened without following a link: a link there is refused.
    """

    def __init__(self, run_dir):
        self.path = Path(run_dir) / LOCK_FILE
        self._file = None
        self._created = False

    def acquire(self):
        """Take the lock, or raise RunError naming the process that holds it."""
        self._created = check_kind(self.path) is None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
                         | os.O_CLOEXEC, 0o644)
        except OSError as err:
            if is_disk_full(err):
                raise
            raise RunError('Cannot open {} ({}): choose a folder you can write '
                           'to.'.format(self.path, err.strerror)) from None
        f = os.fdopen(fd, 'r+')
        try:
            check_kind(self.path)  # replaced since the first look
            if os.fstat(fd).st_nlink > 1:  # its PID would be written into a file elsewhere
                raise RunError('{} is a hard link to a file elsewhere, where this project '
                               'keeps its own lock file: move it away, then run '
                               'again.'.format(self.path))
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            holder = _lock_holder(self.path)
            raise RunError('{} is in use: a run is writing there ({}). Wait for it to '
                           'end or stop it (Ctrl-C), or choose another folder.'.format(
                               self.path.parent, 'PID {}'.format(holder) if holder
                               else 'another process')) from None
        except BaseException:
            f.close()
            raise
        self._file = f
        return self

    def claim(self):
        """Write this process's PID into the lock file (once the run begins)."""
        self._file.seek(0)
        self._file.truncate()
        self._file.write('PID {}\n'.format(os.getpid()))
        self._file.flush()

    def release(self, remove=False):
        """Let go of the lock; remove=True also removes a lock file this run made."""
        if self._file is None:
            return
        if remove and self._created:
            self.path.unlink(missing_ok=True)
        self._file.close()
        self._file = None


def is_locked(folder):
    """True while a process holds folder's run.lock (a run writing there). Reads
    only: creates no lock file, takes no lock it keeps."""
    path = Path(folder) / LOCK_FILE
    try:
        if check_kind(path) is None:
            return False
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, RunError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing lets go of a lock taken here
    return False


# ------------------------------------------------------------ the run's own files

def run_dir_of(folder):
    """folder as a Path, refused (RunError) unless it is a folder. The run folder
    the user names may itself be a link they chose; nothing inside it is followed."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunError('{} is not a folder: give a run folder a recipe wrote.'.format(folder))
    return folder


def check_folder(folder):
    """Refuse a folder where a name this project writes holds something else.

    Each of its names (is_ours) must be a regular file, or a real folder
    for tensorboard/ (holding only regular files) and TensorFlow's STEM_temp
    folders; a link, a pipe, a device or a folder of the wrong kind is
    refused (RunError, naming it) before anything reads or writes there. No
    link is followed.
    """
    folder = run_dir_of(folder)
    names = names_in(folder)
    if len(names) > MAX_ENTRIES - RUN_ENTRIES:  # a run's own files must not take it past
        raise RunError('{} holds {:,} entries, too near the {:,} a run folder may hold for a '
                       'run to write its own: it is not a run folder. Move what is not the '
                       'run\'s out of it, or choose another folder.'.format(
                           folder, len(names), MAX_ENTRIES))
    for name in names:
        if name == LOCK_FILE or is_ours(name):
            check_kind(folder / name, folder=bool(_FOLDERS.fullmatch(name)))
    if os.path.isdir(folder / TENSORBOARD_DIR):  # TensorFlow's event writer follows links
        for name in names_in(folder / TENSORBOARD_DIR):
            check_kind(folder / TENSORBOARD_DIR / name)


def listed_files(folder):
    """The entries of files.json (names, and checkpoint stems), or None without one."""
    path = Path(folder) / FILES_LIST
    if check_kind(path) is None:
        return None
    content = read_json(path)
    entries = content.get('files') if isinstance(content, dict) else None
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES or not all(
            isinstance(e, str) and _LISTED.fullmatch(e) for e in entries):
        raise RunError('{}: not a list of the names this project writes (config.json, '
                       'model-N, ...). The file was edited or damaged; remove the run\'s '
                       'files by hand, or choose another folder.'.format(path))
    return entries


def register(folder, *entries):
    """List entries in files.json before they are written (see listed_files).

    Checkpoint stems whose files are all gone (old checkpoints removed) are
    dropped from the list at the same time, so that it stays short. In a
    folder from before files.json whose config.json is this project's, the
    list starts with the files that earlier run wrote.
    """
    listed = listed_files(folder)
    names = names_in(folder)
    if listed is None:  # a run of this project from before files.json: its files too
        listed = sorted({_entry_of(n) for n in names if is_ours(n) and not is_temporary(n)}) \
            if is_our_config(Path(folder) / CONFIG_FILE) else []
    new = [e for e in entries if e not in listed]
    if not new and os.path.lexists(Path(folder) / FILES_LIST):
        return
    present = {_stem_of(n) for n in names}  # the checkpoints with a file left: one pass
    kept = [e for e in listed if not _STEM_ONLY.fullmatch(e) or e in present]
    write_json(Path(folder) / FILES_LIST, {'format': 1, 'files': kept + new})


def _stem_of(name):
    """The checkpoint stem a file of this project's belongs to (model-N of
    model-N.index, of model-N.data-...tempstate1, of model-N_temp), or None."""
    if not is_ours(name):
        return None
    stem = re.match(r'(?:{})(?=[._]|$)'.format(_STEM), name)
    return stem.group(0) if stem else None


def write_file(folder, name, data):
    """A run's own file, listed in files.json first, then written atomically."""
    register(folder, name)
    safe_files.write_atomically(Path(folder) / name, data)


def write_json_file(folder, name, value):
    """write_file of value as JSON, as every JSON file of a run is written."""
    write_file(folder, name, json.dumps(value, indent=1) + '\n')


def _entry_of(name):
    """The files.json entry a file of this project's is listed under: its own name,
    its checkpoint's stem, or for a temporary file the name it was writing."""
    stem = _stem_of(name)
    if stem is not None:
        return stem
    if is_temporary(name):
        return name.split(TMP_SUFFIX, 1)[0]
    return name


def run_files(folder):
    """The files the run in folder wrote, sorted by name.

    Those files.json lists; for a folder from before files.json, whose
    config.json this project wrote, every name this project writes.
    """
    folder = Path(folder)
    if not os.path.lexists(folder):
        return []
    run_dir_of(folder)
    listed = listed_files(folder)
    names = sorted(names_in(folder))
    if listed is None:
        return [folder / n for n in names if is_ours(n)]
    listed = set(listed)
    return [folder / n for n in names if n == FILES_LIST
            or is_ours(n) and _entry_of(n) in listed]


def holds_run(folder):
    """True when folder holds any file of a name this project writes (a run's, or
    a user's own that a run would replace). Temporary files are not a run: a
    run killed at its first write leaves only files.json.tmp."""
    return any(is_ours(name) and not is_temporary(name) for name in names_in(folder))


def is_our_config(path):
    """True when path is a config.json written by a recipe of this project."""
    try:
        config = read_json(path)
    except RunError:
        return False
    return isinstance(config, dict) and config.get('recipe') in RECORDED_NAMES \
        and isinstance(config.get('rnn_size'), int)


def _remove(path):
    """Remove a file, or a folder and what it holds; never through a link."""
    if stat.S_ISDIR(os.lstat(path).st_mode):
        shutil.rmtree(path)  # removes links inside, never what they point to
    else:
        os.unlink(path)


def remove_run_files(folder):
    """Remove what an earlier run of this project wrote in folder; return the names.

    Only the files its files.json lists (or, in a folder from before
    files.json, the names this project writes, if its config.json is this
    project's); every other file stays. Raises RunError, before removing
    anything, when the folder's files are not known to be a run's.
    """
    folder = Path(folder)
    check_folder(folder)
    unknown = unknown_run(folder)
    if unknown:
        raise RunError(unknown)
    removed = []
    for path in run_files(folder):
        if path.name != FILES_LIST:
            _remove(path)
            removed.append(path.name)
    if os.path.lexists(folder / FILES_LIST):  # last: the list of what was removed
        os.unlink(folder / FILES_LIST)
    sync_folder(folder)
    return removed


def unknown_run(folder):
    """Why the files of the run in folder are not known to be this project's,
    so that --overwrite must not remove them; None when they are."""
    config = Path(folder) / CONFIG_FILE
    if listed_files(folder) is not None or is_our_config(config):
        return None
    if os.path.lexists(config):
        return ('{} was not written by this project, so it is not a run to replace. Move '
                'it away, or choose another --out.'.format(config))
    return ('{} holds files of a run that this project did not list as its own (it has no '
            '{} and no config.json), so --overwrite will not remove them. Move them away, '
            'or choose another --out.'.format(folder, FILES_LIST))


def remove_leftovers(folder):
    """Remove the temporary files an interrupted write left; return the names."""
    removed = []
    for name in sorted(names_in(folder)):
        if is_temporary(name):
            _remove(Path(folder) / name)
            removed.append(name)
    return removed


def take_folder(run_dir, overwrite):
    """A new run's folder, locked: (lock, the names --overwrite removed).

    Creates the folder, refuses one whose files are not of the kinds this
    project writes (check_folder), takes the lock, and then, if a run is
    there (one may have begun since new_run_dir looked), refuses it or,
    with overwrite, removes that run's files. Nothing is removed unless
    the lock is held.
    """
    run_dir = Path(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        if is_disk_full(err):
            raise
        raise RunError('Cannot create the run folder {} ({}): choose a folder you can '
                       'write to.'.format(run_dir, err.strerror)) from None
    check_folder(run_dir)
    lock = FolderLock(run_dir).acquire()
    try:
        removed = []
        if holds_run(run_dir):
            if not overwrite:
                raise RunError('{} holds a run now. Choose another --out, or add '
                               '--overwrite to replace that run.'.format(run_dir))
            removed = remove_run_files(run_dir)
        removed += remove_leftovers(run_dir)  # what a write cut short left, ours by name
    except BaseException:
        lock.release(remove=True)
        raise
    return lock, removed


def names_in(folder):
    """The names in a run folder (run_dir_of); RunError past MAX_ENTRIES."""
    names = []
    with os.scandir(run_dir_of(folder)) as entries:
        for entry in entries:
            names.append(entry.name)
            if len(names) > MAX_ENTRIES:
                raise RunError('{} holds more than {:,} entries, where a run writes a few '
                               'dozen: it is not a run folder. Give a run folder a recipe '
                               'wrote.'.format(folder, MAX_ENTRIES))
    return names


# ------------------------------------------------------------ a new run's folder

def _nearest_existing(path):
    """The path itself or its nearest ancestor that exists."""
    path = Path(os.path.abspath(path))
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def check_writable(run_dir, flag):
    """Refuse, before any work, a folder the run could not write in."""
    existing = _nearest_existing(run_dir)
    if not existing.is_dir():
        raise Refused('{} {}: {} is {}, not a folder. Name a folder for the run.'.format(
            flag, run_dir, existing, kind_of(os.lstat(existing).st_mode)))
    probe = existing / '.write-test-{}'.format(os.getpid())
    try:
        os.close(os.open(str(probe), os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW))
        probe.unlink()
    except OSError as err:
        raise Refused('{} {}: cannot write in {} ({}). Choose a folder you can write '
                      'to.'.format(flag, run_dir, existing, err.strerror)) from None


def new_run_dir(out, runs_dir, overwrite=False):
    """The folder of a new run: out, or a new timestamped folder in runs_dir.

    Checks only, before any work is done: the folder must be writable, hold
    nothing of the wrong kind at the names a run writes, and one that
    already holds a run is refused unless overwrite is set (and then only
    if that run is known to be one of this project's). The run creates the
    folder when it begins (take_folder).
    """
    if out is None:
        stamp = datetime.datetime.now().strftime('run-%Y%m%d-%H%M%S')
        run_dir = Path(runs_dir) / stamp
        suffix = 1
        while os.path.lexists(run_dir):
            suffix += 1
            run_dir = Path(runs_dir) / '{}-{}'.format(stamp, suffix)
        check_writable(run_dir, 'the run folder')
        return run_dir
    run_dir = Path(out)
    check_writable(run_dir, '--out')
    if not run_dir.is_dir():
        return run_dir
    try:
        check_folder(run_dir)
        FolderLock(run_dir).acquire().release(remove=True)  # a live run is refused now
    except RunError as err:
        raise Refused('--out {}'.format(err)) from None
    if holds_run(run_dir):
        if not overwrite:
            raise Refused(
                '--out {} already holds a run (it has {}). Choose another --out, or add '
                '--overwrite to replace that run.'.format(
                    run_dir, ', '.join(p.name for p in run_files(run_dir)) or 'its files'))
        unknown = unknown_run(run_dir)
        if unknown:
            raise Refused('--overwrite: ' + unknown)
    return run_dir

# ------------------------------------------------------------ the run's settings

def read_config(run_dir):
    """config.json, each setting checked; RunError naming the first that is wrong."""
    path = Path(run_dir) / CONFIG_FILE
    if check_kind(path) is None:
        raise RunError('{} is missing: this folder was not written by a recipe of this '
                       'project, so the model cannot be rebuilt.'.format(path))
    return settings.check_config(read_json(path), path)
