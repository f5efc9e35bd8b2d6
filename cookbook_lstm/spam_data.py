"""Recipe 02's data, the UCI SMS Spam Collection, and the book's steps on it.

Sources, in order: a copy the user names (--data PATH: the collection's
file, or the smsspamcollection.zip it comes in); the copy cached in temp/
by an earlier run (the book's temp/text_data.txt); the book's download of
the zip from the UCI Machine Learning Repository; and, when that fails or
the run is offline, the copy shipped inside this package
(cookbook_lstm/data/SMSSpamCollection, CC BY 4.0: see its README.md), so
that a machine with no internet can still train.

The cache holds the collection's own bytes, as the zip holds them, so its
sha256 is the collection's. (The book's code caches the text after
dropping its non-ASCII characters, with an empty line at the end; such a
cache is read too, and recognised as the book's.)

Each source is described by a record (its source, sha256, size and the
count of messages) for the log and a run's config.json. A file that is
not a collection of messages (not UTF-8 text, a line without exactly one
tab, a label other than ham or spam, empty, too large, or a link, a pipe,
a device or a folder where the cache should be) is refused in one line
that says what to do; a collection of the right format but another
sha256 is used, and described as not the book's.

The book's steps then follow in its order: text_data (decode, drop the
non-ASCII characters, a message a line, label and text split at the tab)
and clean_text (each text without punctuation or digits, lower case).
"""
import hashlib
import io
import os
import re
import urllib.parse
import zipfile
import zlib
from pathlib import Path

from cookbook_lstm import safe_files
from cookbook_lstm.errors import CorpusError, RunError
from cookbook_lstm.memory import amount
from cookbook_lstm.safe_files import check_kind, read_bytes

ZIP_URL = 'http://archive.ics.uci.edu/ml/machine-learning-databases/00228/smsspamcollection.zip'
ZIP_MEMBER = 'SMSSpamCollection'  # the book's z.read('SMSSpamCollection')
CACHE_FILE = 'text_data.txt'  # the book's data_file, in its data_dir (temp/)
DOWNLOAD_TIMEOUT = 30  # seconds before the download is given up
# The collection is 477,907 bytes and its zip about 200 KB: a file or a
# download larger than this is not a collection of text messages.
SIZE_LIMIT = 64 * 10 ** 6
LABELS = ('ham', 'spam')

SHIPPED_COPY = Path(__file__).resolve().parent / 'data' / ZIP_MEMBER
# The UCI SMS Spam Collection as the zip holds it (and the shipped copy)
COLLECTION_SHA256 = '7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d'
# ... and as the book's own code caches it: non-ASCII characters dropped,
# each line written with its newline, so that the file ends with an empty line
BOOK_CACHE_SHA256 = '6a722dac2ec7b392225b0df1bf1860024c50a00c1602f917a7410ed86731b664'

DATA_ADVICE = ('Give the UCI SMS Spam Collection: its file SMSSpamCollection (a message a '
               'line: ham or spam, a tab, the text), or the smsspamcollection.zip it comes in.')


class NotCollection(ValueError):
    """Bytes that are not a collection of labelled messages; the message says why,
    and the caller says whose bytes they are and what to do."""


# ---------------------------------------------------------------- the book's steps

def text_data(data_bytes):
    """The book's steps from the file's bytes to its labels and texts.

    As printed: decode (UTF-8), drop what is not ASCII, split into lines,
    drop the empty ones, split each at its tab. Returns (labels, texts),
    two lists: the book's text_data_target and text_data_train.
    """
    # Format Data
    text_data = data_bytes.decode()
    text_data = text_data.encode('ascii', errors='ignore')
    text_data = text_data.decode().split('\n')
    text_data = [x.split('\t') for x in text_data if len(x) >= 1]
    [text_data_target, text_data_train] = [list(x) for x in zip(*text_data)]
    return text_data_target, text_data_train


def clean_text(text_string):
    """The book's clean_text: no punctuation, digits or underscores, single
    spaces, lower case."""
    text_string = re.sub(r'([^\s\w]|_|[0-9])+', '', text_string)
    text_string = ' '.join(text_string.split())
    text_string = text_string.lower()
    return text_string


# ---------------------------------------------------------------- the format

