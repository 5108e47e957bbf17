// hostpulse: the agent. Parses the command line, then hands over to the
// Agent object (agent/agent.hpp), whose members are the running parts.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "agent/agent.hpp"
#include "agent/config/command_line.hpp"
#include "base/log.hpp"

int main(int argc, char** argv) {
  using namespace hostpulse;
  const CommandLine command_line = parse_command_line(argc, argv);
  if (command_line.exit_code) {
    std::fputs(command_line.out.c_str(), stdout);
    std::fputs(command_line.err.c_str(), stderr);
    return *command_line.exit_code;
  }
  configure_logging(command_line.config.log_level);
  try {
    std::string error;
    std::unique_ptr<AgentSetup> setup =
        prepare_agent(command_line.config, std::vector<std::string>(argv, argv + argc), error);
    if (!setup) {
      spdlog::error("{}", error);
      return kExitConfigError;
    }
    Agent agent(std::move(*setup));
    return agent.run();
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return kExitConfigError;
  }
}
