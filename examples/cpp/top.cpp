// hostpulse-top: a small program on hostpulse::client. Prints CPU busy, memory
// used and the 1-minute load once per sample, and every alert, until Ctrl-C
// or --count samples. Reconnecting and resuming are the library's job.
//
//   hostpulse-top [--url ws://127.0.0.1:9870] [--count N] [--msgpack]

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include <hostpulse/client.hpp>

int main(int argc, char** argv) {
  hostpulse::client::Options options;
  long count = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--url" && i + 1 < argc) {
      options.url = argv[++i];
    } else if (arg == "--count" && i + 1 < argc) {
      count = std::strtol(argv[++i], nullptr, 10);
    } else if (arg == "--msgpack") {
      options.format = hostpulse::client::Format::msgpack;
    } else {
      std::fprintf(stderr, "usage: hostpulse-top [--url ws://HOST:PORT] [--count N] [--msgpack]\n");
      return 2;
    }
  }
  if (const char* token = std::getenv("HOSTPULSE_TOKEN")) options.token = token;
  options.series = {"cpu.busy_pct", "mem.used_pct", "load.1m"};

  // Ctrl-C: stop() is not async-signal-safe, so a thread waits for SIGINT
  // (blocked everywhere else) and calls it.
  sigset_t interrupt;
  sigemptyset(&interrupt);
  sigaddset(&interrupt, SIGINT);
  pthread_sigmask(SIG_BLOCK, &interrupt, nullptr);
  hostpulse::client::Client client(options);
  std::thread([&client, interrupt] {
    int signal_number = 0;
    sigwait(&interrupt, &signal_number);
    client.stop();
  }).detach();

  long printed = 0;
  client.on_hello([](const hostpulse::client::Hello& hello) {
    std::printf("%s: hostpulse %s, a point every %lld ms%s\n", hello.host.c_str(), hello.version.c_str(),
                static_cast<long long>(hello.interval_ms), hello.restarted ? " (restarted)" : "");
  });
  client.on_batch([&](const hostpulse::client::Batch& batch) {
    for (std::size_t k = 0; k < batch.t.size(); ++k) {
      std::printf("seq %llu", static_cast<unsigned long long>(batch.seq_first + k));
      for (std::size_t i = 0; i < batch.names.size(); ++i) {
        std::printf("  %s=%.2f", batch.names[i].c_str(), batch.values[i][k]);
      }
      std::printf("\n");
      if (count > 0 && ++printed >= count) client.stop();
    }
    std::fflush(stdout);
  });
  client.on_alert([](const nlohmann::json& alert) {
    if (alert.value("type", "") == "alert") std::printf("alert: %s\n", alert.value("description", "").c_str());
  });
  client.on_state([](const hostpulse::client::StateChange& change) {
    if (change.state == hostpulse::client::State::reconnecting) {
      std::fprintf(stderr, "%s; retrying in %lld ms\n", change.reason.c_str(),
                   static_cast<long long>(change.retry_in.count()));
    }
  });
  const hostpulse::client::Result result = client.run();
  if (!result.ok()) {
    std::fprintf(stderr, "hostpulse-top: %s\n", result.message.c_str());
    return result.outcome == hostpulse::client::Outcome::unauthorized ? 3 : 1;
  }
  return 0;
}
