"""A run's vocabulary on disk: vocab.json, which the project reads, and the
book's vocab.pkl, which it writes for the book's readers and never unpickles
unless asked.

A folder may come from a stranger, so vocab.pkl is opened only with
read_vocab(allow_pickle=True) (the tools' --read-vocab-pkl), and then by an
unpickler that builds nothing but dicts, lists, strings and numbers, after
its opcodes are read (pickletools, which runs nothing).
"""
import io
import pickle
import pickletools
from pathlib import Path

from cookbook_lstm import run_folder
from cookbook_lstm.errors import RunError
from cookbook_lstm.run_folder import BOOK_VOCAB_FILE, VOCAB_FILE
from cookbook_lstm.safe_files import check_kind, depth, read_bytes, read_json


def write_vocab(run_dir, vocab2ix, ix2vocab):
    """vocab.json, which this project reads, and the book's vocab.pkl."""
    run_folder.write_json_file(run_dir, VOCAB_FILE, {'format': 1, 'vocab2ix': vocab2ix})
    # As the book saves it; never read back unless asked (read_vocab)
    run_folder.write_file(run_dir, BOOK_VOCAB_FILE, pickle.dumps([vocab2ix, ix2vocab], protocol=4))


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


def _check_vocab(vocab2ix, path, zero='unknown'):
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
    if len(set(vocab2ix.values())) != len(vocab2ix) or (
            0 in vocab2ix.values() if zero is None else vocab2ix.get(zero) != 0):
        raise RunError("{}: the vocabulary gives two tokens one index, or {}, as the recipe "
                       'writes it. The folder is damaged; use a run folder a recipe '
                       'wrote.'.format(path, 'gives a token the padding\'s index 0'
                                       if zero is None else 'has no {!r} at 0'.format(zero)))
    ix2vocab = {ix: token for token, ix in vocab2ix.items()}
    return vocab2ix, ix2vocab


def read_vocab(run_dir, allow_pickle=False, zero='unknown'):
    """(vocab2ix, ix2vocab) from vocab.json; RunError naming the file if unusable.

    allow_pickle: with no vocab.json (a folder from before it existed), read
    the book's vocab.pkl with an unpickler that builds only plain data.
    zero: the token at index 0 ('unknown', the language models'; '<UNK>',
    recipe 02's), or None where index 0 is no token, the padding (recipe 06).
    """
    run_dir = Path(run_dir)
    path = run_dir / VOCAB_FILE
    if check_kind(path) is not None:
        content = read_json(path)
        if not isinstance(content, dict) or 'vocab2ix' not in content:
            raise RunError('{}: no "vocab2ix" in it. The folder is damaged; use a run '
                           'folder a recipe wrote.'.format(path))
        return _check_vocab(content['vocab2ix'], path, zero)
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
    if depth(content) > 3:  # [vocab2ix, ix2vocab]: a list of two dicts of names
        raise RunError('{} nests deeper than the book\'s [vocab2ix, ix2vocab]. The folder '
                       'is damaged; use a run folder a recipe wrote.'.format(book))
    if not (isinstance(content, (list, tuple)) and len(content) == 2):
        raise RunError('{}: not the book\'s [vocab2ix, ix2vocab]. The folder is damaged; '
                       'use a run folder a recipe wrote.'.format(book))
    return _check_vocab(content[0], book)

