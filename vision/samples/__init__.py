"""Sample clips bundled with the package (attribution in ``ATTRIBUTION.md`` beside them).

A camera whose source is ``sample:<file name>`` replays one of them: the demo uses it, so a
fresh install has live footage without any camera or download.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent
SCHEME = "sample:"
DEMO_CLIP = "worker-zone-detection.gif"


class UnknownSample(LookupError):
    """A ``sample:`` source that names no bundled clip."""


def available() -> list[str]:
    """File names of the bundled clips."""
    return sorted(p.name for p in SAMPLES_DIR.iterdir() if p.suffix in {".gif", ".mp4"})


def is_sample_spec(spec: object) -> bool:
    return isinstance(spec, str) and spec.strip().startswith(SCHEME)


def resolve(spec: str) -> Path:
    """``sample:<name>`` -> the bundled file's path; ``UnknownSample`` names the choices."""
    name = spec.strip()[len(SCHEME) :].strip()
    if name not in available():
        raise UnknownSample(
            f"source {spec!r}: no bundled sample named {name!r}; "
            f"use one of {', '.join(SCHEME + n for n in available())}"
        )
    return SAMPLES_DIR / name
