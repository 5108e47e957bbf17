// What the C++ client decodes from the agent: the first byte picks a text
// (JSON) or binary (MessagePack) frame, the rest is the frame.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string_view>

#include "frame_decoding.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool binary = (data[0] & 1) != 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  auto message = hostpulse::client::detail::decode_message(bytes, binary);
  if (!message) return 0;
  // client.cpp catches std::exception around decoding and reconnects, so
  // throwing is an accepted answer; crashes and undefined behaviour are not.
  try {
    hostpulse::client::detail::NamesById names{{0, "cpu.busy_pct"}};
    const std::string type = message->value("type", "");
    if (type == "hello") {
      for (const auto& series : hostpulse::client::detail::decode_hello(*message).schema) names[series.id] = series.name;
    } else if (type == "schema") {
      for (const auto& series : hostpulse::client::detail::decode_families(message->at("added"))) {
        names[series.id] = series.name;
      }
    } else if (type == "subscribed") {
      (void)hostpulse::client::detail::decode_subscribed_seq(*message);
    } else if (type == "samples") {
      (void)hostpulse::client::detail::decode_samples(*message, binary, names);
    }
  } catch (const std::exception&) {
  }
  return 0;
}