def _shown(text, width=20):
    return repr(text if len(text) <= width else text[:width] + '...')


def check_collection(data_bytes):
    """Check that the book's steps (text_data) fit these bytes: UTF-8 text
    whose every line the book keeps (every line not empty) is a label, ham
    or spam, a tab and a text. Empty lines are allowed: the book drops them.

    Returns {'messages': n, 'ham': n, 'spam': n}; raises NotCollection,
    whose message names the first line that does not fit.
    """
    if not data_bytes:
        raise NotCollection('it is empty')
    if len(data_bytes) > SIZE_LIMIT:
        raise NotCollection('it is {}, more than the {} a collection of text messages may '
                            'be here'.format(amount(len(data_bytes)), amount(SIZE_LIMIT)))
    try:
        text = data_bytes.decode()
    except UnicodeDecodeError as err:
        raise NotCollection('line {} is not UTF-8 text (byte 0x{:02x})'.format(
            data_bytes.count(b'\n', 0, err.start) + 1, data_bytes[err.start])) from None
    text = text.encode('ascii', errors='ignore').decode()
    counts = dict.fromkeys(LABELS, 0)
    for number, line in enumerate(text.split('\n'), 1):
        if len(line) < 1:
            continue
        tabs = line.count('\t')
        if tabs != 1:
            raise NotCollection('line {} has {}'.format(
                number, 'no tab between its label and its text' if tabs == 0
                else '{} tabs, not one between its label and its text'.format(tabs)))
        label = line.split('\t')[0]
        if label not in counts:
            raise NotCollection("line {}'s label is {}, not ham or spam".format(
                number, _shown(label)))
        counts[label] += 1
    if not any(counts.values()):
        raise NotCollection('it holds no messages, only empty lines')
    return dict(messages=sum(counts.values()), **counts)


def from_zip(zip_bytes):
    """The collection inside the UCI zip (its member SMSSpamCollection), read
    no larger than SIZE_LIMIT. Raises NotCollection."""
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
            try:
                info = z.getinfo(ZIP_MEMBER)
            except KeyError:
                raise NotCollection('a zip without {} inside'.format(ZIP_MEMBER)) from None
            if info.file_size > SIZE_LIMIT:
                raise NotCollection('a zip whose {} is {}, more than the {} a collection of '
                                    'text messages may be here'.format(
                                        ZIP_MEMBER, amount(info.file_size),
                                        amount(SIZE_LIMIT)))
            with z.open(info) as member:
                data = member.read(SIZE_LIMIT + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
            RuntimeError) as err:  # RuntimeError: encrypted
        raise NotCollection('a damaged zip ({})'.format(err)) from None
    if len(data) > SIZE_LIMIT:  # its header said less
        raise NotCollection('a damaged zip ({} is larger than its header says)'.format(
            ZIP_MEMBER))
    return data


def is_zip(data):
    return data[:4] == b'PK\x03\x04'


def describe_member(data_bytes):
    """describe_bytes for the collection taken out of a zip: a NotCollection
    says that the zip's member is not one."""
    try:
        return describe_bytes(data_bytes)
    except NotCollection as err:
        raise NotCollection('a zip whose {} is not a collection of messages ({})'.format(
            ZIP_MEMBER, err)) from None


def describe_bytes(data_bytes):
    """The record of a checked collection: sha256, size, which it is, counts."""
    sha256 = hashlib.sha256(data_bytes).hexdigest()
    collection = {COLLECTION_SHA256: 'uci', BOOK_CACHE_SHA256: 'uci-book-cache'}.get(
        sha256, 'other')
    record = dict(collection=collection, sha256=sha256, bytes=len(data_bytes))
    record.update(check_collection(data_bytes))
    return record


# ---------------------------------------------------------------- sources

def download_collection(url=ZIP_URL, timeout=DOWNLOAD_TIMEOUT, limit=SIZE_LIMIT):
    """The book's download: the zip's bytes, at most limit of them.
    Raises OSError, one short line, on any failure (text_source.download)."""
    from cookbook_lstm.text_source import download
    return download(url, timeout, limit, what='zip of text messages')


