"""Recipe 02's data: where the SMS Spam Collection comes from, and the book's steps on it.

No test uses the network: the download is replaced by one that fails or
returns a zip made here.
"""
import hashlib
import io
import os
import zipfile
from collections import Counter

import pytest

from cookbook_lstm import errors
from cookbook_lstm import safe_files
from cookbook_lstm import spam_data

# Two messages, laid out as the collection's file
TINY = b'ham\tOk lar... Joking wif u oni...\nspam\tWIN a \xc2\xa31000 prize NOW!\n'
TINY_SHA256 = hashlib.sha256(TINY).hexdigest()
SHIPPED = spam_data.SHIPPED_COPY.read_bytes()
ADVICE = ('Give the UCI SMS Spam Collection: its file SMSSpamCollection (a message a line: '
          'ham or spam, a tab, the text), or the smsspamcollection.zip it comes in.')
UCI_FIGURES = ('5,574 messages: 4,827 ham, 747 spam; 477,907 bytes, sha256 '
               '7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d')


def make_zip(members):
    """A zip of members, its bytes the same at every call: each member dated
    1 January 2011, not now (a test's parameters must be the same in every
    worker that collects them)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2011, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def no_download(url, timeout):
    raise AssertionError('the download must not be tried')


@pytest.fixture
def downloads(monkeypatch):
    """Replace the download by one that returns the zip (or raises the error) set
    in .answer; .calls lists the (url, timeout) of each call."""
    class Downloads:
        answer = OSError('could not connect to archive.ics.uci.edu')
        calls = []

        def __call__(self, url, timeout):
            self.calls.append((url, timeout))
            if isinstance(self.answer, Exception):
                raise self.answer
            return self.answer
    fake = Downloads()
    monkeypatch.setattr(spam_data, 'download_collection', fake)
    return fake


# ------------------------------------------------------------------ the shipped copy

def test_shipped_copy_is_the_uci_collection_unchanged():
    assert hashlib.sha256(SHIPPED).hexdigest() == (
        '7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d')
    assert len(SHIPPED) == 477907 and SHIPPED.count(b'\n') == 5574
    labels, texts = spam_data.text_data(SHIPPED)
    assert len(labels) == len(texts) == 5574
    assert Counter(labels) == {'ham': 4827, 'spam': 747}
    assert spam_data.clean_text(texts[0]) == ('go until jurong point crazy available only in '
                                              'bugis n great world la e buffet cine there got '
                                              'amore wat')
    assert (spam_data.SHIPPED_COPY.parent / 'README.md').is_file()  # its attribution


def test_shipped_copy_damaged_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / 'SMSSpamCollection'
    copy.write_bytes(TINY)
    monkeypatch.setattr(spam_data, 'SHIPPED_COPY', copy)
    with pytest.raises(errors.CorpusError) as err:
        spam_data.load_spam_data(tmp_path / 'data', offline=True, log=lambda *a: None)
    assert str(err.value) == (
        "{} has sha256 {}, not the collection's 7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669"
        '173bfdc4996c239d. The copy of the collection shipped in the package is missing or '
        'damaged: reinstall the project (pip install -e .), or give the collection with '
        '--data PATH.'.format(copy, TINY_SHA256))


# ------------------------------------------------------------------ the sources in turn

def test_offline_uses_the_shipped_copy_and_caches_it(tmp_path, monkeypatch):
    monkeypatch.setattr(spam_data, 'download_collection', no_download)
    lines = []
    data, record = spam_data.load_spam_data(tmp_path, offline=True, log=lines.append)
    assert lines == ['Offline: not downloading.',
                     'Using the copy shipped in the cookbook_lstm package instead.']
    assert data == SHIPPED and (tmp_path / 'text_data.txt').read_bytes() == SHIPPED
    assert record == {'source': 'shipped copy', 'path': str(spam_data.SHIPPED_COPY),
                      'cache': str(tmp_path / 'text_data.txt'), 'collection': 'uci',
                      'sha256': '7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d',
                      'bytes': 477907, 'messages': 5574, 'ham': 4827, 'spam': 747}
    assert spam_data.describe_source(record) == (
        'the copy shipped in the package, {}, cached in {}: the UCI SMS Spam Collection the '
        'book used, unchanged ({})'.format(spam_data.SHIPPED_COPY, tmp_path / 'text_data.txt',
                                           UCI_FIGURES))

    # the next run reads the cache, and says nothing on the way
    lines.clear()
    data, record = spam_data.load_spam_data(tmp_path, log=lines.append)
    assert lines == [] and data == SHIPPED and record['source'] == 'cache'
    assert spam_data.describe_source(record) == (
        'cache {} (delete it to fetch the data again): the UCI SMS Spam Collection the book '
        'used, unchanged ({})'.format(tmp_path / 'text_data.txt', UCI_FIGURES))


def test_failed_download_falls_back_to_the_shipped_copy(tmp_path, downloads):
    lines = []
    data, record = spam_data.load_spam_data(tmp_path, log=lines.append)
    assert downloads.calls == [(spam_data.ZIP_URL, 30)]
    assert lines == ['Not found, downloading the SMS Spam Collection from archive.ics.uci.edu',
                     'Download failed: could not connect to archive.ics.uci.edu.',
                     'Using the copy shipped in the cookbook_lstm package instead.']
    assert record['source'] == 'shipped copy' and data == SHIPPED
    assert (tmp_path / 'text_data.txt').read_bytes() == SHIPPED


def test_download_takes_the_zips_member_and_caches_it(tmp_path, downloads):
    downloads.answer = make_zip({'readme': b'about', 'SMSSpamCollection': TINY})
    lines = []
    data, record = spam_data.load_spam_data(tmp_path, log=lines.append)
    assert lines == ['Not found, downloading the SMS Spam Collection from archive.ics.uci.edu']
    assert data == TINY and (tmp_path / 'text_data.txt').read_bytes() == TINY
    assert record['source'] == 'download' and record['collection'] == 'other'
    assert spam_data.describe_source(record) == (
        'download {} (SMSSpamCollection inside), cached in {}: not the collection the book used '
        "(its sha256 differs), so its figures will not compare with the book's (2 messages: 1 "
        'ham, 1 spam; 63 bytes, sha256 {})'.format(spam_data.ZIP_URL, tmp_path / 'text_data.txt',
                                                   TINY_SHA256))


def test_download_of_the_collection_is_described_as_the_books(tmp_path, downloads):
    downloads.answer = make_zip({'SMSSpamCollection': SHIPPED})
    data, record = spam_data.load_spam_data(tmp_path, log=lambda *a: None)
    assert data == SHIPPED
    assert spam_data.describe_source(record) == (
        'download {} (SMSSpamCollection inside), cached in {}: the UCI SMS Spam Collection '
        'the book used, unchanged ({})'.format(spam_data.ZIP_URL, tmp_path / 'text_data.txt',
                                               UCI_FIGURES))


@pytest.mark.parametrize('answer, failure', [
    (b'<html>moved</html>', 'the download is not a zip file'),
    (make_zip({'readme': b'about'}), 'the download is a zip without SMSSpamCollection inside'),
    (make_zip({'SMSSpamCollection': b'ham\tok\nhello\n'}),
     'the download is a zip whose SMSSpamCollection is not a collection of messages (line 2 '
     'has no tab between its label and its text)'),
])
def test_download_that_is_no_collection_falls_back(tmp_path, downloads, answer, failure):
    downloads.answer = answer
    lines = []
    data, record = spam_data.load_spam_data(tmp_path, log=lines.append)
    assert lines[1:] == ['Download failed: {}.'.format(failure),
                         'Using the copy shipped in the cookbook_lstm package instead.']
    assert record['source'] == 'shipped copy'


def test_cache_is_written_atomically(tmp_path, downloads, monkeypatch):
    downloads.answer = make_zip({'SMSSpamCollection': TINY})
    writes = []
    real_write = safe_files.write_atomically
    monkeypatch.setattr(safe_files, 'write_atomically',
                        lambda path, data: writes.append((path, data)) or real_write(path, data))
    spam_data.load_spam_data(tmp_path / 'data', log=lambda *a: None)
    assert writes == [(tmp_path / 'data' / 'text_data.txt', TINY)]
    assert os.listdir(tmp_path / 'data') == ['text_data.txt']  # no temporary file left


def test_cache_write_cut_short_leaves_no_cache(tmp_path, downloads, monkeypatch):
    downloads.answer = make_zip({'SMSSpamCollection': TINY})

    def disk_full(src, dst):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(os, 'replace', disk_full)
    with pytest.raises(OSError, match='No space left on device'):
        spam_data.load_spam_data(tmp_path, log=lambda *a: None)
    assert os.listdir(tmp_path) == []  # neither half a cache nor its temporary file


# ------------------------------------------------------------------ --data

def test_users_own_file_is_used_where_it_is(tmp_path, monkeypatch):
    monkeypatch.setattr(spam_data, 'download_collection', no_download)
    mine = tmp_path / 'mine.tsv'
    mine.write_bytes(TINY)
    data, record = spam_data.load_spam_data(tmp_path / 'data', data_path=mine)
    assert data == TINY and not (tmp_path / 'data').exists()  # not cached
    assert record['source'] == 'file {}'.format(mine)
    assert spam_data.describe_source(record) == (
        "file {}: a collection of your own, so its figures will not compare with the book's "
        '(2 messages: 1 ham, 1 spam; 63 bytes, sha256 {})'.format(mine, TINY_SHA256))


def test_users_zip_gives_its_member(tmp_path):
    mine = tmp_path / 'smsspamcollection.zip'
    mine.write_bytes(make_zip({'SMSSpamCollection': SHIPPED}))
    data, record = spam_data.load_spam_data(tmp_path / 'data', data_path=mine)
    assert data == SHIPPED
    assert spam_data.describe_source(record) == (
        'file {} (SMSSpamCollection inside): the UCI SMS Spam Collection the book used, '
        'unchanged ({})'.format(mine, UCI_FIGURES))


def test_users_link_is_followed_to_its_file(tmp_path):
    link = tmp_path / 'link'
    link.symlink_to(spam_data.SHIPPED_COPY)
    data, record = spam_data.load_spam_data(tmp_path, data_path=link)
    assert record['source'] == 'file {}'.format(spam_data.SHIPPED_COPY)
    assert record['collection'] == 'uci'


@pytest.mark.parametrize('content, what', [
    (b'', 'it is empty'),
    (b'\n\n', 'it holds no messages, only empty lines'),
    (b'ham\tfine\nspam\tbad \xff byte\n', 'line 2 is not UTF-8 text (byte 0xff)'),
    (b'ham,comma separated\n', 'line 1 has no tab between its label and its text'),
    (b'ham\tok\n\nspam\tone\ttwo\n',
     'line 3 has 2 tabs, not one between its label and its text'),
    (b'ham\tok\n1\tone\n', "line 2's label is '1', not ham or spam"),
    (b'Spam\tok\n', "line 1's label is 'Spam', not ham or spam"),
    (make_zip({'collection.txt': TINY}), 'a zip without SMSSpamCollection inside'),
    (make_zip({'SMSSpamCollection': b'ham ok\n'}),
     'a zip whose SMSSpamCollection is not a collection of messages (line 1 has no tab '
     'between its label and its text)'),
    (make_zip({'SMSSpamCollection': TINY})[:60], 'a damaged zip (File is not a zip file)'),
])
def test_foreign_file_is_refused_in_one_line(tmp_path, content, what):
    mine = tmp_path / 'mine.txt'
    mine.write_bytes(content)
    with pytest.raises(errors.CorpusError) as err:
        spam_data.load_spam_data(tmp_path, data_path=mine)
    assert str(err.value) == '--data {}: {}. {}'.format(mine, what, ADVICE)


def test_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(spam_data, 'SIZE_LIMIT', 10)
    monkeypatch.setattr(spam_data, 'read_bytes', None)  # must not be called
    mine = tmp_path / 'mine.txt'
    mine.write_bytes(TINY)
    with pytest.raises(errors.CorpusError) as err:
        spam_data.load_spam_data(tmp_path, data_path=mine)
    assert str(err.value) == ('--data {}: it is 63 bytes, more than the 10 bytes a collection '
                              'of text messages may be here. {}'.format(mine, ADVICE))


def _pipe(path):
    os.mkfifo(path)  # opening it would wait for a writer forever


def _dev_zero(path):
    path.symlink_to('/dev/zero')  # reading it would never end


@pytest.mark.parametrize('make, what', [
    (_pipe, 'that is a named pipe, not a file'),
    (os.mkdir, 'that is a folder'),
    (_dev_zero, 'that is a device file, not a file'),
    (lambda path: None, 'no such file'),
])
def test_data_that_is_no_file_is_refused(tmp_path, make, what):
    path = tmp_path / 'SMSSpamCollection'
    make(path)
    shown = str(path) + (' (a link to /dev/zero)' if path.is_symlink() else '')
    with pytest.raises(errors.CorpusError) as err:
        spam_data.load_spam_data(tmp_path, data_path=path)
    assert str(err.value) == '--data {}: {}. {}'.format(shown, what, ADVICE)


# ------------------------------------------------------------------ the cache

def test_cache_of_the_books_own_code_is_recognised(tmp_path, monkeypatch):
    monkeypatch.setattr(spam_data, 'download_collection', no_download)
    # what the book writes: the text without its non-ASCII characters, a line each
    book_cache = ''.join('{}\n'.format(line) for line in SHIPPED.decode().encode(
        'ascii', errors='ignore').decode().split('\n')).encode()
    (tmp_path / 'text_data.txt').write_bytes(book_cache)
    data, record = spam_data.load_spam_data(tmp_path)
    assert record['collection'] == 'uci-book-cache' and record['messages'] == 5574
    assert spam_data.text_data(data) == spam_data.text_data(SHIPPED)


def test_cache_of_another_collection_is_used_and_said_so(tmp_path, monkeypatch):
    monkeypatch.setattr(spam_data, 'download_collection', no_download)
    (tmp_path / 'text_data.txt').write_bytes(TINY)
    data, record = spam_data.load_spam_data(tmp_path)
    assert data == TINY
    assert spam_data.describe_source(record) == (
        'cache {} (delete it to fetch the data again): not the collection the book used (its '
        "sha256 differs), so its figures will not compare with the book's (2 messages: 1 ham, "
        '1 spam; 63 bytes, sha256 {})'.format(tmp_path / 'text_data.txt', TINY_SHA256))


@pytest.mark.parametrize('make, what', [
    (lambda path: path.write_bytes(b'spam\tok\nham\n'),
     '{}: line 2 has no tab between its label and its text'),
    (lambda path: path.write_bytes(b'\xfe'), '{}: line 1 is not UTF-8 text (byte 0xfe)'),
    (lambda path: path.write_bytes(b''), '{}: it is empty'),
    (os.mkdir, '{} is a folder, not a file'),
    (_pipe, '{} is a named pipe, not a file'),
    (lambda path: path.symlink_to(spam_data.SHIPPED_COPY), '{} is a symbolic link, not a file'),
])
def test_damaged_cache_is_refused_in_one_line(tmp_path, monkeypatch, make, what):
    monkeypatch.setattr(spam_data, 'download_collection', no_download)
    cache = tmp_path / 'text_data.txt'
    make(cache)
    with pytest.raises(errors.CorpusError) as err:
        spam_data.load_spam_data(tmp_path)
    assert str(err.value) == (what.format(cache) + '. The data cache is damaged: delete {} to '
                              'fetch the data again.'.format(cache))


# ------------------------------------------------------------------ the download itself

class FakeResponse:
    def __init__(self, pieces=(b'PK',), status=200):
        self.pieces, self.status_code = pieces, status

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def raise_for_status(self):
        import requests
        if self.status_code != 200:
            raise requests.HTTPError('error', response=self)

    def iter_content(self, size):
        return iter(self.pieces)


def test_download_uses_requests_with_a_timeout(monkeypatch):
    import requests
    seen = {}

    def fake_get(url, **kwargs):
        seen.update(kwargs, url=url)
        return FakeResponse([b'PK\x03', b'\x04zip'])
    monkeypatch.setattr(requests, 'get', fake_get)
    assert spam_data.download_collection('http://example.invalid/x.zip', 7) == b'PK\x03\x04zip'
    assert seen == {'url': 'http://example.invalid/x.zip', 'timeout': 7, 'stream': True}


@pytest.mark.parametrize('get, message', [
    (lambda: FakeResponse(status=404), 'archive.ics.uci.edu answered HTTP 404'),
    (lambda: FakeResponse([b'x' * 6, b'x' * 6]),
     'archive.ics.uci.edu sent more than 10 bytes, which is no zip of text messages'),
    ('ConnectionError', 'could not connect to archive.ics.uci.edu'),
    ('ReadTimeout', 'no answer from archive.ics.uci.edu within 30 s'),
    ('TooManyRedirects', 'TooManyRedirects: loop'),
])
def test_download_failure_is_one_short_line(monkeypatch, get, message):
    import requests

    def fake_get(url, **kwargs):
        if isinstance(get, str):
            raise getattr(requests, get)('loop')
        return get()
    monkeypatch.setattr(requests, 'get', fake_get)
    with pytest.raises(OSError) as err:
        spam_data.download_collection(limit=10)
    assert str(err.value) == message


# ------------------------------------------------------------------ the book's steps

def test_text_data_is_the_books_steps():
    data = (b'ham\tOk lar... Joking wif u oni...\n'
            b'\n'
            b'spam\tFree entry in 2 a wkly comp to win FA Cup final tkts 21st May 2005.\n'
            b'ham\tCaf\xc3\xa9 \xc2\xa3100 now_please!\n')
    labels, texts = spam_data.text_data(data)
    assert labels == ['ham', 'spam', 'ham']
    assert texts == ['Ok lar... Joking wif u oni...',
                     'Free entry in 2 a wkly comp to win FA Cup final tkts 21st May 2005.',
                     'Caf 100 now_please!']
    assert [spam_data.clean_text(t) for t in texts] == [
        'ok lar joking wif u oni',
        'free entry in a wkly comp to win fa cup final tkts st may',
        'caf nowplease']


def test_clean_text_collapses_whitespace_and_lowers():
    assert spam_data.clean_text('  U dun SAY so\tearly hor... U c already\r\n') == (
        'u dun say so early hor u c already')
    assert spam_data.clean_text('$$$ 12 -- ?!') == ''
