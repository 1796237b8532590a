// leadctl: see tools/leadctl.h.
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "tools/leadctl.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "leadledgerd's host:port");
ABSL_FLAG(bool, json, false, "print JSON instead of field: value lines");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "deadline of each call");
ABSL_FLAG(std::string, actor, "", "who is acting (recorded on every event)");
ABSL_FLAG(std::string, name, "", "lead create: display name (required)");
ABSL_FLAG(std::string, contact, "", "lead create: contact name");
ABSL_FLAG(std::string, company, "", "lead create: company name");
ABSL_FLAG(std::string, email, "", "lead create: email");
ABSL_FLAG(std::string, phone, "", "lead create: phone");
ABSL_FLAG(std::string, mobile, "", "lead create: mobile");
ABSL_FLAG(std::string, owner, "",
          "lead create, list, convert: salesperson user id");
ABSL_FLAG(std::string, team, "", "lead create, list, convert: sales team id");
ABSL_FLAG(std::vector<std::string>, tags, {},
          "lead create: comma-separated tags");
ABSL_FLAG(int, priority, 0, "lead create: priority 0..3");
ABSL_FLAG(std::string, reason, "",
          "lead lose: one of the workspace's lost reasons");
ABSL_FLAG(std::string, feedback, "", "lead lose: why the lead was lost");
ABSL_FLAG(std::string, title, "", "task create: what to do");
ABSL_FLAG(std::string, due, "", "task create: due time, RFC 3339");
ABSL_FLAG(std::string, kind, "",
          "task create: contact, custom or follow_up; lead list: lead or "
          "opportunity");
ABSL_FLAG(std::string, outcome, "",
          "task complete: outcome id, e.g. NOT_SURE_YET");
ABSL_FLAG(std::string, note, "", "task complete: what happened");
ABSL_FLAG(std::string, follow_up_title, "",
          "task complete: title of a manual follow-up");
ABSL_FLAG(std::string, follow_up_due, "",
          "task complete: due time of the manual follow-up, RFC 3339");
ABSL_FLAG(std::string, due_by, "",
          "agenda: only tasks due by this time's day, RFC 3339");
ABSL_FLAG(int, page_size, 0, "queries: page size (0: the server's default)");
ABSL_FLAG(std::string, page_token, "", "queries: next_page_token of a page");
ABSL_FLAG(uint64_t, min_position, 0,
          "queries: wait until what they read (a read model, or the log "
          "itself for history, asof and log read) reflects this log position");
ABSL_FLAG(std::string, as_of_version, "",
          "asof: the lead right after this stream version (what --version N "
          "means after asof)");
ABSL_FLAG(std::string, time, "",
          "asof: the lead as it was at this RFC 3339 time");
ABSL_FLAG(uint64_t, from, 0, "log read, log subscribe: first log position");
ABSL_FLAG(std::vector<std::string>, types, {},
          "log read, log subscribe: comma-separated event types to keep");
ABSL_FLAG(int64_t, limit, 0,
          "log subscribe: stop after this many events (0: follow until "
          "interrupted or until --timeout, when given)");
ABSL_FLAG(bool, leads_enabled, true,
          "settings set: new records start as leads (true) or opportunities");
ABSL_FLAG(bool, skip_weekends, false,
          "settings set: move follow-ups due on a weekend to the Monday after");
ABSL_FLAG(std::string, default_country, "",
          "settings set: ISO country of phone numbers of leads without one");
ABSL_FLAG(std::vector<std::string>, lost_reasons, {},
          "settings set: comma-separated reasons a lead may be lost with");
ABSL_FLAG(std::vector<std::string>, pipeline, {},
          "settings set: comma-separated pipeline stages, in order");
ABSL_FLAG(std::string, catalogue_file, "",
          "settings set: JSON file of a WorkspaceSettings whose catalogue "
          "replaces the workspace's (as --json settings get prints it)");
ABSL_FLAG(std::string, etag, "",
          "mutations: refuse unless the lead is at this etag");
ABSL_FLAG(std::string, request_id, "",
          "mutations: makes a retry return the first answer");