def _file(path, refuse):
    """The os.stat_result of the regular file at path (None when absent),
    with refuse(what) raised for anything else, never followed or opened."""
    try:
        return check_kind(path, refuse=lambda kind: refuse('{} is {}, not a file'.format(
            path, kind)))
    except OSError as err:
        raise refuse('{} cannot be read ({})'.format(path, err.strerror)) from None


def _read(path, size, refuse):
    """The bytes of a regular file found at path, refused when over SIZE_LIMIT."""
    if size > SIZE_LIMIT:
        raise refuse('{} is {}, more than the {} a collection of text messages may be '
                     'here'.format(path, amount(size), amount(SIZE_LIMIT)))
    try:
        return read_bytes(path, SIZE_LIMIT, advice='')
    except RunError as err:  # replaced or grown since the check
        raise refuse(str(err).strip().rstrip('.')) from None


def read_data_file(data_path):
    """--data: the user's copy, the collection's file or its zip.

    A symbolic link the user names is followed to its file (os.path.realpath),
    which must be a regular file no larger than SIZE_LIMIT; a pipe, a device or
    a folder is refused in one line, never opened. The file is used where it
    is, never copied to the cache. Returns (data_bytes, record).
    """
    path = Path(data_path)
    real = os.path.realpath(path)
    shown = str(path) if real == os.path.abspath(path) else '{} (a link to {})'.format(
        path, real)

    def refuse(what):
        return CorpusError('--data {}: {}. {}'.format(shown, what, DATA_ADVICE))
    try:
        st = check_kind(real, refuse=lambda kind: refuse(
            'that is a folder' if kind == 'a folder' else 'that is {}, not a file'.format(kind)))
    except OSError as err:
        raise refuse('cannot be read ({})'.format(err.strerror)) from None
    if st is None:
        raise refuse('no such file')
    if st.st_size > SIZE_LIMIT:
        raise refuse('it is {}, more than the {} a collection of text messages may be '
                     'here'.format(amount(st.st_size), amount(SIZE_LIMIT)))
    try:
        data = read_bytes(real, SIZE_LIMIT, advice='')
    except RunError as err:  # replaced or grown since the check
        raise refuse(str(err).strip().rstrip('.')) from None
    record = {'source': 'file {}'.format(real), 'path': real}
    try:
        if is_zip(data):
            data = from_zip(data)
            record['member'] = ZIP_MEMBER
            record.update(describe_member(data))
        else:
            record.update(describe_bytes(data))
    except NotCollection as err:
        raise refuse(str(err)) from None
    return data, record


def _damaged_cache(cache, what):
    return CorpusError('{}. The data cache is damaged: delete {} to fetch the data '
                       'again.'.format(what, cache))


def read_cache(data_dir):
    """The collection an earlier run cached in data_dir and its record, or None
    when there is none. A cache that is not a collection of messages (or not
    a regular file) is a CorpusError saying to delete it."""
    cache = Path(data_dir) / CACHE_FILE

    def refuse(what):
        return _damaged_cache(cache, what)
    st = _file(cache, refuse)
    if st is None:
        return None
    # If file has been saved, load from that file
    data = _read(cache, st.st_size, refuse)
    try:
        record = describe_bytes(data)
    except NotCollection as err:
        raise refuse('{}: {}'.format(cache, err)) from None
    return data, dict(record, source='cache', path=str(cache), cache=str(cache))


def read_shipped_copy():
    """The collection shipped in this package, checked to be the UCI one
    unchanged. Returns (data_bytes, record)."""
    def refuse(what):
        return CorpusError('{}. The copy of the collection shipped in the package is '
                           'missing or damaged: reinstall the project (pip install -e .), '
                           'or give the collection with --data PATH.'.format(what))
    st = _file(SHIPPED_COPY, refuse)
    if st is None:
        raise refuse('{} is missing'.format(SHIPPED_COPY))
    data = _read(SHIPPED_COPY, st.st_size, refuse)
    sha256 = hashlib.sha256(data).hexdigest()
    if sha256 != COLLECTION_SHA256:
        raise refuse('{} has sha256 {}, not the collection\'s {}'.format(
            SHIPPED_COPY, sha256, COLLECTION_SHA256))
    return data, dict(describe_bytes(data), source='shipped copy', path=str(SHIPPED_COPY))


