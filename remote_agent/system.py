"""System samples every ~2 s: CPU, RAM, disk (psutil) and NVIDIA GPUs (pynvml, when a driver is present)."""

from __future__ import annotations

import threading
from typing import Any

from remote_agent.events import Emitter


class GpuProbe:
    """NVML when it loads; otherwise a clear reason why there are no GPU readings."""

    def __init__(self) -> None:
        self.nvml: Any = None
        self.reason: str | None = None
        try:
            import pynvml

            pynvml.nvmlInit()
            self.nvml = pynvml
        except ImportError:
            self.reason = "no NVIDIA GPU readings: nvidia-ml-py is not installed"
        except Exception as e:  # NVMLError_LibraryNotFound, DriverNotLoaded, …
            self.reason = f"no NVIDIA GPU: {e}"

    def read(self) -> list[dict[str, Any]]:
        if self.nvml is None:
            return []
        n = self.nvml
        gpus = []
        for i in range(n.nvmlDeviceGetCount()):
            h = n.nvmlDeviceGetHandleByIndex(i)
            mem = n.nvmlDeviceGetMemoryInfo(h)
            util = n.nvmlDeviceGetUtilizationRates(h)
            try:
                temp = n.nvmlDeviceGetTemperature(h, n.NVML_TEMPERATURE_GPU)
            except Exception:
                temp = None
            name = n.nvmlDeviceGetName(h)
            gpus.append({"index": i, "name": name.decode() if isinstance(name, bytes) else name, "util": util.gpu,
                         "mem_used": mem.used, "mem_total": mem.total, "temp": temp})
        return gpus


def sample(gpu: GpuProbe, disk_path: str) -> dict[str, Any]:
    import psutil

    vm = psutil.virtual_memory()
    du = psutil.disk_usage(disk_path)
    return {"cpu": psutil.cpu_percent(interval=None), "ram": vm.percent, "ram_used": vm.used, "ram_total": vm.total,
            "disk": du.percent, "disk_free": du.free, "gpus": gpu.read(), "gpu_note": gpu.reason}


class SystemSampler(threading.Thread):
    """Emits a ``system`` event every ``interval`` seconds until stopped."""

    def __init__(self, emitter: Emitter, disk_path: str, interval: float = 2.0) -> None:
        super().__init__(name="system-sampler", daemon=True)
        self._emitter = emitter
        self._disk = disk_path
        self._interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            import psutil

            psutil.cpu_percent(interval=None)  # prime: the first reading is since this call
        except ImportError:
            self._emitter.emit("system", cpu=None, ram=None, disk=None, gpus=[], gpu_note="psutil is not installed")
            return
        gpu = GpuProbe()
        while not self._stop_event.wait(self._interval):
            try:
                self._emitter.emit("system", **sample(gpu, self._disk))
            except Exception as e:  # a failed reading must not end the job
                self._emitter.emit("system", error=str(e), gpus=[])

    def stop(self) -> None:
        self._stop_event.set()
