#include "agent/stream/history_query.hpp"

#include <vector>

#include "agent/pipeline/series_selector.hpp"
#include "agent/stream/messages.hpp"

namespace hostpulse {

HistoryAnswer answer_history(const HistoryRequest& request, const Schema& schema, const History& history,
                             std::size_t max_values, std::int64_t now_t_ms) {
  std::vector<std::uint32_t> series;
  const Status status = resolve_selectors(schema, request.series, false, true, series);
  if (!status.ok()) return ProtocolError{.id = request.id, .code = error_code::unknown_series, .message = status.error};
  // Refuse before copying when the whole history is asked for.
  if (!request.since_seq && !request.last) {
    const Status size = check_history_reply_size(history.size(), series.size(), max_values);
    if (!size.ok()) return ProtocolError{.id = request.id, .code = error_code::bad_field, .message = size.error};
  }
  HistoryColumns columns;
  if (request.since_seq) {
    columns = history.since_seq(*request.since_seq, series);
  } else if (request.last) {
    columns = history.since_time(now_t_ms - request.last->count(), series);
  } else {
    columns = history.since_seq(0, series);
  }
  const Status size = check_history_reply_size(columns.points(), series.size(), max_values);
  if (!size.ok()) return ProtocolError{.id = request.id, .code = error_code::bad_field, .message = size.error};
  return encode_history_reply(request.id, schema, columns);
}

}  // namespace hostpulse
