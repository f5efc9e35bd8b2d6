"""Where a recipe's run stands in the book's loop, and when it stops.

run.Run is what every recipe runs on: the flags, TensorFlow in graph mode,
the seed, the run folder (locked, --overwrite), config.json, the record
(record.json) and the figure. TrainingRun adds, for the book's recipes, where
the run stands in the book's loop and when it stops. The two language
models:

    config, run = TrainingRun.open(RECIPE, Config, TINY, __doc__, argv)
    ...                                   # the book's data and vocabulary
    run.check_data(source, vocab2ix, ix2vocab, char_level)
    ...                                   # the book's models, saver, batches, session
    run.begin(sess, saver, lstm_model, num_batches, test_lstm_model, valid_batches)
    for epoch, epoch_batches in run.epochs(batches):
        ...
        for iteration_count, ix, (batch, target) in epoch_batches:
            ...                           # the book's training step
            run.log_step(temp_loss, state)
            ...
            run.save(iteration_count)     # complete when it returns
            ...                           # the book's samples: run.log_sample
    exit_status = run.finish()

Recipe 06, the book's one loop of new batches, each batch's accuracy beside
its loss, and its matches recorded as samples:

    run.check_data(source, vocab2ix_dict, ix2vocab, char_level=True)
    run.begin(sess, saver, None, n_batches, None, shape={...})
    for b in run.batches():
        ...                               # the book's training step
        run.log_step(train_loss, None, accuracy=train_acc)
        if (b + 1) % save_every == 0: run.save(b + 1)
    run.log_sample(run.iteration, query, best_fit)   # each query's match
    exit_status = run.finish()

A record's status says how the run ended: 'running' (read back as 'killed'
once no process holds the folder), 'finished', 'interrupted' (Ctrl-C, SIGTERM
or the output closed), 'diverged' (a loss or a weight not finite), 'disk
full', or 'failed' (an error; the classifier's runs).

Elsewhere: the flags, command_line; what a checkpoint is, checkpoints;
what the record holds, record; opening a folder again, resuming; what a
folder holds and who may write it, run_folder; TensorBoard's event file,
tensorboard_log.
"""
import dataclasses
import io
import math
import os
import random
import shlex
import signal
import sys
import time
import weakref
from pathlib import Path

from cookbook_lstm import checkpoints
from cookbook_lstm import record
from cookbook_lstm import resuming
from cookbook_lstm import shakespeare_data
from cookbook_lstm import settings
from cookbook_lstm.errors import DiskFull, NotFinite, NothingToDo, Refused, RunError
from cookbook_lstm.run_folder import RECORD_FILE
from cookbook_lstm.run import Run
from cookbook_lstm.vocab_files import write_vocab
from cookbook_lstm.settings import PROJECT_DIR
from cookbook_lstm.tf1_setup import count_parameters


class _OutputGuard:
    """sys.stdout from a run's first line to its end. A reader of the output
    that goes away (`| head`) closes the pipe: then the run stops as on
    Ctrl-C, after the iteration, saved (on_closed), and what it would print
    goes nowhere."""

    def __init__(self, stream):
        self.stream, self.closed = stream, False
        self.on_closed = None  # weakref.WeakMethod of the run's: no cycle keeps the run

    def write(self, text):
        if not self.closed:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._close()
        return len(text)

    def flush(self):
        if not self.closed:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._close()

    def _close(self):
        self.closed = True
        try:  # what is still buffered, and any later flush, go nowhere
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
        callback = self.on_closed() if self.on_closed is not None else None
        if callback is not None:
            callback()

    def __getattr__(self, name):
        return getattr(self.stream, name)


def as_typed(script):
    """A project script (its path inside the project) as a command line names it:
    relative where the user stands inside the project, else whole."""
    path = PROJECT_DIR / script
    return (path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path).as_posix()


def command_line(script, *args):
    """`python SCRIPT ARGS...` as a user copies it into a shell: the project
    script as typed (as_typed), each part quoted where a shell would split or
    read it (a run folder named 'a b', or with a quote or a $)."""
    return shlex.join(['python', as_typed(script)] + [str(a) for a in args])


