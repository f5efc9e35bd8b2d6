"""The run folder: what a training run writes, and how it is read back safely.

A run folder is meant to travel (a class, a regression report), so:

- Nothing read from it executes code. The vocabulary is read from
  vocab.json, where to resume from a .npz opened with allow_pickle=False, the
  rest is JSON or TensorFlow's checkpoint format. The book's vocab.pkl is
  still written for the book's readers but never unpickled, unless asked
  (read_vocab(allow_pickle=True)), and then by an unpickler that builds
  nothing but dicts, lists, tuples, strings and numbers.
- Every write is atomic: a temporary file beside the target, flushed, synced
  and renamed over it, so a kill, a full disk or a second Ctrl-C leaves
  either the old file or the new one. A checkpoint is written file by file
  and the `checkpoint` pointer moves last, so the latest checkpoint it names
  is always complete.
- One run writes to a folder at a time: it holds a lock on run.lock.

What a folder holds (N an iteration):

  config.json              the run's settings
  vocab.json               the vocabulary this project reads: {"vocab2ix": {...}}
  vocab.pkl                [vocab2ix, ix2vocab] pickled, as the book saves it
  model-N.index, model-N.data-00000-of-00001, model-N.meta
                           the book's Saver checkpoint (weights, Adam's slots)
  model-N.progress.npz     where the run stood at N, for --resume
  record.json              every iteration's loss and every sample
  checkpoint               names the latest checkpoint and the ones kept
  loss.png                 the book's loss figure
  run.lock                 held by the run writing here
"""
import datetime
import errno
import fcntl
import io
import json
import os
import pickle
import pickletools
import re
import shutil
import stat
import zipfile
from pathlib import Path

import numpy as np

from cookbook_lstm import settings
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
TMP_SUFFIX = '.tmp'

FILES_LIST = 'files.json'  # the names of the files the run wrote: what --overwrite removes

# The files this project writes in a run folder, by name. A run lists each
# in files.json before it writes it: a single file by its name, a checkpoint
# by its stem (model-N, or the classifier's lstm, bilstm, bilstm2), which stands
# for every file of that checkpoint.
_OWN_FILE = (r'config\.json|vocab\.json|vocab\.pkl|record\.json|checkpoint|loss\.png'
             r'|accuracy\.png|cell_states\.png|comparison\.png|comparison\.md|files\.json')
_STEM = r'model-\d+|lstm|bilstm|bilstm2'
_LISTED = re.compile(r'{}|{}|tensorboard'.format(_OWN_FILE, _STEM))
_CHECKPOINT_FILE = re.compile(
    r'(?:{})(\.diverged)?(\.index|\.meta|\.data-\d{{5}}-of-\d{{5}}|\.progress\.npz)'.format(_STEM))
# Temporary files of those names: ours (NAME.tmp), TensorFlow's own atomic
# writes beside them (NAME.tmp.tmp<32 hex digits>), and its sharded save's
# folder (STEM_temp...)
_TEMPORARY = re.compile(
    r'(?:{}|(?:{})(?:\.index|\.meta|\.data-\d{{5}}-of-\d{{5}}|\.progress\.npz))'
    r'\.tmp(?:\.tmp[0-9a-f]{{32}})?'
    r'|(?:{})_temp(?:_[0-9a-f]+)?'.format(_OWN_FILE, _STEM, _STEM))
_FOLDERS = re.compile(r'tensorboard|(?:{})_temp(?:_[0-9a-f]+)?'.format(_STEM))


def is_ours(name):
    """True for a name this project writes in a run folder (its own or a temporary)."""
    return bool(_LISTED.fullmatch(name) and not _STEM_ONLY.fullmatch(name)
                or _CHECKPOINT_FILE.fullmatch(name) or _TEMPORARY.fullmatch(name))


_STEM_ONLY = re.compile(_STEM)


class RunError(Exception):
    """A run folder or checkpoint cannot be used; the message names the file."""


class Refused(Exception):
    """A command refuses its settings or its folder. The message is the whole line
    the command prints, as it is; library code raises it, and the command-line
    entry point (command_line.exit_status_of) prints it and exits with status 1."""


class NothingToDo(RunError):
    """The command would change nothing (a finished run resumed, say); it wrote
    nothing, and the message says so. Not an error: exit status 0."""


# ------------------------------------------------------------ the door
#
# Every file of a run folder is read and written through these few functions,
# by every command, so the rules hold everywhere: a folder is data that may
# have travelled from a stranger.
#
# - Only regular files are opened, and never through a symbolic link: what
#   stands at a name this project writes must be absent, or a regular file
#   (a folder for tensorboard/); a link, a pipe, a device or a file where a
#   folder belongs is refused in one line that names it, before anything is
#   opened or written.
# - Every read is bounded (LIMITS) and JSON may nest only as deep as the
#   project's own files do (MAX_JSON_DEPTH).
# - A write goes to a temporary file created exclusively in the folder
#   (O_CREAT | O_EXCL | O_NOFOLLOW), then renamed over the target.

