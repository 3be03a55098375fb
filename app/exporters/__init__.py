"""Export formats: the registry of every format the pinned ultralytics can export to (Qt-free, plain data).

Export jobs, toolchain environments and the Export tab build on it (see the export issue).
"""
