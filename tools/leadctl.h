// leadctl: the operator's command-line client of leadledgerd.
//
//   leadctl health
//   leadctl lead create --name NAME [--email ...] [--contact ...] ...
//   leadctl lead get ID|leads/ID
//
// Output is human-readable "field: value" lines, or JSON with --json.
#ifndef LEADLEDGER_TOOLS_LEADCTL_H_
#define LEADLEDGER_TOOLS_LEADCTL_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace leadledger::tools {

struct LeadctlOptions {
  std::string server = "127.0.0.1:50051";
  bool json = false;
  absl::Duration timeout = absl::Seconds(10);
  std::string actor;
  // Fields of "lead create".
  std::string name;
  std::string contact;
  std::string company;
  std::string email;
  std::string phone;
  std::string mobile;
  std::string owner;
  std::string team;
  std::vector<std::string> tags;
  int priority = 0;
};

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // The server answered with an error.
inline constexpr int kExitUsage = 2;   // The command line is wrong.

// Runs the command `args` (the positional words, e.g. {"lead", "get", "x"}),
// printing results to `out` and errors to `err`; returns the exit code.
int RunLeadctl(const LeadctlOptions& options,
               const std::vector<std::string>& args, std::ostream& out,
               std::ostream& err);

}  // namespace leadledger::tools

#endif  // LEADLEDGER_TOOLS_LEADCTL_H_
