#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "agent/pipeline/history.hpp"
#include "agent/pipeline/schema.hpp"
#include "agent/stream/protocol.hpp"

namespace hostpulse {

// The encoded "history" reply, or the error to send instead.
using HistoryAnswer = std::variant<std::string, ProtocolError>;

// Answers one stream history request from the ring: its selectors resolved
// against the live series of the schema (each must match one), then the points after since_seq, or of the last
// duration (against now_t_ms, wall clock), or all of them. A reply over
// max_values values is refused (the same cap as REST), before copying when
// the whole ring is asked for. Whether the reply fits the connection's send
// queue is the connection's decision, not this one's.
HistoryAnswer answer_history(const HistoryRequest& request, const Schema& schema, const History& history,
                             std::size_t max_values, std::int64_t now_t_ms);

}  // namespace hostpulse
