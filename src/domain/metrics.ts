// Numeric time series per device (temperatures, humidity, power …).

export interface MetricSample {
  deviceId: string;
  name: string;
  /** RFC 3339 UTC */
  ts: string;
  value: number;
}

/** One down-sampled bucket of a metric series. */
export interface MetricPoint {
  /** RFC 3339 UTC start of the bucket */
  ts: string;
  avg: number;
  min: number;
  max: number;
}

export interface MetricSeries {
  name: string;
  points: MetricPoint[];
}

/** Metric names appear in URLs and the store: a bounded, safe alphabet. */
export const METRIC_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.]{0,63}$/;
