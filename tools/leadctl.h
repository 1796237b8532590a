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
//   leadctl agenda OWNER [--due_by=TIME] [--page_size=N] [--page_token=T]
//   leadctl task create LEAD_ID --title=T [--due=TIME] [--kind=..] ...
//   leadctl task complete TASK [--outcome=O] [--note=N] [--tags=a,b]
//                              [--follow_up_title=T --follow_up_due=TIME]
//   leadctl task cancel TASK [--reason=R]
//   leadctl history ID [--page_size N] [--page_token T]
//   leadctl asof ID (--version N | --time TIME)
//   leadctl log read [--from N] [--types A,B] [--page_size N] [--page_token T]
//   leadctl log subscribe [--from N] [--types A,B] [--limit N]
// TASK is leads/ID/tasks/TASK_ID or ID/TASK_ID; TIME is RFC 3339.
//   leadctl lead list [--kind ...] [--status ...] [--owner ...] [--team ...]
//       [--classification ...] [--tag ...] [--stage ...] [--text ...]
//       [--order_by ...] [--page_size N] [--page_token T] [--min_position P]
//   leadctl lead duplicates ID [--min_position P]
//   leadctl lead convert ID [--customer_action=default|link|create|none]
//       [--customer_id C] [--merge_into ID,...] [--owner ...] [--team ...]
//   leadctl lead import FILE.jsonl (one Lead as JSON per line)
//   leadctl settings get
//   leadctl settings set [--leads_enabled=B] [--skip_weekends=B]
//       [--default_country=CC] [--lost_reasons=a,b] [--pipeline=s1,s2]
//       [--catalogue_file=FILE] (the settings given become the mask)
//   leadctl backup ID
//   leadctl verify
//   leadctl projections status | projections rebuild [NAME...]
// Mutations take --etag and --request_id.
//
// Output is human-readable "field: value" lines, or JSON with --json.
#ifndef LEADLEDGER_TOOLS_LEADCTL_H_
#define LEADLEDGER_TOOLS_LEADCTL_H_

#include <cstdint>
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
  // Tasks and the agenda.
  std::string title;
  std::string due;
  // The task's kind, or the kind of leads "lead list" lists.
  std::string kind;
  std::string outcome;
  std::string note;
  std::string follow_up_title;
  std::string follow_up_due;
  std::string due_by;
  // Queries.
  int page_size = 0;
  std::string page_token;
  uint64_t min_position = 0;
  // "asof": exactly one of the two, as typed.
  std::string as_of_version;
  std::string as_of_time;
  // "log read" and "log subscribe": the first log position (0: the start)
  // and the event types to keep (empty: all).
  uint64_t from_position = 0;
  std::vector<std::string> event_types;
  // "log subscribe": stop after this many events; 0 follows the log until
  // interrupted or until `subscribe_timeout` passes, which both end with
  // success.
  int64_t limit = 0;
  absl::Duration subscribe_timeout = absl::InfiniteDuration();
  // "settings set": the values of its flags, and the WorkspaceSettings
  // fields whose flags were given (the update mask). The catalogue comes
  // from a JSON file holding a WorkspaceSettings, as "--json settings get"
  // prints it.
  bool leads_enabled = true;
  bool skip_weekends = false;
  std::string default_country;
  std::vector<std::string> lost_reasons;
  std::vector<std::string> pipeline;
  std::string catalogue_file;
  std::vector<std::string> given_settings;
  // Any mutation.
  std::string etag;
  std::string request_id;
  // "lead list" filters (with kind, owner and team above), order; pages
  // and min_position are the queries' above.
  std::string status;
  std::string classification;
  std::string tag;
  std::string stage;
  std::string text;
  std::string order_by;
  // "lead convert".
  std::string customer_action;
  std::string customer_id;
  std::vector<std::string> merge_into;
};

// Leads per BatchCreateLeads call of "lead import".
inline constexpr int kImportBatchSize = 1000;

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
