"""Vision worker: camera streams to counter attendance and queue analytics (see issue 3)."""
