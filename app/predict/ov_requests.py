"""OpenVINO inference on more than one stream for the live pipeline, ultralytics' predictor unchanged.

ultralytics compiles an OpenVINO model with the LATENCY hint: one stream, every core on one frame, one implicit
infer request (not for two threads at once). A live run keeps several frames in flight, so throughput is what
counts: a copy compiled with the THROUGHPUT hint runs one frame per stream (measured on a 2-core EPYC, yolo26n at
640: 85 vs 77 inferences a second). :class:`PerThreadRequests` stands in for the backend's compiled model: a thread
that claimed a request (the pipeline's inference threads) infers on the THROUGHPUT copy with its own request
while another inference is in flight (the source outpaces the model); alone, and for every other caller (a still
picture, the first frame of a run), ultralytics' LATENCY model runs as before, every core on one frame. The
rest of ultralytics' forward (shapes, from_numpy, postprocess) is untouched.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

MAX_STREAMS = 4  # inference threads of one live run at most (each holds a frame: latency grows with them)


class PerThreadRequests:
    """The OpenVINO backend's ``ov_compiled_model``, with an infer request of a THROUGHPUT copy per live thread."""

    def __init__(self, latency_model: Any, throughput_model: Any, n: int) -> None:
        self.latency_model = latency_model
        self.requests = [throughput_model.create_infer_request() for _ in range(n)]
        self.claims = [0] * n  # inferences asked through each request (what the tests read)
        self.alone = 0  # of those, run on the LATENCY model because no other was in flight
        self._local = threading.local()
        self._lock = threading.Lock()
        self._in_flight = 0

    def claim(self, worker: int) -> None:
        """The calling thread infers with request ``worker`` from now on (the pipeline's inference thread)."""
        self._local.request = self.requests[worker % len(self.requests)]
        self.claims[worker % len(self.requests)] += 1

    def __call__(self, inputs: Any) -> Any:
        request = getattr(self._local, "request", None)
        with self._lock:
            alone = self._in_flight == 0
            self._in_flight += 1
        try:
            if request is None or alone:
                # nothing else inferring (a still, or a camera slower than the model): every core on this frame
                # (a stream's one core took 24 vs 14 ms a frame for a 30 FPS camera here)
                if request is None:
                    return self.latency_model(inputs)
                self.alone += 1
                # its outputs are the implicit request's buffers, which the other thread's next call alone would
                # overwrite: copied before this call counts as done
                return {k: v.copy() for k, v in self.latency_model(inputs).items()}
            return request.infer(inputs)  # an OVDict, as the compiled model's call gives: the request's buffers
        finally:
            with self._lock:
                self._in_flight -= 1

    def __getattr__(self, name: str) -> Any:  # input(), get_property(), … of ultralytics' model
        return getattr(self.latency_model, name)


def install(session: Any) -> PerThreadRequests | None:
    """Give ``session``'s OpenVINO backend per-thread requests (once); None where it does not apply or fails.

    Only a CPU model with a fixed batch of 1 whose backend keeps one compiled model (ultralytics recompiles per
    shape for dynamic INT8 on AMX CPUs: left alone).
    """
    if session is None or (found := getattr(session, "_ov_requests", False)) is not False:
        return None if session is None else found
    try:
        session._ov_requests = None  # tried once per session
    except AttributeError:
        return None
    backend = getattr(getattr(getattr(getattr(session, "model", None), "predictor", None), "model", None),
                      "backend", None)
    compiled = getattr(backend, "ov_compiled_model", None)
    compile_model = getattr(backend, "compile_model", None)
    if compiled is None or compile_model is None or getattr(backend, "read_model", None) is not None:
        return None
    if getattr(compile_model, "keywords", {}).get("device_name") != "CPU" or getattr(backend, "batch", 1) != 1:
        return None
    try:
        core = compile_model.func.__self__
        path = Path(session.choice.path)
        xml = path if path.is_file() else next(path.glob("*.xml"))
        throughput = core.compile_model(core.read_model(str(xml)), "CPU", {"PERFORMANCE_HINT": "THROUGHPUT"})
        n = min(int(throughput.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")), MAX_STREAMS)
    except Exception:  # noqa: BLE001 — no copy: the run infers one frame at a time, as before
        return None
    if n < 2:
        return None
    session._ov_requests = PerThreadRequests(compiled, throughput, n)
    backend.ov_compiled_model = session._ov_requests
    return session._ov_requests
