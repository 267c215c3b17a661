"""Pure analytics over (detections, timestamp): no I/O, no clock of their own, no model code."""
