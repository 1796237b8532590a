// leadctl: the operator's command-line client of leadledgerd.
//
//   leadctl health
//   leadctl lead create --name NAME [--email ...] [--contact ...] ...
//   leadctl lead get ID|leads/ID
//   leadctl lead update ID --name ... (the fields given become the mask)
//   leadctl lead classify ID OUTCOME | lead unclassify ID
//   leadctl lead lose ID [--reason ...] [--feedback ...] | restore ID | win ID
//   leadctl lead probability ID PERCENT|clear
//   leadctl lead merge ID ID... [--owner ...] [--team ...]
// Mutations take --etag and --request_id.
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
  // Fields given on the command line, by their Lead field names: the update
  // mask of "lead update".
  std::vector<std::string> given_fields;
  // "lead lose".
  std::string reason;
  std::string feedback;
  // Any mutation.
  std::string etag;
  std::string request_id;
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
