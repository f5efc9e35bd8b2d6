"""TensorFlow 2 set up to run the book's TF1 code, imported quietly; seeded runs.

Every module of this project that needs TensorFlow gets it from here, so that
two things happen before TensorFlow is first imported:

- TF_USE_LEGACY_KERAS=1: the legacy cells (tf.compat.v1.nn.rnn_cell.*) need
  Keras 2, the tf-keras package. TensorFlow caches its Keras choice the first
  time anything touches tf.keras, so setting it later has no effect.
- Quiet start-up: TensorFlow's native libraries write their start-up notices
  (oneDNN, CPU instructions and, on a machine with no GPU, "failed call to
  cuInit ... (303)", which reads like a failure) straight to the process's
  standard error, twice, before any Python logging is set up. They are held
  back while TensorFlow loads and looks for devices, and shown only if that
  fails; verbose=True lets them through. Later errors still reach the user,
  as Python exceptions.
"""
import os
import random
import sys
import tempfile
import warnings

os.environ['TF_USE_LEGACY_KERAS'] = '1'


def import_tensorflow(verbose=False):
    """TensorFlow, with Keras 2 and, unless verbose, without its start-up notices,
    its INFO and WARNING logs and the deprecation notice of every legacy TF1 call.

    Returns the tensorflow module; once imported, at once (the first call decides).
    """
    if 'tensorflow' in sys.modules:
        import tensorflow as tf
        return tf
    # the informational lines TensorFlow prints later, at the first session call
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '0' if verbose else '2')
    if verbose:
        import tensorflow as tf
        return tf
    tf = _import_quietly()
    tf.get_logger().setLevel('ERROR')
    warnings.filterwarnings('ignore', category=UserWarning,
                            message='.*is deprecated and will be removed')
    return tf


def _import_quietly():
    with tempfile.TemporaryFile() as held:
        sys.stderr.flush()
        real_stderr = os.dup(2)
        os.dup2(held.fileno(), 2)
        try:
            import tensorflow as tf
            tf.config.list_physical_devices()  # where cuInit runs, and fails without a GPU
        except Exception:  # not Ctrl-C: that needs no explaining
            os.dup2(real_stderr, 2)
            held.seek(0)  # what TensorFlow said helps explain the failure
            sys.stderr.write(held.read().decode('utf-8', 'replace'))
            raise
        finally:
            os.dup2(real_stderr, 2)
            os.close(real_stderr)
    return tf


def seed_everything(seed):
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic.

    Without a seed one is drawn, so that every run can be repeated with
    --seed. Returns the seed. TensorFlow's graph-level seed is set again with
    each new graph (tf1.set_random_seed) by the recipe.
    """
    import numpy as np
    if seed is None:
        seed = random.SystemRandom().randrange(2 ** 31)
    random.seed(seed)
    np.random.seed(seed)
    import_tensorflow().config.experimental.enable_op_determinism()
    return seed


def count_parameters(variables):
    """The number of weights in variables (tf.compat.v1.trainable_variables())."""
    total = 0
    for variable in variables:
        size = 1
        for dimension in variable.shape.as_list():
            size *= dimension
        total += size
    return total