def _write_cache(data_dir, data, record):
    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CorpusError('Cannot make the folder {} for the data cache ({}): move away '
                          'what stands there.'.format(data_dir, err.strerror)) from None
    cache = data_dir / CACHE_FILE
    # Save data to text file: written beside it and renamed over it, so that
    # a run cut short leaves no half a collection for the next run to read
    safe_files.write_atomically(cache, data)
    record['cache'] = str(cache)


def load_spam_data(data_dir, data_path=None, offline=False, log=print, url=ZIP_URL,
                   timeout=DOWNLOAD_TIMEOUT):
    """The UCI SMS Spam Collection's bytes, for text_data.

    Sources, in order: data_path (--data, the user's copy, used where it is);
    the cache data_dir/text_data.txt; the book's download of the zip (skipped
    when offline); the copy shipped in this package. A download, or the
    shipped copy, is written to the cache (atomically), so that the next
    run reads it from there.

    Returns (data_bytes, record): record['source'] is 'file PATH', 'cache',
    'download' or 'shipped copy'; its 'sha256', 'bytes', 'collection'
    ('uci', 'uci-book-cache' or 'other'), 'messages', 'ham' and 'spam' say
    what was read, and describe_source makes a line of it.
    """
    if data_path is not None:
        return read_data_file(data_path)

    cached = read_cache(data_dir)
    if cached is not None:
        return cached

    data = record = None
    if offline:
        log('Offline: not downloading.')
    else:
        log('Not found, downloading the SMS Spam Collection from {}'.format(
            urllib.parse.urlsplit(url).netloc))
        try:
            zip_bytes = download_collection(url, timeout)
            if not is_zip(zip_bytes):
                raise NotCollection('not a zip file')
            data = from_zip(zip_bytes)
            record = dict(describe_member(data), source='download', url=url,
                          member=ZIP_MEMBER)
        except OSError as err:
            data = None
            log('Download failed: {}.'.format(err))
        except NotCollection as err:
            data = None
            log('Download failed: the download is {}.'.format(err))
    if data is None:
        log('Using the copy shipped in the cookbook_lstm package instead.')
        data, record = read_shipped_copy()
    _write_cache(data_dir, data, record)
    return data, record


def describe_source(record):
    """One line for the log: where the collection came from, whether it is the
    one the book used, its counts, size and sha256."""
    source = record['source']
    if source == 'download':
        where = 'download {} ({} inside), cached in {}'.format(
            record['url'], record['member'], record['cache'])
    elif source == 'shipped copy':
        where = 'the copy shipped in the package, {}, cached in {}'.format(
            record['path'], record['cache'])
    elif source == 'cache':
        where = 'cache {} (delete it to fetch the data again)'.format(record['cache'])
    else:
        where = source + (' ({} inside)'.format(record['member']) if 'member' in record
                          else '')
    what = {
        'uci': 'the UCI SMS Spam Collection the book used, unchanged',
        'uci-book-cache': ("the UCI SMS Spam Collection as the book's own code caches it, "
                           'without its non-ASCII characters (which the next step drops '
                           'anyway)'),
    }.get(record['collection'],
          'a collection of your own' if source.startswith('file ') else
          'not the collection the book used (its sha256 differs)')
    note = ('' if record['collection'] != 'other' else
            ", so its figures will not compare with the book's")
    return '{}: {}{} ({:,} messages: {:,} ham, {:,} spam; {:,} bytes, sha256 {})'.format(
        where, what, note, record['messages'], record['ham'], record['spam'],
        record['bytes'], record['sha256'])


def check_split(vocab_size, train_messages, test_messages, min_word_frequency):
    """Refuse (CorpusError, one line) a collection too small for the recipe: a
    vocabulary of nothing but '<UNK>', or a split with no training or no test
    message."""
    if vocab_size < 2:
        raise CorpusError(
            'the messages give a vocabulary of {} (no word is seen more than '
            '--min-word-frequency {} times): give a lower --min-word-frequency, or more '
            'messages.'.format('<UNK> alone' if vocab_size == 1 else 'nothing',
                               min_word_frequency))
    if train_messages == 0 or test_messages == 0:
        raise CorpusError(
            'the 80-20 split of {} messages leaves {} to train and {} to test: give at '
            'least 5 messages.'.format(train_messages + test_messages, train_messages,
                                       test_messages))
