"""The mystery shopper's phone app: static files served at ``/m/`` (see ``router.py``)."""
