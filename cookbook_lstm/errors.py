"""The project's exceptions, in one place.

Library code raises these; command_line.exit_status_of alone turns them into
a message and an exit status:

    Refused      a command refuses its settings or its folder: its line, status 1
    NothingToDo  nothing would change (a finished run resumed): its line, status 0
    RunError     a run folder or checkpoint cannot be used: 'Error: ...', status 1
    CorpusError  the text cannot be used: 'Error: ...', status 1

NotFinite and DiskFull never reach the command line: a run's save raises
them and the run stops on them, saying so in its record.
"""


class RunError(Exception):
    """A run folder or checkpoint cannot be used; the message names the file."""


class Refused(Exception):
    """A command refuses its settings or its folder. The message is the whole line
    the command prints, as it is."""


class NothingToDo(RunError):
    """The command would change nothing (a finished run resumed, say); it wrote
    nothing, and the message says so. Not an error: exit status 0."""


class CorpusError(ValueError):
    """The text cannot be used; the message says what to do."""


class NotFinite(Exception):
    """The weights are no longer finite: nothing was saved."""


class DiskFull(Exception):
    """No space left while saving: the half-written checkpoint was removed."""
