"""What decoding a file can refuse; str(error) says why and is shown to users."""


class MediaError(ValueError):
    """A media file cannot be used; str(error) says why and is shown to users."""


class UnsupportedMediaError(MediaError):
    """Not a video we accept: not media, an audio-only file, a disallowed container or codec (HTTP 415)."""


class InvalidMediaError(MediaError):
    """A corrupt or truncated file, one beyond the limits, or a decode that timed out (HTTP 422)."""
