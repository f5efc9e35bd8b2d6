"""--tensorboard: the run's scalars and graph, in an event file of tensorboard/.

Event files are appended as the run goes (TensorBoard reads them live), the
one thing in a run folder not written whole. A resumed run writes a new one
that begins with TF1's SessionLog START at the iteration it goes on from, so
that TensorBoard drops what the earlier file holds from that iteration on
(trained after the checkpoint, and trained again now).
"""
import os

from cookbook_lstm import run_folder
from cookbook_lstm.safe_files import check_kind


class EventLog:
    """tf.compat.v1.summary.FileWriter in run_dir/tensorboard, the graph written first."""

    def __init__(self, run_dir, graph, resumed_at=None):
        import tensorflow as tf
        tf1 = tf.compat.v1
        folder = run_dir / run_folder.TENSORBOARD_DIR
        run_folder.register(run_dir, run_folder.TENSORBOARD_DIR)
        if check_kind(folder, folder=True) is None:  # a link there is refused, not followed
            os.mkdir(folder)
        # TensorFlow's writer names its file for the second it opens and follows a
        # link at that name: the folder may hold nothing but regular files
        for name in run_folder.names_in(folder):
            check_kind(folder / name)
        self._writer = tf1.summary.FileWriter(str(folder), graph)
        if resumed_at is not None:
            self._writer.add_session_log(
                tf1.SessionLog(status=tf1.SessionLog.START), resumed_at + 1)

    def scalars(self, iteration, values):
        """values: {tag: number}, each a point at iteration."""
        import tensorflow as tf
        tf1 = tf.compat.v1
        self._writer.add_summary(tf1.Summary(value=[
            tf1.Summary.Value(tag=tag, simple_value=value) for tag, value in values.items()]),
            iteration)

    def flush(self):
        self._writer.flush()

    def close(self):
        self._writer.close()
