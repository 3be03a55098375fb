"""Endpoints: a library model served over HTTP by a ``serve`` job (the agent side is ``remote_agent/serve.py``)."""
