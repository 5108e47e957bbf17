#pragma once

// The client's decoding of what the agent sends, apart from the socket code in
// client.cpp: pure functions over bytes and decoded messages, so the unit
// tests and the fuzz target (tests/fuzz/client_frame_fuzz.cpp) reach them
// without a connection. Not installed: not part of the client's API.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "hostpulse/client.hpp"

namespace hostpulse::client::detail {

using NamesById = std::unordered_map<std::uint32_t, std::string>;

// One WebSocket message: MessagePack when it came as a binary frame, JSON
// otherwise. nullopt when it does not decode to an object.
std::optional<nlohmann::json> decode_message(std::string_view bytes, bool binary);

// A "hello" message. Throws (nlohmann::json::exception, std::runtime_error)
// when a field is missing or has the wrong type.
Hello decode_hello(const nlohmann::json& message);

// The series of a hello's "families" or a schema message's "added".
std::vector<SeriesInfo> decode_families(const nlohmann::json& families);

// The seq of a "subscribed" reply (0 when absent). Throws like decode_hello.
std::uint64_t decode_subscribed_seq(const nlohmann::json& message);

// A "samples" frame into a Batch (without `missed` and `frame`, which depend
// on the connection). Series ids are named from names_by_id ("#<id>" when
// unknown). With binary (protocol 2's msgpack: "t" as differences, "cols" of
// scaled deltas) the values are exactly the JSON frame's, and frame is
// rewritten to the JSON frame's shape ("t" absolute, "values"). Throws like
// decode_hello.
Batch decode_samples(nlohmann::json& frame, bool binary, const NamesById& names_by_id);

}  // namespace hostpulse::client::detail