ABSL_FLAG(std::string, status, "",
          "lead list: active, lost, won or merged (default: active and won)");
ABSL_FLAG(std::string, classification, "",
          "lead list: classification outcome id, e.g. HOT_PROSPECT");
ABSL_FLAG(std::string, tag, "", "lead list: leads carrying this tag");
ABSL_FLAG(std::string, stage, "", "lead list: pipeline stage");
ABSL_FLAG(std::string, text, "",
          "lead list: words that start words of name, contact, company, email");
ABSL_FLAG(std::string, order_by, "",
          "lead list: create_time (default), \"create_time desc\" or "
          "\"update_time desc\"");
ABSL_FLAG(std::string, customer_action, "",
          "lead convert: default, link, create or none");
ABSL_FLAG(std::string, customer_id, "",
          "lead convert: the customer to link (--customer_action=link)");
ABSL_FLAG(
    std::vector<std::string>, merge_into, {},
    "lead convert: opportunities to merge the lead with, comma-separated");

namespace {

// Whether flag `name` appears in `argv` ("--name", "--name=v", "-name", ...),
// so that an update can set a field to "" and leave the others alone.
bool Given(int argc, char** argv, absl::string_view name) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--")) absl::ConsumePrefix(&arg, "-");
    if (arg == name || absl::StartsWith(arg, absl::StrCat(name, "="))) {
      return true;
    }
  }
  return false;
}

// The Lead fields whose flags were given, for the update mask.
std::vector<std::string> GivenFields(int argc, char** argv) {
  static const std::pair<const char*, const char*> kFlagToField[] = {
      {"name", "display_name"},
      {"contact", "contact_name"},
      {"company", "company_name"},
      {"email", "email"},
      {"phone", "phone"},
      {"mobile", "mobile"},
      {"owner", "owner_id"},
      {"team", "team_id"},
      {"tags", "tags"},
      {"priority", "priority"}};
  std::vector<std::string> fields;
  for (const auto& [flag, field] : kFlagToField) {
    if (Given(argc, argv, flag)) fields.push_back(field);
  }
  return fields;
}

// Abseil owns --version (print the build and exit), but "asof --version N"
// names a stream version: rewrites "--version=N" and "--version N" with a
// number N to --as_of_version, leaving a bare --version to Abseil.
std::vector<char*> WithAsOfVersion(int argc, char** argv,
                                   std::vector<std::string>& storage) {
  storage.reserve(argc);
  for (int i = 0; i < argc; ++i) {
    absl::string_view arg = argv[i];
    absl::string_view rest = arg;
    int64_t number = 0;
    if (!absl::ConsumePrefix(&rest, "--")) absl::ConsumePrefix(&rest, "-");
    if (absl::ConsumePrefix(&rest, "version=")) {
      storage.push_back(absl::StrCat("--as_of_version=", rest));
    } else if (rest == "version" && i + 1 < argc &&
               absl::SimpleAtoi(argv[i + 1], &number)) {
      storage.push_back(absl::StrCat("--as_of_version=", argv[++i]));
    } else {
      storage.push_back(std::string(arg));
    }
  }
  std::vector<char*> rewritten;
  for (std::string& arg : storage) rewritten.push_back(arg.data());
  return rewritten;
}

