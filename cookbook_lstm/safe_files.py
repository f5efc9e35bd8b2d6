"""The door to files a user or a stranger made: bounded reads, atomic writes.

Every file of a run folder, and every other file the project reads or
writes that someone else could have put there (the text cache, a --corpus
file, a published figures file), goes through these few functions, so the
rules hold everywhere:

- Only regular files are opened, and never through a symbolic link: what
  stands at a name this project writes must be absent, or a regular file;
  a link, a pipe, a device or a folder is refused in one line that names
  it (check_kind, the one check of a file's kind), before anything is
  opened or written.
- Every read is bounded (LIMITS, or the caller's limit) and JSON may nest
  only as deep as the project's own files do (MAX_JSON_DEPTH).
- A write goes to a temporary file created exclusively beside the target
  (O_CREAT | O_EXCL | O_NOFOLLOW), flushed, synced and renamed over it, so
  a kill, a full disk or a second Ctrl-C leaves either the old file or the
  new one, whole.
"""
import errno
import json
import os
import stat
from pathlib import Path

from cookbook_lstm.errors import RunError

TMP_SUFFIX = '.tmp'  # NAME.tmp: the temporary file of a write to NAME

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


def check_kind(path, folder=False, refuse=None):
    """Refuse path if something other than a regular file (folder=True: a real
    folder) stands there; a link is never followed. Returns its
    os.stat_result, or None when nothing is there.

    The one check of a file's kind, for every file the project opens.
    refuse: a function from what stands there, in words ('a named pipe'), to
    the exception raised; by default a RunError that says to move it away.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if (stat.S_ISDIR if folder else stat.S_ISREG)(st.st_mode):
        return st
    if refuse is not None:
        raise refuse(kind_of(st.st_mode))
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


def depth(value):
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
    if value is None and data.strip() != b'null' or depth(value) > max_depth:
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



def read_lines(path, limit, what):
    """The lines of a text file a user names, stripped, blank ones skipped: a
    command's list of inputs (what: 'messages', 'addresses'). Refuses (RunError,
    one line) what read_bytes refuses, text that is not UTF-8, and a file
    with no line."""
    advice = 'Give a text file of {}, one a line.'.format(what)
    path = Path(path)
    # worded for a file of the user's, not for one of the project's
    st = check_kind(path, refuse=lambda kind: RunError('{}: that is {}, not a file. {}'.format(
        path, kind, advice + (' (the file itself, not a link to it)' if 'link' in kind
                              else ''))))
    if st is None:
        raise RunError('{}: no such file. {}'.format(path, advice))
    if st.st_size > limit:
        raise RunError('{}: it is {:,} bytes, more than the {:,} a file of {} may be here: '
                       'split it.'.format(path, st.st_size, limit, what))
    data = read_bytes(path, limit=limit, advice=advice)
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as err:
        raise RunError('{}: line {} is not UTF-8 text (byte 0x{:02x}). {}'.format(
            path, data.count(b'\n', 0, err.start) + 1, data[err.start], advice)) from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise RunError('{}: holds no {}. {}'.format(path, what, advice))
    return lines
