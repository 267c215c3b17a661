"""Choice widgets whose option labels are worked out once per run.

``format_func`` must not read the session (the language, the API): Streamlit may call it
outside the script run, e.g. when AppTest rebuilds widget state. So the labels are computed
in the run into a dict, and the widget only looks them up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def pick(
    where: Any,
    label: str,
    labels: Mapping[Any, str],
    *,
    key: str,
    widget: str = "selectbox",
    **kw: Any,
) -> Any:
    """``where.<widget>(label, options)`` with each option shown as ``labels[option]``."""
    names = dict(labels)
    return getattr(where, widget)(
        label, options=list(names), format_func=names.__getitem__, key=key, **kw
    )


def outlet_labels(
    outlets: Mapping[int, Mapping[str, Any]], *, everything: str | None = None
) -> dict[Any, str]:
    """Id → "code · name" (outlets, regions), with ``None`` → ``everything`` first if given."""
    labels: dict[Any, str] = {} if everything is None else {None: everything}
    labels.update({i: f"{o['code']} · {o['name']}" for i, o in outlets.items()})
    return labels