class TrainingRun(Run):
    """Where a recipe's run stands in the book's loop, its record, when it stops.

    It keeps the iteration, epoch and batch, the epoch's batch order and the
    LSTM state; the record (one row per iteration, the samples, the held-out
    losses); and stops cleanly on Ctrl-C, at --max-steps, on a loss or a
    weight that is not finite and on a full disk. Everything before begin()
    only reads, so a refused run leaves its folder as it was.
    """

    def __init__(self, recipe, run_dir, config, options, resumed=None):
        super().__init__(recipe, run_dir, config, options, resumed)
        self.settings = None  # config.json: the config and what the run found
        self.source = self.vocab2ix = self.ix2vocab = self.level = None
        self.sess = self.checkpoints = self.events = self.model = self.sampling_model = None
        self._rate = None  # (epoch, the learning rate the graph works out for it)
        self.num_batches = None
        # Where the run stands: the next batch to train is batch `batch` of
        # epoch `epoch` (both from 0) in the shuffled `order`
        self.iteration, self.epoch, self.batch = 0, 0, 0
        self.order = []
        self._epoch_start = False  # recipe 02: its examples not yet shuffled this epoch
        self._examples = False  # recipe 02: the order kept is its examples', not the batches'
        self._at = None  # (iteration, epoch, batch) being trained
        self.lstm_state = None  # after the last batch trained, flattened
        self._state = None  # the same, as the last session call returned it
        self.train_loss = []
        self.train_accuracy = []  # recipe 06's, beside its losses
        self.rows, self.samples, self.resumptions = [], [], []
        self.held_out = []  # after each whole epoch (--valid-fraction): its loss
        self.interrupted = False  # Ctrl-C, SIGTERM or a closed output: stop after this iteration
        self.output_closed = False
        self.ending_only = False  # a resumed run with only its ending left to do
        self._guard = None
        self.diverged = None  # what stopped the run, as a sentence
        self.set_aside = None  # a checkpoint whose weights gave the first bad loss
        self.disk_full = None  # what could not be saved, as a sentence
        self._elapsed_before = 0.0
        self._printed_samples = False  # has this command printed samples (a resumed run may not)
        self._started = None

    @classmethod
    def open(cls, *args, **kwargs):
        """Run.open, with the output watched from the first line it prints: a reader
        that goes away (| head) stops the run as Ctrl-C does (_OutputGuard)."""
        guard = sys.stdout = _OutputGuard(sys.stdout)
        try:
            config, run = super().open(*args, **kwargs)
        except BaseException:
            sys.stdout = guard.stream
            raise
        run._guard, guard.on_closed = guard, weakref.WeakMethod(run._output_closed)
        if guard.closed:  # already, while the settings were read
            run._output_closed()
        return config, run

    @staticmethod
    def check_settings(recipe, config):
        message = settings.check_together(recipe, config)
        if message:
            raise Refused(message)

    def check_data(self, source, vocab2ix, ix2vocab, char_level):
        """Keep the text's description and the vocabulary; refuse what cannot train.

        --resume: the text and vocabulary must be the run's. The book's prime
        texts must be in the vocabulary, for the samples printed as it trains.
        """
        if self._resumed is not None:
            self._resumed.check_data(source, vocab2ix, self.config)
        shakespeare_data.check_prime_texts(getattr(self.config, 'prime_texts', ()), vocab2ix,
                                           char_level)
        self.source, self.vocab2ix, self.ix2vocab = source, vocab2ix, ix2vocab
        self.level = 'char' if char_level else 'word'

    def begin(self, sess, saver, model, num_batches, sampling_model, valid_batches=(),
              shape=None, order_length=None):
        """Print the settings, restore a resumed run, then take the folder.

        model is the training model: its shape and parameter count go into
        config.json beside the settings. --resume restores the weights,
        Adam's slots, the position, the random states and the losses (reading
        only). Then the folder (take_folder) and, for a new run, the
        vocabulary (vocab.json, and the book's vocab.pkl). A resumed run then
        prints what the book printed right after the save it goes on from, if
        a kill cut it off before the record held it (sampling_model, the
        samples; valid_batches, the held-out loss). shape: what config.json
        records of the model beside the settings, for a model other than
        LSTM_Model (recipe 06, whose model and sampling_model are None).
        order_length: how many things the run keeps the order of, for --resume:
        None, the batches (shuffled each epoch); recipe 02 its training messages
        (shuffle_examples); recipe 06 nothing, 0 (each batch is new).
        """
        import tensorflow as tf
        self.sess, self.model, self.num_batches = sess, model, num_batches
        self.sampling_model = sampling_model
        self._examples = order_length is not None
        self.order = list(range(num_batches if order_length is None else order_length))
        num_parameters = count_parameters(tf.compat.v1.trainable_variables())
        print('Trainable parameters = {:,}'.format(num_parameters))
        self.checkpoints = checkpoints.Checkpoints(self.run_dir, sess, saver)
        run_settings = dataclasses.asdict(self.config)
        if 'prime_texts' in run_settings:
            run_settings['prime_texts'] = list(self.config.prime_texts)
        if shape is None:
            shape = dict(num_layers=model.num_layers, separate_layers=model.separate_layers,
                         embedding_size=model.embedding_size, vocab_size=model.vocab_size)
        run_settings.update(shape)
        run_settings.update(
            recipe=self.recipe, level=self.level, num_batches=num_batches,
            trainable_parameters=num_parameters, corpus=self.source,
            tensorflow=tf.__version__)
        self.settings = dict(sorted(run_settings.items()))
        print('Configuration:')
        for key, value in self.settings.items():
            if key != 'corpus':  # printed as the text source
                print('  {} = {}{}'.format(key, value, "  (the status lines say 'out of {}', "
                                           "one more, as the book prints)".format(value + 1)
                                           if key == 'num_batches' and model is not None
                                           else ''))
        epochs = getattr(self.config, 'epochs', 1)
        if self.config.max_steps and self.config.max_steps < epochs * num_batches:
            # the book's status lines count the whole run's epochs and batches
            epoch, batch = divmod(self.config.max_steps - 1, num_batches)
            print('Note: --max-steps {} stops this run at iteration {}, in epoch {} of {} '
                  '(batch {} of {}); the lines below count as the whole run would.'.format(
                      self.config.max_steps, self.config.max_steps, epoch + 1, epochs,
                      batch + 1, num_batches))
        if self._resumed is not None:
            self._go_on_from(self._resumed, saver, () if model is None else model.initial_state)
        self.take_folder(self.settings)
        if self._resumed is None:
            with self.first_writes():
                write_vocab(self.run_dir, self.vocab2ix, self.ix2vocab)
        if getattr(self.config, 'tensorboard', False):  # (recipe 06 has none)
            from cookbook_lstm.tensorboard_log import EventLog
            self.events = EventLog(self.run_dir, sess.graph, resumed_at=(
                self.iteration if self._resumed is not None else None))
        if self._resumed is not None:
            self._after_the_save(model, sampling_model, valid_batches)

    def _go_on_from(self, resumed, saver, initial_state):
        try:
            where = resuming.where_it_stood(self.sess, saver, resumed, self.config,
                                            self.num_batches, initial_state, len(self.order))
        except NothingToDo:
            resumed.lock.release(remove=True)
            raise
        except RunError as err:  # refused before any write: the folder as it was
            resumed.lock.release(remove=True)
            raise Refused('Cannot resume: {}'.format(err)) from None
        self.iteration, self.epoch, self.batch = where['iteration'], where['epoch'], where['batch']
        self.order[:] = where['order']
        self.lstm_state = where['lstm_state']
        self.rows, self.samples = where['rows'], where['samples']
        self.held_out, self.resumptions = where['held_out'], where['resumptions']
        self.train_loss[:] = [r[3] for r in self.rows]
        self.train_accuracy[:] = [r[5] for r in self.rows if len(r) > 5]
        if self.rows:
            self._elapsed_before = self.rows[-1][4]
        self.checkpoints.kept = where['kept']
        # what a save cut short left: temporaries, later checkpoints of the run,
        # and old ones its removal did not reach
        left = checkpoints.remove_unfinished(self.run_dir, self.iteration)
        left += self.checkpoints.remove_beyond_keep()
        if left:
            print('Removed what an interrupted save left: {}'.format(', '.join(left)),
                  file=sys.stderr)
        changed = resumed.changed
        if where['ending_only']:
            self.ending_only = True
            print('Completing {}: {}.'.format(self.run_dir, where['ending_only']))
            return
        print('Resuming {} at iteration {} (epoch {}, batch {}){}.'.format(
            self.run_dir, self.iteration + 1, self.epoch + 1, self.batch + 1,
            ''.join('; {} {} -> {}'.format(k, a, b) for k, (a, b) in sorted(changed.items()))))

    def _after_the_save(self, model, sampling_model, valid_batches):
        """What the book prints right after the save resumed from, if missing.

        A checkpoint is complete when its save returns, and the book prints
        its samples (and this project a held-out loss at an epoch's end) just
        after: the record holds them from the next save on. A run killed in
        between is resumed from that checkpoint without them; they are made
        again here from its weights (greedy samples and the held-out loss
        draw nothing at random), the same as the run printed them:
        sample()'s defaults are the book's (10 tokens on).
        """
        iteration = self.iteration
        eval_every = self._resumed.config.get('eval_every')  # the run's, when it saved
        if isinstance(eval_every, int) and eval_every > 0 and iteration % eval_every == 0 \
                and not any(s['iteration'] == iteration for s in self.samples):
            for prime_text in self.config.prime_texts:
                text = sampling_model.sample(self.sess, self.ix2vocab, self.vocab2ix,
                                             prime_text=prime_text,
                                             char_level=self.level == 'char')
                print(text)
                self.log_sample(iteration, prime_text, text)
        if valid_batches and self.batch == 0 and self.epoch > 0 \
                and not any(h['epoch'] == self.epoch for h in self.held_out):
            self.log_held_out(self.epoch - 1, self.held_out_loss(model, valid_batches))

    # -- the book's two loops

    def epochs(self, batches, shuffle=True):
        """The book's epochs, each as (epoch, its batches in training order).

        From where a resumed run stood; none after --max-steps, Ctrl-C, a
        loss that is not finite or a full disk. A new epoch's batches are
        shuffled as the book's random.shuffle(batches) shuffles them: the
        same permutation, drawn on their order, which --resume restores.
        Each epoch's batches come as (iteration_count, ix, batch), where
        batch is what batches[...] holds. shuffle=False: the batches in their
        order, the recipe shuffling its examples (recipe 02: shuffle_examples).
        """
        self._start()
        for epoch in range(self.epoch, self.config.epochs):
            if self._done():
                return
            first = self.batch if epoch == self.epoch else 0
            self._epoch_start = first == 0
            if first == 0 and shuffle:
                random.shuffle(self.order)
            yield epoch, self._batches(batches, epoch, first)

    def batches(self):
        """The book's `for b in range(n_batches)` of recipe 06, one pass of
        num_batches batches, each new: b from where a resumed run stood; none
        after --max-steps, Ctrl-C, a loss that is not finite or a full disk."""
        self._start()
        # where the run stands is its iteration: --n-batches may grow on --resume
        for _, ix, _ in self._batches(range(self.num_batches), 0, self.iteration):
            yield ix

    def shuffle_examples(self):
        """Recipe 02's shuffle: at an epoch's start, the book's
        np.random.permutation of the training examples, applied to the order
        they stood in (the book shuffles x_train in place, epoch after epoch).
        Returns that order, indices into the examples as first split: where a
        resumed run stands in an epoch, the order it stood in."""
        import numpy as np
        if self._epoch_start:
            shuffled_ix = np.random.permutation(np.arange(len(self.order)))
            self.order[:] = [self.order[i] for i in shuffled_ix]
            self._epoch_start = False
        return np.array(self.order, dtype=np.int64)

    def _start(self):
        self._started = time.monotonic()
        # From here on Ctrl-C (or SIGTERM), or the output closed, stops after the
        # current iteration
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)

    def _batches(self, batches, epoch, first):
        for ix in range(first, self.num_batches):
            if self._done():
                return
            self._at = (self.iteration + 1, epoch, ix)
            # the batches in the order kept (recipe 02: in their order, its examples kept)
            yield self.iteration + 1, ix, batches[ix if self._examples else self.order[ix]]

    def _done(self):
        max_steps = self.config.max_steps
        return self.stopping or bool(max_steps and self.iteration >= max_steps)

    def epoch_state(self, initial_state):
        """The LSTM state an epoch starts from: initial_state, the book's zero state.

        A run resumed inside an epoch goes on from the state it stopped with.
        """
        if self._at is None and self.batch > 0:  # nothing trained yet, mid-epoch
            import tensorflow as tf
            return tf.nest.pack_sequence_as(initial_state, self.lstm_state)
        return initial_state

    def epoch_complete(self, epoch):
        """True once every batch of epoch (from 0) has trained, and nothing went wrong."""
        return self.epoch > epoch and self.diverged is None

    def held_out_loss(self, model, batches):
        """The training model's mean loss per token over the held-out batches.

        Each batch (inputs and targets [batch_size, training_seq_len], whole and
        in the text's order) from the zero state, so that the number depends on
        the weights alone, not on the batch trained last; with every unit kept
        (--dropout) and no training step. exp of it is the perplexity.
        """
        import numpy as np
        feed = {} if model.keep_prob is None else {model.keep_prob: 1.0}
        losses = [self.sess.run(model.cost, feed_dict={model.x_data: x, model.y_output: y,
                                                       **feed})
                  for x, y in batches]
        return float(np.mean(losses))

    def log_held_out(self, epoch, loss):
        """Record and print the held-out loss after epoch (from 0), and its perplexity.

        A diverging run's loss past 709.8 makes a perplexity beyond float64 (inf,
        recorded null); a loss that is not finite stops the run, as in training.
        """
        loss = float(loss)
        try:
            perplexity = math.exp(loss)  # nan stays nan
        except OverflowError:
            perplexity = math.inf
        print('Epoch: {}, Held-out Loss: {:.2f}, Perplexity: {:.1f}'.format(
            epoch + 1, loss, perplexity))
        self.held_out.append({'epoch': epoch + 1, 'iteration': self.iteration,
                              'loss': record.finite_or_none(loss),
                              'perplexity': record.finite_or_none(perplexity)})
        if not math.isfinite(loss):
            self.diverged = 'the held-out loss is {} after epoch {}'.format(loss, epoch + 1)
        if self.events is not None:
            self.events.scalars(self.iteration, {'loss/held_out': loss,
                                                 'perplexity/held_out': perplexity})

    def log_evaluation(self, epoch, test_loss, test_accuracy, train_loss, train_accuracy):
        """Record recipe 02's evaluation after epoch (from 0): the test set's loss
        and accuracy, and the last batch's (the book's training figures), in the
        record's held_out list. A test loss that is not finite stops the run."""
        test_loss = float(test_loss)
        self.held_out.append({
            'epoch': epoch + 1, 'iteration': self.iteration,
            'loss': record.finite_or_none(test_loss), 'perplexity': None,
            'accuracy': float(test_accuracy),
            'train_loss': record.finite_or_none(train_loss),
            'train_accuracy': float(train_accuracy)})
        if not math.isfinite(test_loss):
            self.diverged = 'the test loss is {} after epoch {}'.format(test_loss, epoch + 1)

    # -- during training

    def _request_stop(self, signum, frame):
        if self.interrupted:  # a second Ctrl-C: stop at once, saving nothing
            raise KeyboardInterrupt
        self.interrupted = True
        # os.write: print() here could re-enter a print the loop was making
        os.write(2, b'\nStopping after this iteration to save it (Ctrl-C again stops '
                    b'at once, saving nothing).\n')

    def _output_closed(self):
        self.interrupted = self.output_closed = True

    @property
    def stopping(self):
        """True once the run must stop: Ctrl-C, a loss that is not finite, a full disk."""
        return self.interrupted or self.diverged is not None or self.disk_full is not None

    def elapsed(self):
        return self._elapsed_before + (time.monotonic() - self._started)

    def log_step(self, loss, state, accuracy=None):
        """Record the loss of the iteration just trained, and the LSTM state after it
        (recipe 06: None, and the batch's accuracy).

        A loss that is not finite stops the run, and sets aside a checkpoint
        saved just before, since its weights gave that loss.
        """
        iteration, epoch, ix = self._at
        loss = float(loss)
        self.rows.append([iteration, epoch + 1, ix + 1, record.finite_or_none(loss),
                          round(self.elapsed(), 3)] + ([] if accuracy is None else [
                              round(float(accuracy), 6)]))
        if not math.isfinite(loss):
            self.diverged = 'the loss is {} at iteration {} (epoch {}, batch {})'.format(
                loss, iteration, epoch + 1, ix + 1)
            if self.checkpoints.last == iteration - 1:
                # That checkpoint holds the weights that gave this loss
                self.set_aside = self.checkpoints.set_aside(iteration - 1)
            return
        self.iteration = iteration
        if self.events is not None:
            if self._rate is None or self._rate[0] != epoch:  # the graph's, once an epoch
                self._rate = epoch, self.sess.run(self.model.lr, {self.model.epoch: epoch})
            self.events.scalars(iteration, {'loss/train': loss, 'learning_rate': self._rate[1]})
        self.epoch, self.batch = (epoch, ix + 1) if ix + 1 < self.num_batches else (epoch + 1, 0)
        self._state = state  # fresh arrays from sess.run; flattened only when saved

    def log_sample(self, iteration, prime_text, text):
        """Record a sample (recipe 06: a query and its match) at iteration; one a
        prime text an iteration, the last made."""
        if self.diverged is not None:
            return
        self.samples[:] = [s for s in self.samples
                           if (s['iteration'], s['prime']) != (iteration, prime_text)]
        self.samples.append({'iteration': iteration, 'prime': prime_text, 'text': text})
        self._printed_samples = True  # by this command, above its last lines

    def save(self, iteration):
        """The book's save: checkpoint model-<iteration>, complete when this returns.

        What is saved and in which order: checkpoints.Checkpoints.save. A
        loss or weights that are not finite are not saved, and a full disk
        stops the run: the last checkpoint stays the last good one. Returns
        True when saved.
        """
        if self.diverged is not None or self.disk_full is not None:
            return False
        if self._state is not None:
            import tensorflow as tf
            self.lstm_state = tf.nest.flatten(self._state)
        position = {'iteration': self.iteration, 'epoch': self.epoch, 'batch': self.batch,
                    'order': list(self.order)}
        try:
            self.checkpoints.save(iteration, self.record(**self._record('running', iteration)),
                                  position, self.lstm_state or [])
        except NotFinite as err:
            self.diverged = str(err)
            return False
        except DiskFull as err:
            self.disk_full = str(err)
            return False
        print('Model Saved To: {}'.format(self.run_dir / 'model'))
        if self.events is not None:
            self.events.flush()
        return True

    def _record(self, status, last_checkpoint):
        """Run.record's arguments: this run's record."""
        return dict(status=status, run_settings=self.settings,
                    corpus=self.settings.get('corpus'), last_checkpoint=last_checkpoint,
                    stopped_because=self.diverged or self.disk_full or (
                        'the output was closed' if self.output_closed else None),
                    resumptions=self.resumptions,
                    iterations={'columns': record.COLUMNS + ['accuracy'] * any(
                        len(r) > 5 for r in self.rows[:1]), 'rows': self.rows},
                    samples=self.samples, held_out=self.held_out)

    def write_record(self, status):
        fields = self._record(status, self.checkpoints.last)
        if status != 'finished' and self.checkpoints.last:
            fields['to_continue'] = self.resume_command()  # where a user reads it, if not stderr
        super().write_record(**fields)

    def resume_command(self):
        """The command that goes on with this run: python recipes/... --resume DIR."""
        return command_line(settings.RECIPES[self.recipe], '--resume', self.run_dir)

    # -- the end

    def finish(self):
        """Save the last weights (unless just saved) and the record; say how it ended.

        Returns the exit status: 0 finished, 130 stopped by Ctrl-C, 1 diverged
        or the disk full.
        """
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        # the output stays guarded to the end (the last lines, the figure's): a reader
        # that goes away now ends nothing but the printing
        try:
            if self.diverged is None and self.disk_full is None and self.iteration > 0 \
                    and self.checkpoints.last != self.iteration:
                self.save(self.iteration)
            status, message, exit_status = self._ending()
            if status == 'disk full':
                try:
                    self.write_record(status)
                except OSError:
                    message = message.replace('record.json says so',
                                              'record.json could not be updated either')
            elif status is not None:
                self.write_record(status)
            if status == 'finished' and not message:
                closed_before = self.output_closed
                try:
                    self.say_where_the_samples_stand()
                except KeyboardInterrupt:
                    message, exit_status = 'Ctrl-C: the drawn continuation was left out; the ' \
                        'run in {} is complete.'.format(self.run_dir), 130
                if self.output_closed and not closed_before:
                    message, exit_status = 'The output was closed (its reader ended): the run ' \
                        'in {} is complete.'.format(self.run_dir), 141
            if message:
                try:
                    print(message, file=sys.stderr)
                except OSError:  # stderr closed too: record.json says it (to_continue)
                    pass
            return exit_status
        finally:
            if self.events is not None:
                self.events.close()
            self.release()

    def say_where_the_samples_stand(self):
        """A language model's last lines: at which iteration its greedy samples
        were last printed and which checkpoint the sampler reads; one
        continuation drawn from the weights saved last with the sampler's best
        strategy for the recipe (settings.BEST_SAMPLING), which reads better
        than the book's greedy text; and the command that draws more."""
        if self.recipe not in settings.LANGUAGE_MODELS or not self.samples:
            return
        printed, saved = self.samples[-1]['iteration'], self.checkpoints.last
        print('The greedy samples {} at iteration {}; the last checkpoint is of iteration '
              '{}{}.'.format(
                  'above were printed' if self._printed_samples else
                  'were last printed before this run was resumed (record.json holds them),',
                  printed, saved, '' if saved == printed else
                  ', {} iterations later, so its greedy text may differ'.format(
                      saved - printed)))
        strategy, temperature, top_k = settings.BEST_SAMPLING[self.recipe]
        num = settings.DRAWN_LENGTH[self.level]
        options = ['--strategy', strategy] + (
            ['--top-k', str(top_k)] if top_k is not None else []) + (
            ['--temperature', str(temperature)] if temperature != 1.0 else [])
        if self.sampling_model is not None and self.sess is not None:
            from cookbook_lstm import sampling
            text = sampling.drawn(
                self.sampling_model, self.sess, self.ix2vocab, self.vocab2ix,
                self.config.prime_texts[0], num,
                sampling.chooser(strategy, temperature, top_k, self.model.vocab_size,
                                 self.ix2vocab),
                char_level=self.level == 'char')
            print('Drawn from that checkpoint as the sampler draws best for this recipe '
                  '({}{}{}; docs/sampling.md):'.format(
                      strategy, ', top {}'.format(top_k) if top_k is not None else '',
                      ', temperature {}'.format(temperature) if temperature != 1.0 else ''))
            print(text)
        print('More, drawn afresh each time: {}'.format(command_line(
            Path('tools', 'sample_shakespeare.py'), '--checkpoint', self.run_dir, *options,
            '--num', num)))

    def _ending(self):
        """(the record's status, the message, the exit status) of how the run ended."""
        resume_command = self.resume_command()
        last = self.checkpoints.last
        last_path = self.run_dir / 'model-{}'.format(last)
        if self.disk_full is not None:
            kept = ('The last good checkpoint is {} (iteration {}); record.json says so. Free '
                    'some space, then: {}'.format(last_path, last, resume_command)
                    if last else 'No checkpoint could be saved. Free some space, then run the '
                    'same command again, adding --overwrite (it replaces what this run '
                    'began).')
            return 'disk full', 'Training stopped: {}. {}'.format(self.disk_full, kept), 1
        if self.diverged is not None:
            message = ''
            if self.set_aside:
                message = ('The checkpoint saved just before held the weights that gave that '
                           'loss: it is set aside as {}.*.\n'.format(
                               self.run_dir / self.set_aside))
            if last:
                kept = ('The last good checkpoint is {} (iteration {}), now the latest in the '
                        'folder. To continue from it, perhaps with a lower learning rate: {} '
                        '--learning-rate RATE'.format(last_path, last, resume_command))
            else:
                kept = 'No checkpoint was saved before that. Run the same command again ' \
                       'with a lower --learning-rate, adding --overwrite (it replaces what ' \
                       'this run began).'
            return 'diverged', message + 'Training stopped: {}. {}'.format(
                self.diverged, kept), 1
        why, status = ('The output was closed (its reader ended)', 141) if self.output_closed \
            else ('Interrupted', 130)
        if self.ending_only and self.output_closed:
            # nothing was left to train: what it printed is recorded all the same
            return 'finished', '{}: the run in {} is complete.'.format(why, self.run_dir), status
        if self.interrupted and last is None:
            return None, '{} before the first iteration: nothing to save.'.format(why), status
        if self.interrupted:
            return 'interrupted', '{}: iteration {} saved in {}, with the losses so far ({}). ' \
                'To continue: {}'.format(why, self.iteration, self.run_dir, RECORD_FILE,
                                         resume_command), status
        return 'finished', None, 0
