#include "bench/history_capture.hpp"

#include <lzma.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace hostpulse::bench {

namespace {

std::string read_xz(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open " + path);
  const std::string packed((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  lzma_stream stream = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&stream, UINT64_MAX, 0) != LZMA_OK) throw std::runtime_error("lzma: cannot start");
  std::string text;
  char chunk[1 << 16];
  stream.next_in = reinterpret_cast<const std::uint8_t*>(packed.data());
  stream.avail_in = packed.size();
  lzma_ret status = LZMA_OK;
  while (status == LZMA_OK) {
    stream.next_out = reinterpret_cast<std::uint8_t*>(chunk);
    stream.avail_out = sizeof(chunk);
    status = lzma_code(&stream, LZMA_FINISH);
    text.append(chunk, sizeof(chunk) - stream.avail_out);
  }
  lzma_end(&stream);
  if (status != LZMA_STREAM_END) throw std::runtime_error(path + ": not a complete xz stream");
  return text;
}

// Splits at commas, calling field(index, text) for each.
template <class Field>
void for_each_field(std::string_view line, Field field) {
  std::size_t index = 0;
  while (true) {
    const std::size_t comma = line.find(',');
    field(index++, line.substr(0, comma));
    if (comma == std::string_view::npos) return;
    line.remove_prefix(comma + 1);
  }
}

template <class Number>
Number parse_number(std::string_view text, const std::string& where) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    throw std::runtime_error(where + ": bad number '" + std::string(text) + "'");
  }
  return value;
}

}  // namespace

HistoryCapture load_history_capture(const std::string& path) {
  const std::string text = read_xz(path);
  HistoryCapture capture;
  std::string_view rest = text;
  std::size_t line_number = 0;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    const std::string where = path + ":" + std::to_string(++line_number);
    if (line.empty()) continue;
    if (line.front() == '#') {
      if (capture.comment.empty()) capture.comment = std::string(line.substr(1));
      continue;
    }
    if (line.starts_with("t,")) {
      for_each_field(line.substr(2), [&](std::size_t index, std::string_view field) {
        const auto number = parse_number<std::int64_t>(field, where);
        capture.t_ms.push_back(index == 0 ? number : capture.t_ms.back() + number);
      });
    } else if (line.starts_with("s,")) {
      CapturedSeries& series = capture.series.emplace_back();
      for_each_field(line.substr(2), [&](std::size_t index, std::string_view field) {
        if (index == 0) {
          series.name = std::string(field);
        } else if (index == 1) {
          series.decimals = field == "float" ? -1 : parse_number<int>(field, where);
        } else {
          series.values.push_back(field.empty() ? std::numeric_limits<double>::quiet_NaN()
                                                : parse_number<double>(field, where));
        }
      });
      if (series.values.size() != capture.t_ms.size()) {
        throw std::runtime_error(where + ": " + std::to_string(series.values.size()) + " values for " +
                                 std::to_string(capture.t_ms.size()) + " points");
      }
    } else {
      throw std::runtime_error(where + ": neither a t, s nor comment line");
    }
  }
  return capture;
}

}  // namespace hostpulse::bench