MiB = 2 ** 20
# The largest file of each kind a run writes, with room to spare; a larger
# one is not a run's and is refused before it is read.
LIMITS = {
    'config.json': 1 * MiB,  # the settings and the text's description: about 1 KB
    # grows with the vocabulary, about 18 bytes a word: recipe 03's 7,890 words of
    # the offline plays take 144 KB; the largest vocabulary settings.VOCABULARY allows,
    # 4,194,304 words, about 75 MB
    'vocab.json': 128 * MiB,
    'vocab.pkl': 128 * MiB,
    # about 78 bytes an iteration (one row), so 128 MiB is 1.7 million iterations;
    # recipe 04's --tiny run over the whole text (2 x 148,159 iterations) writes 23 MB.
    # Read, JSON takes up to 40 times its size in memory: 5 GB at the limit
    'record.json': 128 * MiB,
    'checkpoint': 1 * MiB,  # the pointer: five lines
    # the epoch's batch order (8 bytes a batch) and the LSTM state
    '.progress.npz': 256 * MiB,
    '.index': 64 * MiB,  # the checkpoint's table of variables
    'files.json': 1 * MiB,  # the list of the run's files (a name a line, a few dozen)
    'published': 1 * MiB,  # published/<recipe>.json
}
MAX_JSON_DEPTH = 8  # record.json nests 5 deep (resumptions, changed, a setting, from/to)

_KINDS = ((stat.S_ISLNK, 'a symbolic link'), (stat.S_ISDIR, 'a folder'),
          (stat.S_ISFIFO, 'a named pipe'), (stat.S_ISCHR, 'a device file'),
          (stat.S_ISBLK, 'a device file'), (stat.S_ISSOCK, 'a socket'),
          (stat.S_ISREG, 'a file'))


def kind_of(mode):
    """What a file of that st_mode is, in words: 'a symbolic link', 'a folder'..."""
    return next((name for test, name in _KINDS if test(mode)), 'not a file')


def check_kind(path, folder=False):
    """Refuse path if something other than a regular file (folder=True: a real
    folder) stands there; a link is never followed. Returns its os.stat_result,
    or None when nothing is there."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if (stat.S_ISDIR if folder else stat.S_ISREG)(st.st_mode):
        return st
    raise RunError('{} is {}, where this project keeps {}: move it away (it is not '
                   'one of this project\'s files), then run again.'.format(
                       path, kind_of(st.st_mode), 'a folder' if folder else 'a file'))


def limit_of(path):
    """The size limit (LIMITS) of the file at path, by its name."""
    name = Path(path).name
    for key in (name, Path(name).suffix, ''.join(Path(name).suffixes[-2:])):
        if key in LIMITS:
            return LIMITS[key]
    raise KeyError('no size limit is set for {}'.format(name))


RUN_ADVICE = 'Use a run folder a recipe wrote.'


def read_bytes(path, limit=None, advice=RUN_ADVICE):
    """The bytes of the regular file at path, at most limit (default: LIMITS).

    Refuses (RunError, one line, ending with advice) a missing file, a link,
    a pipe, a device, a folder and a file over the limit, without reading
    it; reads in pieces, so that Ctrl-C stops it.
    """
    limit = limit_of(path) if limit is None else limit
    st = check_kind(path)
    if st is None:
        raise RunError('{} is missing.'.format(path))
    if st.st_size > limit:
        raise RunError('{} is {:,} bytes, more than the {:,} this project writes there: it '
                       'is not one of its files. {}'.format(path, st.st_size, limit, advice))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:  # replaced since the check, or not readable
        raise RunError('{} cannot be read ({}).'.format(path, err.strerror)) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RunError('{} is not a regular file: move it away, then run '
                           'again.'.format(path))
        pieces, size = [], 0
        while True:
            piece = os.read(fd, min(MiB, limit + 1 - size))
            if not piece:
                return b''.join(pieces)
            pieces.append(piece)
            size += len(piece)
            if size > limit:  # it grew since the check
                raise RunError('{} is larger than the {:,} bytes this project writes '
                               'there: it is not one of its files. {}'.format(
                                   path, limit, advice))
    finally:
        os.close(fd)


def _refuse_constant(name):
    raise ValueError('{} is not a number this project writes'.format(name))


def _depth(value):
    """How deep value nests (a number or string: 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                  else item) if isinstance(v, (dict, list)))
    return deepest


def read_json(path, limit=None, max_depth=MAX_JSON_DEPTH, advice=RUN_ADVICE):
    """A JSON file read through read_bytes, nesting at most max_depth deep.

    NaN and Infinity, which JSON does not have and this project never
    writes, are refused. RunError names the file.
    """
    data = read_bytes(path, limit, advice)
    try:
        value = json.loads(data.decode('utf-8'), parse_constant=_refuse_constant)
    except RecursionError:
        value = None
    except (ValueError, UnicodeDecodeError) as err:
        raise RunError('{} is corrupt ({}).'.format(path, err)) from None
    if value is None and data.strip() != b'null' or _depth(value) > max_depth:
        raise RunError('{} nests deeper than the {} levels this project writes there: it '
                       'is not one of its files. {}'.format(path, max_depth, advice))
    return value


