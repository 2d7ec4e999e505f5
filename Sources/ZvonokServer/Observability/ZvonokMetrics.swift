import Metrics
public import Prometheus

/// The process's Prometheus registry, behind swift-metrics: every `Counter`, `Gauge` and `Timer` made anywhere
/// in Zvonok (and Hummingbird's request metrics) lands here and is served at `/metrics`.
public enum ZvonokMetrics {
    /// Bootstraps swift-metrics on first use; swift-metrics allows that only once per process.
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}
