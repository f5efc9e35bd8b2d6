"""How the sampling model chooses each next token, and text in long unrolls.

lstm_model.LSTM_Model's sampling model (infer_sample=True) feeds each step's
choice back as the next input through its loop function. The book chooses
the most probable token (model_parts.greedy); `chooser` gives the other ways,
to plug in as `choose`:

    LSTM_Model(..., infer_sample=True, training_seq_len=100,
               choose=sampling.chooser('topk', 0.8, 5, vocab_size))

and prime_state / generate drive such a model: text in one session call per
unroll instead of one per token (tools/sample_shakespeare.py). Like
lstm_model, this module only builds and runs graphs; it reads no files.
"""
import numpy as np

from cookbook_lstm import tf1_setup
from cookbook_lstm.model_parts import greedy
from cookbook_lstm.shakespeare_data import drawable, tokens

tf = tf1_setup.import_tensorflow()

STRATEGIES = ('greedy', 'weighted', 'topk')
FLOAT32_TINY = float(np.finfo(np.float32).tiny)  # 1.2e-38


def chooser(strategy, temperature=1.0, top_k=None, vocab_size=None, ix2vocab=None):
    """A function from logits [batch, vocab] to chosen indices [batch].

    strategy: 'greedy' (the book: the most probable; temperature ignored),
    'weighted' (drawn from the softmax of logits / temperature) or 'topk'
    (the same, among the top_k most probable only). A draw never takes index
    0, 'unknown': it stands for every rare word (words) or for nothing in the
    text (characters); nor, given the vocabulary ix2vocab, an index that
    names no token (the book's word vocabulary has one class more than its
    words: docs/errata.md). Greedy keeps the book's rule instead: index 0
    ends the text.
    """
    if strategy not in STRATEGIES:
        raise ValueError('strategy must be one of {}, not {!r}.'.format(
            ', '.join(STRATEGIES), strategy))
    if not temperature > 0:
        raise ValueError('temperature must be above 0, not {}.'.format(temperature))
    if strategy == 'greedy':
        return greedy
    can_take = drawable(ix2vocab, vocab_size) if ix2vocab is not None else \
        list(range(1, vocab_size))
    if strategy == 'topk' and not (top_k and 1 <= top_k <= len(can_take)):
        raise ValueError('top_k must be between 1 and the number of tokens a draw can take '
                         "('unknown' and indices naming no token are never drawn), {}, not "
                         '{}.'.format(len(can_take), top_k))
    not_unknown = np.full(vocab_size, -np.inf, dtype=np.float32)
    not_unknown[can_take] = 0

    def choose(logits):
        shifted = logits + not_unknown
        if strategy == 'topk':
            # The top k chosen from the logits, before the division: at a huge
            # temperature the divided ones are all equal in float32, and a top k
            # taken from them would keep every index
            kth_largest = tf.math.top_k(shifted, top_k).values[:, -1:]   # [batch, 1]
            shifted = tf.where(shifted < kth_largest,
                               tf.fill(tf.shape(shifted), -np.inf), shifted)
        # The largest logit made 0 before the division, so that none overflows; a
        # temperature below float32's smallest normal number would be read as 0
        # (the CPU flushes it), so that number stands in for it: a greedy draw.
        # The dropped ones are -inf, and stay -inf
        scaled = (shifted - tf.reduce_max(shifted, axis=1, keepdims=True)) / max(
            temperature, FLOAT32_TINY)
        return tf.random.categorical(scaled, 1, dtype=tf.int64)[:, 0]
    return choose


def prime_state(model, sess, prime_ix):
    """The state after feeding all but the last of prime_ix, one index a call.

    model: the sampling model unrolled one step (batch_size=1,
    training_seq_len=1). Returns its state, as model.final_state.
    """
    state = sess.run(model.initial_state)
    x = np.zeros((1, 1), dtype=np.int32)
    for ix in prime_ix[:-1]:
        x[0, 0] = ix
        state = sess.run(model.final_state,
                         feed_dict={model.x_data: x, model.initial_state: state})
    return state


def generate(model, sess, state, last_ix):
    """N indices chosen after last_ix from state, in one session call.

    model: the sampling model unrolled N steps (batch_size=1,
    training_seq_len=N). Returns (indices, state): a 1D array of N indices,
    stopping nowhere (index 0 included), and the state to go on from:
    generate(model, sess, state, indices[-1]) continues the text as one
    longer unroll would.
    """
    x = np.zeros((1, model.training_seq_len), dtype=np.int32)
    x[0, 0] = last_ix
    generated, final_state = sess.run(
        [model.generated, model.final_state],
        feed_dict={model.x_data: x, model.initial_state: state})
    return generated[0], final_state


def continued(step_model, generator, sess, ix2vocab, vocab2ix, prime_text,
              char_level=False):
    """prime_text and the generator.training_seq_len tokens it chooses after it.

    step_model: the sampling model unrolled one step, to feed the prime text
    (prime_state); generator: one built with a chooser (generate). Every
    prime token must be in the vocabulary. Returns the text, tokens joined
    by spaces (words) or nothing (characters).
    """
    prime_ix = [vocab2ix[t] for t in tokens(prime_text, char_level)]
    chosen, _ = generate(generator, sess, prime_state(step_model, sess, prime_ix), prime_ix[-1])
    separator = '' if char_level else ' '
    return prime_text + ''.join(separator + ix2vocab.get(int(ix), 'unknown') for ix in chosen)


def drawn(step_model, sess, ix2vocab, vocab2ix, prime_text, num, choose, char_level=False):
    """prime_text and num tokens drawn after it by choose, one session call a token.

    step_model: the sampling model unrolled one step (the one a training
    script prints its greedy samples with); choose: one of chooser's. The
    choice is built once on the step model's logits, a few ops beside the
    graph: a finished run draws its continuation with the weights it has,
    in its own session. Every prime token must be in the vocabulary.
    """
    choice = choose(step_model.logit_output)   # [1]
    prime_ix = [vocab2ix[t] for t in tokens(prime_text, char_level)]
    state = prime_state(step_model, sess, prime_ix)
    x = np.array([[prime_ix[-1]]], dtype=np.int32)
    chosen = []
    for _ in range(num):
        ix, state = sess.run([choice, step_model.final_state],
                             feed_dict={step_model.x_data: x, step_model.initial_state: state})
        chosen.append(int(ix[0]))
        x[0, 0] = chosen[-1]
    separator = '' if char_level else ' '
    return prime_text + ''.join(separator + ix2vocab.get(ix, 'unknown') for ix in chosen)


def words_of(text, known):
    """The words of text (a generated continuation, say) that are words of the
    training text, known (a set): a character model has to spell them."""
    return [w for w in text.split() if w in known]
