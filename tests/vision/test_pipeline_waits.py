"""The pipeline turns each person's completed queue wait into a record for the API."""

from __future__ import annotations

import os

import numpy as np

os.environ["YOLO_OFFLINE"] = "1"

from tests.vision.test_pipeline_weak_and_missed import CONFIG, ScriptedDetector
from vision.analytics.events import QueueWait
from vision.config import parse_camera_config
from vision.pipeline import CameraPipeline, PipelineOptions

STILL = (100, 200, 130, 280, 0.8)  # one person standing in the queue zone


def run(script, config=CONFIG):
    pipeline = CameraPipeline(
        parse_camera_config(config),
        (640, 480),
        ScriptedDetector(script),
        PipelineOptions(motion_gate=False, snapshots=False),
    )
    frame = np.zeros((480, 640, 3), np.uint8)
    return [pipeline.process(frame, i / 2, i) for i in range(len(script))]


def test_a_person_who_leaves_the_queue_gives_one_wait_with_the_zones_sla():
    config = {**CONFIG, "zones": [{**CONFIG["zones"][0], "wait_sla_s": 2.0}]}
    # Seen at 0.0-2.5 s, then gone: the wait completes once unseen for more than 2 s.
    results = run([[STILL]] * 6 + [[]] * 8, config)
    waits = [(r.t, w) for r in results for w in r.waits]
    assert waits == [
        (
            5.0,
            QueueWait(
                camera_id="cam",
                zone="q",
                track_id=waits[0][1].track_id,
                joined=0.0,
                left=2.5,
                wait_s=2.5,
                sla_s=2.0,
            ),
        )
    ]
    assert isinstance(waits[0][1].track_id, int) and waits[0][1].track_id >= 0


def test_no_wait_while_the_person_is_still_in_the_queue():
    results = run([[STILL]] * 10)
    assert all(r.waits == [] for r in results)
    assert results[-1].record["zones"]["q"]["wait_s"] == 4.5
