"""What vision workers find: ingestion of events, queue samples, zone states and camera health,
and the reads the dashboard needs (live view, findings, queue time series, camera health).

(Not called ``vision``: that name is the top-level worker package.)
"""
