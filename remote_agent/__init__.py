"""The YOLO Desk agent: runs jobs near the hardware and reports on stdout (see ARCHITECTURE.md).

It depends on the standard library only (plus torch/ultralytics where a job needs them)
so that it can be copied to a worker as plain files.
"""

PROTOCOL_VERSION = "1.0"
