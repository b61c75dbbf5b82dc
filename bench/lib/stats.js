'use strict';
// Small helpers for aggregating rounds. The median is the headline (robust to one noisy round
// on a shared 2-core box); min and max are shown so that noise is visible, not hidden.

function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function min(values) {
  const v = values.filter(Number.isFinite);
  return v.length ? Math.min(...v) : null;
}

function max(values) {
  const v = values.filter(Number.isFinite);
  return v.length ? Math.max(...v) : null;
}

function sum(values) {
  return values.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
}

function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null;
}

module.exports = { median, min, max, sum, ratio };
