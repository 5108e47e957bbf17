#pragma once

// A history capture of a real agent (bench/capture_history.py wrote it):
// every retained point of every series, for the history benchmark to replay.

#include <cstdint>
#include <string>
#include <vector>

namespace hostpulse::bench {

struct CapturedSeries {
  std::string name;
  int decimals = -1;           // the series' declared scale; -1: none
  std::vector<double> values;  // one per point; NaN = no value
};

struct HistoryCapture {
  std::string comment;          // what the capture's first line says of it
  std::vector<std::int64_t> t_ms;
  std::vector<CapturedSeries> series;
};

// Reads an xz-compressed capture. Throws std::runtime_error naming the
// file and line when it cannot.
HistoryCapture load_history_capture(const std::string& path);

}  // namespace hostpulse::bench
