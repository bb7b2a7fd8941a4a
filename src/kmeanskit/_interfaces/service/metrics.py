"""The service's Prometheus metrics: request counts and latencies, rows per cluster, anomalies.

Rendered by hand in the text exposition format (version 0.0.4), without a
client library; per process (each server worker keeps its own counters).
"""

import math
import threading
import time

import numpy as np

__all__ = ["METRICS_CONTENT_TYPE", "Metrics"]

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Counters and histograms, rendered in the Prometheus text format (version 0.0.4)."""

    def __init__(self, n_clusters: int, info: dict[str, str]):
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = {}
        self.aborted: dict[tuple[str, str], int] = {}
        self.latency: dict[str, list] = {}  # endpoint -> [bucket counts..., sum, count]
        self.rows = 0
        self.rows_by_cluster = np.zeros(n_clusters, dtype=np.int64)
        self.rows_scored = 0
        self.anomalies = 0
        self.info = info
        self.start_time = time.time()

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (endpoint, method, str(status))
            self.requests[key] = self.requests.get(key, 0) + 1
            hist = self.latency.get(endpoint)
            if hist is None:
                hist = self.latency[endpoint] = [0] * len(_LATENCY_BUCKETS) + [0.0, 0]
            for i, bound in enumerate(_LATENCY_BUCKETS):
                if seconds <= bound:
                    hist[i] += 1
            hist[-2] += seconds
            hist[-1] += 1

    def observe_aborted(self, endpoint: str, method: str) -> None:
        """A request whose client went away before any response was sent."""
        with self._lock:
            key = (endpoint, method)
            self.aborted[key] = self.aborted.get(key, 0) + 1

    def observe_predictions(self, labels: np.ndarray, anomalies: np.ndarray | None) -> None:
        counts = np.bincount(labels, minlength=self.rows_by_cluster.size)
        with self._lock:
            self.rows += int(labels.size)
            self.rows_by_cluster += counts
            if anomalies is not None:
                self.rows_scored += int(labels.size)
                self.anomalies += int(np.count_nonzero(anomalies))

    def render(self) -> str:
        with self._lock:
            lines = []

            def family(name, kind, help_text):
                lines.append(f"# HELP {name} {help_text}")
                lines.append(f"# TYPE {name} {kind}")

            family("kmeanskit_http_requests_total", "counter", "HTTP requests answered, by endpoint, method and status.")
            for (endpoint, method, status), n in sorted(self.requests.items()):
                labels = _labels(endpoint=endpoint, method=method, status=status)
                lines.append(f"kmeanskit_http_requests_total{labels} {n}")
            family("kmeanskit_requests_aborted_total", "counter",
                   "HTTP requests whose client disconnected before a response was sent, by endpoint and method.")
            for (endpoint, method), n in sorted(self.aborted.items()):
                lines.append(f"kmeanskit_requests_aborted_total{_labels(endpoint=endpoint, method=method)} {n}")
            family("kmeanskit_http_request_duration_seconds", "histogram",
                   "Time from receiving a request to sending the end of its response.")
            for endpoint, hist in sorted(self.latency.items()):
                for bound, n in zip(_LATENCY_BUCKETS, hist, strict=False):
                    lines.append(f"kmeanskit_http_request_duration_seconds_bucket"
                                 f"{_labels(endpoint=endpoint, le=_float(bound))} {n}")
                lines.append(f"kmeanskit_http_request_duration_seconds_bucket"
                             f"{_labels(endpoint=endpoint, le='+Inf')} {hist[-1]}")
                lines.append(f"kmeanskit_http_request_duration_seconds_sum{_labels(endpoint=endpoint)} "
                             f"{_float(hist[-2])}")
                lines.append(f"kmeanskit_http_request_duration_seconds_count{_labels(endpoint=endpoint)} {hist[-1]}")
            family("kmeanskit_rows_predicted_total", "counter", "Rows assigned to a cluster.")
            lines.append(f"kmeanskit_rows_predicted_total {self.rows}")
            family("kmeanskit_rows_by_cluster_total", "counter", "Rows assigned, by cluster.")
            for j, n in enumerate(self.rows_by_cluster.tolist()):
                lines.append(f"kmeanskit_rows_by_cluster_total{_labels(cluster=str(j))} {n}")
            family("kmeanskit_anomalies_total", "counter",
                   "Rows farther from their center than the training quantile of their cluster.")
            lines.append(f"kmeanskit_anomalies_total {self.anomalies}")
            family("kmeanskit_anomaly_rate", "gauge",
                   "anomalies_total / rows scored since start (NaN before any row; about 1 - level when the data "
                   "look like the training data).")
            rate = self.anomalies / self.rows_scored if self.rows_scored else math.nan
            lines.append(f"kmeanskit_anomaly_rate {_float(rate)}")
            family("kmeanskit_model_info", "gauge", "The model served (always 1).")
            lines.append(f"kmeanskit_model_info{_labels(**self.info)} 1")
            family("kmeanskit_process_start_time_seconds", "gauge", "Start time of this process, Unix seconds.")
            lines.append(f"kmeanskit_process_start_time_seconds {_float(self.start_time)}")
            return "\n".join(lines) + "\n"


def _float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")

    return "{" + ",".join(f'{key}="{escape(str(value))}"' for key, value in labels.items()) + "}"

