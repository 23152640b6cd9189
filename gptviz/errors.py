"""The exceptions gptviz raises. Each message says what went wrong and what to do about it."""


class GptvizError(Exception):
    """Base class of every error gptviz raises on purpose."""


class InputError(GptvizError, ValueError):
    """A text, token list or setting that the model cannot take (empty, too long, out of range)."""


class LoadError(GptvizError, OSError):
    """A model that cannot be loaded: unknown name, no network, corrupt or mismatched checkpoint."""


class TraceTooLargeError(GptvizError, MemoryError):
    """A trace whose recorded tensors would exceed the memory budget."""


class ExportError(GptvizError, OSError):
    """A file that could not be written (no space, no permission, a folder in the way); the file it
    would have replaced is left as it was."""
