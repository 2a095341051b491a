"""Exception types raised by graphcl."""


class GraphclInputError(ValueError):
    """Raised for every problem with user input (data, arguments, files).

    The message always names the offending item (an argument, a file, a dataset name),
    so that a user can fix it without reading a traceback.
    """


class GraphclDistributedError(RuntimeError):
    """Raised when a distributed run cannot start or a peer fails (process group formation,
    a rank that exits, a collective that times out). The message says which rank saw it and
    what to check."""