def _create_exclusive(path):
    """A new file at path, opened for writing; never through a link.

    A regular file already there is what an interrupted write left, and is
    replaced; anything else (a link, a folder, a pipe) is refused.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(path, flags, 0o644)
    except FileExistsError:
        if check_kind(path) is None:
            raise  # removed meanwhile: a second writer
        os.unlink(path)
        return os.open(path, flags, 0o644)


def write_atomically(path, data):
    """Write data (bytes or text) to path so that a crash leaves old or new, whole.

    path must be absent or a regular file (a link there is refused, never
    followed). The temporary file beside it is created exclusively, and
    removed when the write fails (a full disk, say).
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode('utf-8')
    check_kind(path)
    tmp = path.with_name(path.name + TMP_SUFFIX)
    try:
        fd = _create_exclusive(tmp)
    except OSError as err:
        if is_disk_full(err):
            raise
        raise RunError('Cannot write {} ({}): choose a folder you can write to.'.format(
            path, err.strerror)) from None
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def _fsync(path, flags):
    fd = os.open(str(path), os.O_RDONLY | flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_folder(folder):
    """fsync a folder, so that the renames in it reach the disk."""
    _fsync(folder, os.O_DIRECTORY)


def sync_file(path):
    """fsync a file TensorFlow wrote (never through a link)."""
    _fsync(path, os.O_NOFOLLOW)


def write_json(path, value):
    write_atomically(path, json.dumps(value, indent=1) + '\n')


def is_disk_full(err):
    """True for an error that says the disk (or the quota) is full."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return 'No space left on device' in str(err) or 'Disk quota exceeded' in str(err)


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
    for tensorboard/ and TensorFlow's STEM_temp folders; a link, a pipe, a
    device or a folder of the wrong kind is refused (RunError, naming it)
    before anything reads or writes there. No link is followed.
    """
    folder = run_dir_of(folder)
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name == LOCK_FILE or is_ours(entry.name):
                check_kind(folder / entry.name, folder=bool(_FOLDERS.fullmatch(entry.name)))


def listed_files(folder):
    """The entries of files.json (names, and checkpoint stems), or None without one."""
    path = Path(folder) / FILES_LIST
    if check_kind(path) is None:
        return None
    content = read_json(path)
    entries = content.get('files') if isinstance(content, dict) else None
    if not isinstance(entries, list) or not all(
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
    names = _names(folder)
    if listed is None:  # a run of this project from before files.json: its files too
        listed = sorted({_entry_of(n) for n in names if _entry_of(n)}) \
            if is_our_config(Path(folder) / CONFIG_FILE) else []
    new = [e for e in entries if e not in listed]
    if not new and os.path.lexists(Path(folder) / FILES_LIST):
        return
    kept = [e for e in listed if not _STEM_ONLY.fullmatch(e)
            or any(_belongs(n, e) for n in names)]
    write_json(Path(folder) / FILES_LIST, {'format': 1, 'files': kept + new})


def _entry_of(name):
    """The files.json entry that stands for a file named name, or None (a
    temporary file, or a name this project does not write)."""
    if _TEMPORARY.fullmatch(name) or not is_ours(name):
        return None
    match = _CHECKPOINT_FILE.fullmatch(name)
    return name.split('.', 1)[0] if match else name


def write_file(folder, name, data):
    """A run's own file, listed in files.json first, then written atomically."""
    register(folder, name)
    write_atomically(Path(folder) / name, data)


def write_json_file(folder, name, value):
    """write_file of value as JSON, as every JSON file of a run is written."""
    write_file(folder, name, json.dumps(value, indent=1) + '\n')


def _belongs(name, entry):
    """True when name is entry's file: entry itself, or a file of checkpoint entry."""
    if name == entry:
        return True
    if not _STEM_ONLY.fullmatch(entry):
        return _TEMPORARY.fullmatch(name) is not None and name.startswith(entry + '.tmp')
    return (name.startswith(entry + '.') or name.startswith(entry + '_temp')) \
        and is_ours(name)


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
    names = sorted(e.name for e in os.scandir(folder))
    if listed is None:
        return [folder / n for n in names if is_ours(n)]
    return [folder / n for n in names if n == FILES_LIST
            or any(_belongs(n, entry) for entry in listed)]


def holds_run(folder):
    """True when folder holds any file of a name this project writes (a run's, or
    a user's own that a run would replace)."""
    return any(is_ours(name) for name in _names(folder))


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
    for name in sorted(e.name for e in os.scandir(folder)):
        if _TEMPORARY.fullmatch(name):
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
    except BaseException:
        lock.release(remove=True)
        raise
    return lock, removed


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


def write_vocab(run_dir, vocab2ix, ix2vocab):
    """vocab.json, which this project reads, and the book's vocab.pkl."""
    write_json_file(run_dir, VOCAB_FILE, {'format': 1, 'vocab2ix': vocab2ix})
    # As the book saves it; never read back unless asked (read_vocab)
    write_file(run_dir, BOOK_VOCAB_FILE, pickle.dumps([vocab2ix, ix2vocab], protocol=4))


# The pickle opcodes that build lists, dicts, strings, numbers, True, False and
# None, and remember them (the memo): all a vocabulary needs. No tuple (a deep
# one as a dict key crashes the interpreter when hashed), no class, no call.
_PLAIN_OPCODES = frozenset((
    'PROTO', 'FRAME', 'STOP', 'MARK', 'POP', 'POP_MARK', 'EMPTY_LIST', 'LIST', 'APPEND',
    'APPENDS', 'EMPTY_DICT', 'DICT', 'SETITEM', 'SETITEMS', 'MEMOIZE', 'PUT', 'BINPUT',
    'LONG_BINPUT', 'GET', 'BINGET', 'LONG_BINGET', 'SHORT_BINUNICODE', 'BINUNICODE',
    'BINUNICODE8', 'UNICODE', 'INT', 'BININT', 'BININT1', 'BININT2', 'LONG', 'LONG1',
    'FLOAT', 'BINFLOAT', 'NONE', 'NEWTRUE', 'NEWFALSE'))


def _check_plain_pickle(data):
    """Refuse (ValueError) a pickle that could build anything but plain data, or
    make the unpickler take memory the file does not hold: its opcodes are read
    (pickletools, which runs nothing) before it is unpickled."""
    memo, count, strings = set(), 0, ['', '']
    for opcode, arg, _ in pickletools.genops(data):
        count += 1
        if opcode.name not in _PLAIN_OPCODES:
            what = opcode.name  # a global names what it would look up: name it
            if opcode.name == 'GLOBAL':
                what = str(arg).replace(' ', '.')
            elif opcode.name == 'STACK_GLOBAL':
                what = '.'.join(strings[-2:])
            raise ValueError('it asks for {}, which a vocabulary does not need; it may be '
                             'crafted to run code, and was not opened'.format(what))
        if isinstance(arg, str):
            strings = [strings[-1], arg]
        if opcode.name == 'MEMOIZE':
            memo.add(len(memo))
        elif opcode.name in ('PUT', 'BINPUT', 'LONG_BINPUT'):
            if not 0 <= int(arg) <= count:  # the unpickler would size its memo by it
                raise ValueError('it stores an object at place {} of its memory after {} '
                                 'steps'.format(arg, count))
            memo.add(int(arg))
        elif opcode.name in ('GET', 'BINGET', 'LONG_BINGET') and int(arg) not in memo:
            raise ValueError('it reads place {} of its memory, never stored'.format(arg))


class _DataOnlyUnpickler(pickle.Unpickler):
    """Builds dicts, lists, strings and numbers, and refuses anything else.

    Those come from the pickle's own opcodes (checked by _check_plain_pickle
    first); everything else (a class, a function such as os.system) must be
    looked up by find_class, refused here.
    """

    def find_class(self, module, name):
        raise RunError('it asks for {}.{}, which a vocabulary does not need; it may be '
                       'crafted to run code, and was not opened'.format(module, name))


def _check_vocab(vocab2ix, path):
    if not isinstance(vocab2ix, dict) or not vocab2ix:
        raise RunError('{}: the vocabulary is not a mapping of tokens to indices. The '
                       'folder is damaged; use a run folder a recipe wrote.'.format(path))
    bad = [(k, v) for k, v in vocab2ix.items()
           if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, int)
           or v < 0]
    if bad:
        raise RunError('{}: the vocabulary maps {!r} to {!r}; tokens must be strings and '
                       'indices whole numbers from 0. The folder is damaged; use a run '
                       'folder a recipe wrote.'.format(path, *bad[0]))
    if len(set(vocab2ix.values())) != len(vocab2ix) or vocab2ix.get('unknown') != 0:
        raise RunError("{}: the vocabulary gives two tokens one index, or has no 'unknown' "
                       'at 0, as every recipe writes it. The folder is damaged; use a run '
                       'folder a recipe wrote.'.format(path))
    ix2vocab = {ix: token for token, ix in vocab2ix.items()}
    return vocab2ix, ix2vocab


def read_vocab(run_dir, allow_pickle=False):
    """(vocab2ix, ix2vocab) from vocab.json; RunError naming the file if unusable.

    allow_pickle: with no vocab.json (a folder from before it existed), read
    the book's vocab.pkl with an unpickler that builds only plain data.
    """
    run_dir = Path(run_dir)
    path = run_dir / VOCAB_FILE
    if check_kind(path) is not None:
        content = read_json(path)
        if not isinstance(content, dict) or 'vocab2ix' not in content:
            raise RunError('{}: no "vocab2ix" in it. The folder is damaged; use a run '
                           'folder a recipe wrote.'.format(path))
        return _check_vocab(content['vocab2ix'], path)
    book = run_dir / BOOK_VOCAB_FILE
    if check_kind(book) is None:
        raise RunError('{} is missing: the run saved no vocabulary.'.format(path))
    if not allow_pickle:
        raise RunError(
            '{} is missing, and {} is a pickle, which this project does not open by '
            'default: opening a pickle can run code hidden in it. If you trust where the '
            'folder came from, add --read-vocab-pkl: it reads the file with an unpickler '
            'that builds only plain data.'.format(path, book))
    data = read_bytes(book)
    try:
        _check_plain_pickle(data)
        content = _DataOnlyUnpickler(io.BytesIO(data)).load()
    except RunError as err:
        raise RunError('{}: {}.'.format(book, err)) from None
    except ValueError as err:
        raise RunError('{}: {}.'.format(book, err)) from None
    except Exception as err:  # truncated or not a pickle
        raise RunError('{} is corrupt ({}: {}).'.format(
            book, type(err).__name__, err)) from None
    if _depth(content) > 3:  # [vocab2ix, ix2vocab]: a list of two dicts of names
        raise RunError('{} nests deeper than the book\'s [vocab2ix, ix2vocab]. The folder '
                       'is damaged; use a run folder a recipe wrote.'.format(book))
    if not (isinstance(content, (list, tuple)) and len(content) == 2):
        raise RunError('{}: not the book\'s [vocab2ix, ix2vocab]. The folder is damaged; '
                       'use a run folder a recipe wrote.'.format(book))
    return _check_vocab(content[0], book)


# ------------------------------------------------------------ JSON files

def _whole(value, minimum):
    return settings.Whole(minimum).ok(value)


def _number(value, low=-settings.LARGEST, high=settings.LARGEST):
    return settings.Number(lambda v: low <= v <= high, '').ok(value)


def check_model_fits(shape, batch_size, seq_len, flag='--rnn-size', advice=None):
    """Refuse, before building it, a model larger than this machine's memory.

    shape: LSTM_Model's arguments named in settings.SHAPE. Counts 5 floats a
    parameter (the weight, its gradient, the clipped gradient and Adam's two
    slots) and, for the unrolled steps, the logits three times (logits,
    softmax, gradient) and about a dozen rnn_size-wide activations a layer.
    A rough lower bound: a model refused here would not have run. advice:
    what to do instead, where the flags are not the way.
    """
    rnn_size, embedding_size, vocab_size = (shape['rnn_size'], shape['embedding_size'],
                                            shape['vocab_size'])
    num_layers, separate_layers = shape['num_layers'], shape['separate_layers']
    layers = num_layers if separate_layers else 1
    lstm = 4 * rnn_size * (embedding_size + rnn_size + 1) \
        + (layers - 1) * 4 * rnn_size * (2 * rnn_size + 1)
    parameters = lstm + rnn_size * vocab_size + vocab_size + vocab_size * embedding_size
    steps = batch_size * seq_len * (3 * vocab_size + 12 * rnn_size * num_layers)
    need = 4 * (5 * parameters + steps)
    have = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')
    if need > have:
        raise Refused(
            'The model would need at least {:.1f} GiB of memory ({:,} parameters with '
            'rnn_size {}, vocabulary {}, batches of {} x {}); this machine has {:.1f} GiB. '
            '{}'.format(need / 2 ** 30, parameters, rnn_size, vocab_size, batch_size, seq_len,
                        have / 2 ** 30, advice or 'Give a smaller {} (the book\'s is 128), '
                        '--batch-size or --seq-len.'.format(flag)))


def upgrade_config(config):
    """A run's settings (config.json, or record.json's copy) in today's names.

    A folder written before the settings became one object used seq_len and
    max_steps null; one written before a setting existed trained with the
    book's value of it (settings.BEFORE). Returns a new dict.
    """
    config = dict(config)
    if 'seq_len' in config:
        config.setdefault('training_seq_len', config.pop('seq_len'))
    if config.get('max_steps', 0) is None:
        config['max_steps'] = 0
    for key, value in settings.BEFORE.items():
        config.setdefault(key, value)
    return config


def read_config(run_dir):
    """config.json, each setting checked; RunError naming the first that is wrong."""
    path = Path(run_dir) / CONFIG_FILE
    if check_kind(path) is None:
        raise RunError('{} is missing: this folder was not written by a recipe of this '
                       'project, so the model cannot be rebuilt.'.format(path))
    return check_config(read_json(path), path)


def check_config(config, path, required=settings.REQUIRED):
    """A run's settings (from path) in today's names, each checked; RunError
    naming the first that is wrong or, of required, missing."""
    if not isinstance(config, dict):
        raise RunError('{}: holds {}, not the run\'s settings. The folder is damaged; use '
                       'a run folder a recipe wrote.'.format(path, type(config).__name__))
    config = upgrade_config(config)
    for key in required:
        if key not in config:
            raise RunError('{}: the setting "{}" is missing. The folder is damaged; use a '
                           'run folder a recipe wrote.'.format(path, key))
    for key, value in config.items():
        kind = settings.SETTINGS[key].kind if key in settings.SETTINGS else None
        if kind is not None and not kind.ok(value):
            raise RunError('{}: "{}" is {}, it must be {}. The file was edited or damaged; '
                           'put back the value the run was trained with.'.format(
                               path, key, json.dumps(value), kind.what))
    return config


RECORD_KEYS = ('status', 'config', 'iterations', 'samples')


LARGEST_LOSS = 1e6  # a cross-entropy in nats: ln(vocabulary) untrained, far above any run's
LONGEST_RUN = 1e9  # seconds: thirty years


def _row(r):
    """[iteration, epoch, batch, loss or None, seconds], as the run writes it."""
    return isinstance(r, list) and len(r) >= 5 and _whole(r[0], 1) and _whole(r[1], 1) \
        and _whole(r[2], 1) and (r[3] is None or _number(r[3], 0, LARGEST_LOSS)) \
        and _number(r[4], 0, LONGEST_RUN)


def _sample(s):
    return isinstance(s, dict) and _whole(s.get('iteration'), 0) \
        and isinstance(s.get('prime'), str) and isinstance(s.get('text'), str)


def _held_out(h):
    return isinstance(h, dict) and _whole(h.get('iteration'), 0) and _whole(
        h.get('epoch'), 1) and _number(h.get('loss'), 0, LARGEST_LOSS) \
        and _number(h.get('perplexity'), 0)


def _resumption(r):
    return isinstance(r, dict) and _whole(r.get('at_iteration'), 0) \
        and isinstance(r.get('changed', {}), dict)


def read_record(run_dir):
    """record.json, its structure checked; RunError naming what is wrong.

    The record of recipe 03 or 04: settings, one row an iteration, samples.
    The classifier's record (one row an epoch, a variant) is refused here.
    """
    path = Path(run_dir) / RECORD_FILE
    record = read_json(path)
    if not isinstance(record, dict):
        raise RunError('{} holds {}, not a run\'s record. The folder is damaged; use a '
                       'run folder a recipe wrote.'.format(path, type(record).__name__))
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        raise RunError('{}: "{}" is missing, so the run\'s losses so far are unknown. The '
                       'folder is damaged.'.format(path, missing[0]))
    if 'recipe' in record and record['recipe'] not in RECORDED_NAMES:
        raise RunError('{}: "recipe" is {}, not a recipe of this project ({}). The file '
                       'was edited or damaged; use a run folder a recipe wrote.'.format(
                           path, json.dumps(record['recipe'])[:300],
                           ', '.join(RECORDED_NAMES)))
    check_config(record['config'], path, required=())
    rows = record['iterations'].get('rows') if isinstance(record['iterations'], dict) \
        else None
    if not isinstance(rows, list) or not all(_row(r) for r in rows) \
            or [r[0] for r in rows] != list(range(1, len(rows) + 1)):
        raise RunError('{}: "iterations" holds no rows of [iteration, epoch, batch, loss, '
                       'seconds], one an iteration from 1. The folder is damaged.'.format(path))
    if not isinstance(record['samples'], list) or not all(
            _sample(s) for s in record['samples']):
        raise RunError('{}: "samples" is not a list of samples. The folder is '
                       'damaged.'.format(path))
    if not isinstance(record.get('held_out', []), list) or not all(
            _held_out(h) for h in record.get('held_out', [])):
        raise RunError('{}: "held_out" is not a list of held-out losses. The folder is '
                       'damaged.'.format(path))
    if not isinstance(record.get('resumptions', []), list) or not all(
            _resumption(r) for r in record.get('resumptions', [])):
        raise RunError('{}: "resumptions" is not a list of resumptions. The folder is '
                       'damaged.'.format(path))
    if not isinstance(record.get('corpus') or {}, dict):
        raise RunError('{}: "corpus" is not a description of the text. The folder is '
                       'damaged.'.format(path))
    return record


# ------------------------------------------------------------ checkpoints

def checkpoint_prefix(run_dir, iteration):
    return Path(run_dir) / 'model-{}'.format(iteration)


def _data_files_complete(prefix):
    """True when the .index and every .data shard it needs are there, none empty."""
    index = check_kind(str(prefix) + '.index')
    if index is None or index.st_size == 0:
        return False
    if index.st_size > LIMITS['.index']:  # TensorFlow reads it: bounded here
        raise RunError('{}.index is {:,} bytes, more than the {:,} this project writes there: '
                       'it is not one of its files. {}'.format(
                           prefix, index.st_size, LIMITS['.index'], RUN_ADVICE))
    shards = [n for n in _names(prefix.parent) if re.fullmatch(
        re.escape(prefix.name) + r'\.data-\d{5}-of-\d{5}', n)]
    if not shards:
        return False
    needed = int(shards[0][-5:])
    return len(shards) == needed and all(
        check_kind(prefix.parent / n).st_size > 0 for n in shards)


def is_complete(prefix, need_progress):
    prefix = Path(prefix)
    return _data_files_complete(prefix) and (
        not need_progress or check_kind(str(prefix) + PROGRESS_SUFFIX) is not None)


def _names(folder):
    """The names in a run folder (run_dir_of)."""
    with os.scandir(run_dir_of(folder)) as entries:
        return [e.name for e in entries]


def saved_iterations(run_dir):
    """The iterations of the checkpoints in run_dir, oldest first (set-aside ones not)."""
    found = []
    for name in _names(run_dir):
        match = re.fullmatch(r'model-(\d+)\.index', name)
        if match:
            found.append(int(match.group(1)))
    return sorted(found)


def read_pointer(run_dir):
    """The checkpoint names the `checkpoint` file lists, latest last.

    Returns (names, problem): problem is None, or says why the file cannot
    be used (then names is empty). Only each path's last part is kept: the
    file may hold absolute paths, stale once the folder is moved.
    """
    path = Path(run_dir) / POINTER_FILE
    if check_kind(path) is None:
        return [], 'there is no "checkpoint" file'
    try:
        lines = read_bytes(path).decode('utf-8').splitlines()
    except UnicodeDecodeError:
        return [], 'the "checkpoint" file is not text'
    latest, listed = None, []
    for line in lines:
        match = re.fullmatch(r'\s*(\w+)\s*:\s*"(.*)"\s*', line)
        if match is None:
            if line.strip() and not re.fullmatch(r'\s*\w+\s*:\s*[-+0-9.e]+\s*', line):
                return [], 'the "checkpoint" file is unreadable'
            continue
        name = os.path.basename(match.group(2))
        if match.group(1) == 'model_checkpoint_path':
            latest = name
        elif match.group(1) == 'all_model_checkpoint_paths':
            listed.append(name)
    if latest is None:
        return [], 'the "checkpoint" file names no checkpoint'
    return [n for n in listed if n != latest] + [latest], None


def write_pointer(run_dir, names):
    """The `checkpoint` file, as TensorFlow's Saver writes it: names, latest last.

    Relative names, so the folder can be moved; tf.train.latest_checkpoint
    and TF1's Saver read it.
    """
    lines = ['model_checkpoint_path: "{}"'.format(names[-1])]
    lines += ['all_model_checkpoint_paths: "{}"'.format(n) for n in names]
    write_file(run_dir, POINTER_FILE, '\n'.join(lines) + '\n')


def find_checkpoint(path, need_progress=False):
    """The run folder and the checkpoint to use that path names.

    path is a run folder or a checkpoint prefix in one (DIR/model-500). In a
    folder, the checkpoint is the newest complete one: its weights and, with
    need_progress, its progress file. That is the one the `checkpoint` file
    names, unless a save was cut short or the file is damaged: then `note`
    says which is taken, and why.

    Returns (run_dir, prefix, note); note is None when the checkpoint is the
    one the `checkpoint` file names. Raises RunError naming what is missing.
    """
    path = Path(path)
    if path.is_dir():
        run_dir = path
        check_folder(run_dir)
        needs = 'weights and progress file' if need_progress else 'weights'
        names, problem = read_pointer(run_dir)
        complete = [i for i in saved_iterations(run_dir)
                    if is_complete(checkpoint_prefix(run_dir, i), need_progress)]
        if names and complete and names[-1] == 'model-{}'.format(complete[-1]):
            return run_dir, str(run_dir / names[-1]), None
        if names and not is_complete(run_dir / names[-1], need_progress):
            problem = 'the latest checkpoint, {}, lacks some of its {}'.format(
                names[-1], needs)
        elif names:
            problem = 'the "checkpoint" file names {}, but a newer one is complete (its ' \
                      'save was cut short before the file moved)'.format(names[-1])
        if not complete:
            raise RunError('{}: no complete checkpoint here ({}, and no model-N with its '
                           '{}). Give a run folder a recipe wrote, or a checkpoint such '
                           'as {}.'.format(path, problem, needs, path / 'model-500'))
        prefix = checkpoint_prefix(run_dir, complete[-1])
        return run_dir, str(prefix), '{}: using {}, the newest complete one'.format(
            problem, prefix.name)
    prefix, run_dir = path, path.parent
    if not run_dir.is_dir() or not any(n.startswith(prefix.name + '.')
                                       for n in _names(run_dir)):
        raise RunError('{}: no such run folder or checkpoint.'.format(path))
    check_folder(run_dir)
    if check_kind(str(prefix) + '.index') is None:
        raise RunError('{}: the checkpoint is missing (no {}). Give a run folder or a '
                       'checkpoint that exists.'.format(prefix, prefix.name + '.index'))
    if not _data_files_complete(prefix):
        raise RunError('{}: the checkpoint is partial: {} lacks its data file. Give the run '
                       'folder instead: its newest complete checkpoint is used.'.format(
                           prefix, prefix.name + '.index'))
    if need_progress and not is_complete(prefix, True):
        raise RunError('{} is missing, so where the run stood at that checkpoint is '
                       'unknown. Resume from the run folder, which takes the newest '
                       'complete checkpoint.'.format(str(prefix) + PROGRESS_SUFFIX))
    return run_dir, str(prefix), None


def remove_checkpoint(prefix):
    """Remove one checkpoint's files (weights, graph, progress); never a link's target."""
    prefix = Path(prefix)
    for name in _names(prefix.parent):
        if name.startswith(prefix.name + '.') and _CHECKPOINT_FILE.fullmatch(name) \
                and not name.startswith(prefix.name + '.diverged'):
            os.unlink(prefix.parent / name)


# ------------------------------------------------------------ progress

def write_progress(prefix, position, lstm_state, python_random, numpy_random):
    """Where the run stands, for --resume: model-N.progress.npz, no pickle in it.

    position: {'iteration', 'epoch', 'batch', 'order'}; lstm_state: the
    flattened LSTM state arrays; the random states as random.getstate() and
    np.random.get_state() return them.
    """
    version, internal, gauss = python_random
    kind, keys, pos, has_gauss, cached = numpy_random
    meta = {'format': 1, 'iteration': position['iteration'], 'epoch': position['epoch'],
            'batch': position['batch'], 'python_random': [version, list(internal), gauss],
            'numpy_random': [kind, int(pos), int(has_gauss), float(cached)],
            'lstm_state_count': len(lstm_state)}
    arrays = {'meta': np.frombuffer(json.dumps(meta).encode('utf-8'), np.uint8),
              'order': np.asarray(position['order'], np.int64),
              'numpy_random_keys': np.asarray(keys, np.uint32)}
    for i, array in enumerate(lstm_state):
        arrays['lstm_state_{}'.format(i)] = np.asarray(array)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    register(Path(prefix).parent, Path(prefix).name)
    write_atomically(str(prefix) + PROGRESS_SUFFIX, buffer.getvalue())


def read_progress(prefix, num_batches):
    """What write_progress wrote, checked; RunError naming the file if unusable.

    Returns {'iteration', 'epoch', 'batch', 'order', 'lstm_state',
    'python_random', 'numpy_random'}, the random states ready for
    random.setstate and np.random.set_state.
    """
    path = Path(str(prefix) + PROGRESS_SUFFIX)

    def damaged(what):
        return RunError('{}: {}. The file is damaged: move {}.* out of the folder, then '
                        '--resume the folder: its newest complete checkpoint is used.'.format(
                            path, what, Path(prefix).name))
    if check_kind(path) is None:
        raise RunError('{} is missing, so where the run stood at that checkpoint is '
                       'unknown.'.format(path))
    data = read_bytes(path)
    try:
        # the arrays' sizes as the archive declares them, before any is unpacked
        if sum(m.file_size for m in zipfile.ZipFile(io.BytesIO(data)).infolist()) \
                > limit_of(path):
            raise ValueError('its arrays unpack to more than {:,} bytes'.format(
                limit_of(path)))
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        # an array whose items take no bytes unpacks from nothing to any length
        if any(a.dtype.itemsize == 0 for a in arrays.values()):
            raise ValueError('an array of items of no size')
    except Exception as err:  # not a .npz, truncated, or holding objects
        raise damaged('it cannot be read ({}: {})'.format(type(err).__name__, err)) from None
    for name in ('meta', 'order', 'numpy_random_keys'):
        if name not in arrays:
            raise damaged('"{}" is missing'.format(name))
    try:
        meta = json.loads(arrays['meta'].tobytes().decode('utf-8'))
        iteration, epoch, batch = meta['iteration'], meta['epoch'], meta['batch']
        version, internal, gauss = meta['python_random']
        kind, pos, has_gauss, cached = meta['numpy_random']
        count = meta['lstm_state_count']
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
        raise damaged('its description is incomplete ({}: {})'.format(
            type(err).__name__, err)) from None
    if not all(_whole(v, 0) for v in (iteration, epoch, batch, count)):
        raise damaged('iteration, epoch and batch must be whole numbers')
    if batch >= num_batches or count > 4 * settings.LAYERS.maximum:
        raise damaged('batch {} is beyond the epoch\'s {} batches, or it holds {} LSTM '
                      'states'.format(batch, num_batches, count))
    order = arrays['order']
    if order.dtype != np.int64 or order.shape != (num_batches,) \
            or sorted(order.tolist()) != list(range(num_batches)):
        raise damaged('its batch order is not an order of this run\'s {} batches'.format(
            num_batches))
    lstm_state = []
    for i in range(count):
        name = 'lstm_state_{}'.format(i)
        if name not in arrays or arrays[name].dtype != np.float32:
            raise damaged('"{}" is missing or not float32'.format(name))
        lstm_state.append(arrays[name])
    return {'iteration': iteration, 'epoch': epoch, 'batch': batch,
            'order': order.tolist(), 'lstm_state': lstm_state,
            'python_random': (version, tuple(internal), gauss),
            'numpy_random': (kind, arrays['numpy_random_keys'], pos, has_gauss, cached)}