// The WorkspaceSettings fields whose flags were given, for the update mask.
// A boolean flag also counts in its "--noflag" form.
std::vector<std::string> GivenSettings(int argc, char** argv) {
  static const std::pair<const char*, const char*> kFlagToField[] = {
      {"leads_enabled", "leads_enabled"},
      {"skip_weekends", "skip_weekends"},
      {"default_country", "default_country"},
      {"lost_reasons", "lost_reasons"},
      {"pipeline", "pipeline"},
      {"catalogue_file", "catalogue"}};
  std::vector<std::string> fields;
  for (const auto& [flag, field] : kFlagToField) {
    if (Given(argc, argv, flag) ||
        Given(argc, argv, absl::StrCat("no", flag))) {
      fields.push_back(field);
    }
  }
  return fields;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "leadctl [--server=HOST:PORT] [--json] health | lead create|get|update|"
      "classify|unclassify|lose|restore|win|probability|merge|list|"
      "duplicates|convert|import ... | agenda | task ... | history | asof | "
      "log read|subscribe ... | settings get|set | backup ID | verify");
  std::vector<std::string> storage;
  std::vector<char*> rewritten = WithAsOfVersion(argc, argv, storage);
  argc = static_cast<int>(rewritten.size());
  argv = rewritten.data();
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  leadledger::tools::LeadctlOptions options;
  options.server = absl::GetFlag(FLAGS_server);
  options.json = absl::GetFlag(FLAGS_json);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  options.actor = absl::GetFlag(FLAGS_actor);
  options.name = absl::GetFlag(FLAGS_name);
  options.contact = absl::GetFlag(FLAGS_contact);
  options.company = absl::GetFlag(FLAGS_company);
  options.email = absl::GetFlag(FLAGS_email);
  options.phone = absl::GetFlag(FLAGS_phone);
  options.mobile = absl::GetFlag(FLAGS_mobile);
  options.owner = absl::GetFlag(FLAGS_owner);
  options.team = absl::GetFlag(FLAGS_team);
  options.tags = absl::GetFlag(FLAGS_tags);
  options.priority = absl::GetFlag(FLAGS_priority);
  options.given_fields = GivenFields(argc, argv);
  options.reason = absl::GetFlag(FLAGS_reason);
  options.feedback = absl::GetFlag(FLAGS_feedback);
  options.title = absl::GetFlag(FLAGS_title);
  options.due = absl::GetFlag(FLAGS_due);
  options.kind = absl::GetFlag(FLAGS_kind);
  options.outcome = absl::GetFlag(FLAGS_outcome);
  options.note = absl::GetFlag(FLAGS_note);
  options.follow_up_title = absl::GetFlag(FLAGS_follow_up_title);
  options.follow_up_due = absl::GetFlag(FLAGS_follow_up_due);
  options.due_by = absl::GetFlag(FLAGS_due_by);
  options.page_size = absl::GetFlag(FLAGS_page_size);
  options.page_token = absl::GetFlag(FLAGS_page_token);
  options.min_position = absl::GetFlag(FLAGS_min_position);
  options.as_of_version = absl::GetFlag(FLAGS_as_of_version);
  options.as_of_time = absl::GetFlag(FLAGS_time);
  options.from_position = absl::GetFlag(FLAGS_from);
  options.event_types = absl::GetFlag(FLAGS_types);
  options.limit = absl::GetFlag(FLAGS_limit);
  if (Given(argc, argv, "timeout")) {
    options.subscribe_timeout = options.timeout;
  }
  options.leads_enabled = absl::GetFlag(FLAGS_leads_enabled);
  options.skip_weekends = absl::GetFlag(FLAGS_skip_weekends);
  options.default_country = absl::GetFlag(FLAGS_default_country);
  options.lost_reasons = absl::GetFlag(FLAGS_lost_reasons);
  options.pipeline = absl::GetFlag(FLAGS_pipeline);
  options.catalogue_file = absl::GetFlag(FLAGS_catalogue_file);
  options.given_settings = GivenSettings(argc, argv);
  options.etag = absl::GetFlag(FLAGS_etag);
  options.request_id = absl::GetFlag(FLAGS_request_id);
  options.status = absl::GetFlag(FLAGS_status);
  options.classification = absl::GetFlag(FLAGS_classification);
  options.tag = absl::GetFlag(FLAGS_tag);
  options.stage = absl::GetFlag(FLAGS_stage);
  options.text = absl::GetFlag(FLAGS_text);
  options.order_by = absl::GetFlag(FLAGS_order_by);
  options.customer_action = absl::GetFlag(FLAGS_customer_action);
  options.customer_id = absl::GetFlag(FLAGS_customer_id);
  options.merge_into = absl::GetFlag(FLAGS_merge_into);
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  return leadledger::tools::RunLeadctl(options, args, std::cout, std::cerr);
}
