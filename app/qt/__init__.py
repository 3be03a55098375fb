"""The bridge from the Qt-free core to Qt: background work → signals on the GUI thread."""
