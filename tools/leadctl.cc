#include "tools/leadctl.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "leadledger/v1/admin_service.grpc.pb.h"
#include "leadledger/v1/history_service.grpc.pb.h"
#include "leadledger/v1/lead_service.grpc.pb.h"
#include "leadledger/v1/task_service.grpc.pb.h"
#include "tools/status_code_name.h"

namespace leadledger::tools {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::Reflection;

constexpr char kUsage[] =
    "usage: leadctl [--server=HOST:PORT] [--json] COMMAND\n"
    "commands:\n"
    "  health                          is the server serving?\n"
    "  lead create --name=NAME [--email=E] [--contact=C] [--company=C]\n"
    "              [--phone=P] [--mobile=M] [--owner=U] [--team=T]\n"
    "              [--tags=a,b] [--priority=0..3]\n"
    "  lead get ID                     ID or leads/ID\n"
    "  lead update ID [--name=..] [--email=..] ...   the given fields change\n"
    "  lead classify ID OUTCOME        e.g. HOT_PROSPECT\n"
    "  lead unclassify ID\n"
    "  lead lose ID [--reason=R] [--feedback=F]\n"
    "  lead restore ID\n"
    "  lead win ID\n"
    "  lead probability ID PERCENT|clear\n"
    "  lead merge ID ID... [--owner=U] [--team=T]\n"
    "  lead list [--kind=lead|opportunity] [--status=active|lost|won|merged]\n"
    "            [--owner=U] [--team=T] [--classification=C] [--tag=T]\n"
    "            [--stage=S] [--text=WORDS] [--page_size=N] [--page_token=T]\n"
    "            [--order_by=\"create_time|create_time desc|update_time "
    "desc\"]\n"
    "  lead duplicates ID\n"
    "  lead convert ID [--customer_action=default|link|create|none]\n"
    "              [--customer_id=C] [--merge_into=ID,ID] [--owner=U] "
    "[--team=T]\n"
    "  lead import FILE.jsonl          one Lead as JSON per line\n"
    "  agenda OWNER [--due_by=TIME] [--page_size=N] [--page_token=T]\n"
    "               [--min_position=P]\n"
    "  task create LEAD_ID --title=T [--due=TIME] [--kind=contact|custom|"
    "follow_up]\n"
    "              [--owner=U] [--priority=N]\n"
    "  task complete TASK [--outcome=O] [--note=N] [--tags=a,b]\n"
    "              [--follow_up_title=T --follow_up_due=TIME]\n"
    "  task cancel TASK [--reason=R]\n"
    "  history ID [--page_size=N] [--page_token=T]   the lead's events\n"
    "  asof ID --version=N | --time=TIME   the lead as it was then\n"
    "  log read [--from=N] [--types=A,B] [--page_size=N] [--page_token=T]\n"
    "  log subscribe [--from=N] [--types=A,B] [--limit=N]   follow the log\n"
    "TASK is leads/ID/tasks/TASK_ID or ID/TASK_ID; TIME is RFC 3339\n"
    "  settings get\n"
    "  settings set [--leads_enabled=B] [--skip_weekends=B] "
    "[--default_country=CC]\n"
    "               [--lost_reasons=a,b] [--pipeline=s1,s2] "
    "[--catalogue_file=F]\n"
    "                                  the given settings change; F is JSON "
    "as\n"
    "                                  --json settings get prints it\n"
    "  backup ID                       copy the event log to the server's\n"
    "                                  backups/ID ([a-z0-9-], 1 to 63)\n"
    "  verify                          check the event log (exit 1 on "
    "problems)\n"
    "  projections status              read models: checkpoint, lag, errors,\n"
    "                                  caches\n"
    "  projections rebuild [NAME...]   rebuild online (all when none given)\n"
    "queries take --min_position=P (wait until what they read reflects a\n"
    "write's log_position); mutations take --etag=E (refuse if the record\n"
    "changed) and --request_id=R (a retry answers the first result)\n";

// Whether output lists fields left at their default value: a settings
// listing must say "skip_weekends: false", a lead is clearer without its
// empty fields.
enum class Defaults { kOmit, kShow };

// Prints the fields of `message` as "path: value", one per line; nested
// messages flatten to "address.city", repeated ones to "catalogue[0].id",
// timestamps print as RFC 3339. Fields with presence (messages, optional
// scalars) print only when set.
void PrintFields(const Message& message, const std::string& prefix,
                 std::ostream& out, Defaults defaults = Defaults::kOmit) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  if (defaults == Defaults::kShow) {
    const Descriptor* descriptor = message.GetDescriptor();
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const FieldDescriptor* field = descriptor->field(i);
      if (!field->has_presence() || reflection->HasField(message, field)) {
        fields.push_back(field);
      }
    }
  } else {
    reflection->ListFields(message, &fields);
  }
  for (const FieldDescriptor* field : fields) {
    const std::string path = prefix + field->name();
    if (field->is_repeated() && field->message_type() != nullptr) {
      const int size = reflection->FieldSize(message, field);
      if (size == 0) out << path << ":\n";
      for (int i = 0; i < size; ++i) {
        PrintFields(reflection->GetRepeatedMessage(message, field, i),
                    absl::StrCat(path, "[", i, "]."), out, defaults);
      }
    } else if (field->is_repeated()) {
      std::vector<std::string> values;
      const int size = reflection->FieldSize(message, field);
      for (int i = 0; i < size; ++i) {
        std::string value;
        if (field->type() == FieldDescriptor::TYPE_STRING) {
          value = reflection->GetRepeatedString(message, field, i);
        } else {
          google::protobuf::TextFormat::PrintFieldValueToString(message, field,
                                                                i, &value);
        }
        values.push_back(value);
      }
      out << path << ":" << (values.empty() ? "" : " ")
          << absl::StrJoin(values, ", ") << "\n";
    } else if (field->message_type() != nullptr) {
      const Message& child = reflection->GetMessage(message, field);
      if (field->message_type()->full_name() == "google.protobuf.Timestamp") {
        out << path << ": "
            << google::protobuf::util::TimeUtil::ToString(
                   static_cast<const google::protobuf::Timestamp&>(child))
            << "\n";
      } else {
        PrintFields(child, path + ".", out, defaults);
      }
    } else if (field->enum_type() != nullptr) {
      out << path << ": " << reflection->GetEnum(message, field)->name()
          << "\n";
    } else if (field->type() == FieldDescriptor::TYPE_STRING) {
      out << path << ": " << reflection->GetString(message, field) << "\n";
    } else {
      std::string value;
      google::protobuf::TextFormat::PrintFieldValueToString(message, field, -1,
                                                            &value);
      out << path << ": " << value << "\n";
    }
  }
}

void Print(const LeadctlOptions& options, const Message& message,
           std::ostream& out, Defaults defaults = Defaults::kOmit) {
  if (options.json) {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    print.always_print_primitive_fields = defaults == Defaults::kShow;
    if (!google::protobuf::util::MessageToJsonString(message, &json, print)
             .ok()) {
      json = "{}";
    }
    out << json << "\n";
  } else {
    PrintFields(message, "", out, defaults);
  }
}

class Client {
 public:
  explicit Client(const LeadctlOptions& options)
      : options_(options),
        channel_(grpc::CreateChannel(options.server,
                                     grpc::InsecureChannelCredentials())) {}

  // A context carrying the deadline and the caller's identity.
  std::unique_ptr<grpc::ClientContext> Context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
    context->AddMetadata("x-actor",
                         options_.actor.empty() ? "leadctl" : options_.actor);
    return context;
  }

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  const LeadctlOptions& options_;
  std::shared_ptr<grpc::Channel> channel_;
};

int Failed(const grpc::Status& status, std::ostream& err) {
  err << "leadctl: " << StatusCodeName(status.error_code()) << ": "
      << status.error_message() << "\n";
  return kExitFailed;
}

int Usage(std::ostream& err, absl::string_view problem) {
  err << "leadctl: " << problem << "\n" << kUsage;
  return kExitUsage;
}

int Health(const LeadctlOptions& options, std::ostream& out,
           std::ostream& err) {
  Client client(options);
  auto stub = grpc::health::v1::Health::NewStub(client.channel());
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(client.Context().get(), request, &response);
  if (!status.ok()) return Failed(status, err);
  Print(options, response, out);
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING
             ? kExitOk
             : kExitFailed;
}

// Copies the lead fields given as flags into `lead`.
void SetFields(const LeadctlOptions& options, v1::Lead& lead) {
  lead.set_display_name(options.name);
  lead.set_contact_name(options.contact);
  lead.set_company_name(options.company);
  lead.set_email(options.email);
  lead.set_phone(options.phone);
  lead.set_mobile(options.mobile);
  lead.set_owner_id(options.owner);
  lead.set_team_id(options.team);
  for (const std::string& tag : options.tags) lead.add_tags(tag);
  lead.set_priority(options.priority);
}

int CreateLead(const LeadctlOptions& options, std::ostream& out,
               std::ostream& err) {
  Client client(options);
  auto stub = v1::LeadService::NewStub(client.channel());
  v1::CreateLeadRequest request;
  v1::Lead* lead = request.mutable_lead();
  SetFields(options, *lead);
  v1::CreateLeadResponse response;
  grpc::Status status =
      stub->CreateLead(client.Context().get(), request, &response);
  if (!status.ok()) return Failed(status, err);
  Print(options, response, out);
  return kExitOk;
}

std::string LeadName(const std::string& id) {
  return absl::StartsWith(id, "leads/") ? id : absl::StrCat("leads/", id);
}

// Sends one LeadService mutation: `call` is the stub method, `request` a
// message with name / etag / request_id; prints the response.
template <typename Request, typename Response, typename Call>
int Mutation(const LeadctlOptions& options, const std::string& id,
             Request request, Call call, std::ostream& out, std::ostream& err) {
  Client client(options);
  auto stub = v1::LeadService::NewStub(client.channel());
  request.set_name(LeadName(id));
  request.set_etag(options.etag);
  request.set_request_id(options.request_id);
  Response response;
  grpc::Status status =
      ((*stub).*call)(client.Context().get(), request, &response);
  if (!status.ok()) return Failed(status, err);
  Print(options, response, out);
  return kExitOk;
}

int UpdateLead(const LeadctlOptions& options, const std::string& id,
               std::ostream& out, std::ostream& err) {
  if (options.given_fields.empty()) {
    return Usage(err, "lead update: give at least one field to change");
  }
  Client client(options);
  auto stub = v1::LeadService::NewStub(client.channel());
  v1::UpdateLeadRequest request;
  v1::Lead* lead = request.mutable_lead();
  lead->set_name(LeadName(id));
  lead->set_etag(options.etag);
  SetFields(options, *lead);
  for (const std::string& field : options.given_fields) {
    request.mutable_update_mask()->add_paths(field);
  }
  request.set_request_id(options.request_id);
  v1::UpdateLeadResponse response;
  grpc::Status status =
      stub->UpdateLead(client.Context().get(), request, &response);
  if (!status.ok()) return Failed(status, err);
  Print(options, response, out);
  return kExitOk;
}

// The enum value `value` names in `descriptor`: "lead" is LEAD_KIND_LEAD for
// prefix "LEAD_KIND_"; full names work too. nullopt for an unknown name.
std::optional<int> EnumValue(const google::protobuf::EnumDescriptor* descriptor,
                             absl::string_view prefix,
                             const std::string& value) {
  std::string upper = absl::AsciiStrToUpper(value);
  const google::protobuf::EnumValueDescriptor* found =
      descriptor->FindValueByName(upper);
  if (found == nullptr) {
    found = descriptor->FindValueByName(absl::StrCat(prefix, upper));
  }
  if (found == nullptr) return std::nullopt;
  return found->number();
}

int ListLeads(const LeadctlOptions& options, std::ostream& out,
              std::ostream& err) {
  v1::ListLeadsRequest request;
  if (!options.kind.empty()) {
    std::optional<int> kind =
        EnumValue(v1::LeadKind_descriptor(), "LEAD_KIND_", options.kind);
    if (!kind.has_value()) {
      return Usage(err, absl::StrCat("--kind: \"", options.kind,
                                     "\" is neither lead nor opportunity"));
    }
    request.set_kind(static_cast<v1::LeadKind>(*kind));
  }
  if (!options.status.empty()) {
    std::optional<int> status =
        EnumValue(v1::LeadStatus_descriptor(), "LEAD_STATUS_", options.status);
    if (!status.has_value()) {
      return Usage(err, absl::StrCat("--status: \"", options.status,
                                     "\" is not active, lost, won or merged"));
    }
    request.set_status(static_cast<v1::LeadStatus>(*status));
  }
  request.set_owner_id(options.owner);
  request.set_team_id(options.team);
  request.set_classification(options.classification);
  request.set_tag(options.tag);
  request.set_stage(options.stage);
  request.set_text(options.text);
  request.set_order_by(options.order_by);
  request.set_page_size(options.page_size);
  request.set_page_token(options.page_token);
  request.set_min_position(options.min_position);
  Client client(options);
  auto stub = v1::LeadService::NewStub(client.channel());
  v1::ListLeadsResponse response;
  grpc::Status status =
      stub->ListLeads(client.Context().get(), request, &response);
  if (!status.ok()) return Failed(status, err);
  if (options.json) {
    Print(options, response, out);
    return kExitOk;
  }
  // One line per lead; the whole lead is one "lead get" away.
  for (const v1::Lead& lead : response.leads()) {
    out << lead.name() << "\t" << v1::LeadKind_Name(lead.kind()) << "\t"
        << v1::LeadStatus_Name(lead.status()) << "\t" << lead.display_name()
        << "\n";
  }
  if (!response.next_page_token().empty()) {
    out << "next_page_token: " << response.next_page_token() << "\n";
  }
  return kExitOk;
}

int FindDuplicates(const LeadctlOptions& options, const std::string& id,
                   std::ostream& out, std::ostream& err) {
  v1::FindDuplicatesRequest request;
  request.set_name(LeadName(id));
  request.set_min_position(options.min_position);
  Client client(options);
  auto stub = v1::LeadService::NewStub(client.channel());
  v1::FindDuplicatesResponse response;
  grpc::Status status =
      stub->FindDuplicates(client.Context().get(), request, &response);
  if (!status.ok()) return Failed(status, err);
  if (options.json) {
    Print(options, response, out);
    return kExitOk;
  }
  for (const v1::Duplicate& duplicate : response.duplicates()) {
    std::vector<std::string> criteria;
    for (int criterion : duplicate.criteria()) {
      criteria.push_back(absl::AsciiStrToLower(absl::StripPrefix(
          v1::DuplicateCriterion_Name(criterion), "DUPLICATE_CRITERION_")));
    }
    out << duplicate.lead().name() << "\t" << absl::StrJoin(criteria, ",")
        << "\t" << duplicate.lead().display_name() << "\n";
  }
  return kExitOk;
}

int ConvertLead(const LeadctlOptions& options, const std::string& id,
                std::ostream& out, std::ostream& err) {
  static const std::pair<const char*, v1::CustomerAction> kActions[] = {
      {"", v1::CUSTOMER_ACTION_UNSPECIFIED},
      {"default", v1::CUSTOMER_ACTION_UNSPECIFIED},
      {"link", v1::CUSTOMER_ACTION_LINK_EXISTING},
      {"create", v1::CUSTOMER_ACTION_CREATE_NEW},
      {"none", v1::CUSTOMER_ACTION_NONE}};
  v1::ConvertLeadRequest request;
  bool known = false;
  for (const auto& [word, action] : kActions) {
    if (options.customer_action == word) {
      request.set_customer_action(action);
      known = true;
    }
  }
  if (!known) {
    return Usage(err,
                 absl::StrCat("--customer_action: \"", options.customer_action,
                              "\" is not default, link, create or none"));
  }
  request.set_customer_id(options.customer_id);
  for (const std::string& into : options.merge_into) {
    request.add_merge_into(LeadName(into));
  }
  request.set_owner_id(options.owner);
  request.set_team_id(options.team);
  return Mutation<v1::ConvertLeadRequest, v1::ConvertLeadResponse>(
      options, id, request, &v1::LeadService::Stub::ConvertLead, out, err);
}

// Sends the leads of `batch`, read from lines `lines` of `file`, in one
// call, and clears it.
int ImportBatch(const LeadctlOptions& options, v1::LeadService::Stub& stub,
                const Client& client, v1::BatchCreateLeadsRequest& batch,
                std::vector<int>& lines, int batch_index,
                const std::string& file, int& imported, std::ostream& out,
                std::ostream& err) {
  if (!options.request_id.empty()) {
    // Each batch is its own request; running the import again with the same
    // request id creates nothing twice.
    batch.set_request_id(absl::StrCat(options.request_id, "/", batch_index));
  }
  v1::BatchCreateLeadsResponse response;
  grpc::Status status =
      stub.BatchCreateLeads(client.Context().get(), batch, &response);
  if (!status.ok()) {
    // The server names the item ("requests[3].lead.email: ..."): say which
    // line of the file that is.
    const std::string text = status.error_message();
    absl::string_view message = text;
    size_t item = 0;
    std::string where;
    if (absl::ConsumePrefix(&message, "requests[") &&
        absl::SimpleAtoi(message.substr(0, message.find(']')), &item) &&
        item < lines.size()) {
      where = absl::StrCat(file, ":", lines[item], ": ");
    }
    err << "leadctl: " << where << StatusCodeName(status.error_code()) << ": "
        << status.error_message() << "\n"
        << "leadctl: " << imported
        << " leads imported before this batch; none of this batch\n";
    return kExitFailed;
  }
  imported += response.leads_size();
  if (options.json) {
    Print(options, response, out);
  } else {
    for (const v1::Lead& lead : response.leads()) out << lead.name() << "\n";
  }
  batch.Clear();
  lines.clear();
  return kExitOk;
}

int ImportLeads(const LeadctlOptions& options, const std::string& file,
                std::ostream& out, std::ostream& err) {
  std::ifstream in(file);
  if (!in) {
    err << "leadctl: cannot read " << file << "\n";
    return kExitFailed;
  }
  Client client(options);
  auto stub = v1::LeadService::NewStub(client.channel());
  v1::BatchCreateLeadsRequest batch;
  std::vector<int> lines;
  int imported = 0;
  int batch_index = 0;
  int line_number = 0;
  std::string line;
  while (std::getline(in, line)) {
    ++line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    auto parsed = google::protobuf::util::JsonStringToMessage(
        line, batch.add_requests()->mutable_lead());
    if (!parsed.ok()) {
      err << "leadctl: " << file << ":" << line_number
          << ": not a Lead in JSON: " << parsed.message() << "\n"
          << "leadctl: " << imported << " leads imported before it\n";
      return kExitFailed;
    }
    lines.push_back(line_number);
    if (batch.requests_size() == kImportBatchSize) {
      const int code = ImportBatch(options, *stub, client, batch, lines,
                                   batch_index++, file, imported, out, err);
      if (code != kExitOk) return code;
    }
  }
  if (batch.requests_size() > 0) {
    const int code = ImportBatch(options, *stub, client, batch, lines,
                                 batch_index++, file, imported, out, err);
    if (code != kExitOk) return code;
  }
  if (!options.json) out << "imported " << imported << " leads\n";
  return kExitOk;
}

int LeadCommand(const LeadctlOptions& options,
                const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err) {
  const std::string& verb = args[1];
  const std::string& id = args[2];
  using Stub = v1::LeadService::Stub;
  if (verb == "update" && args.size() == 3) {
    return UpdateLead(options, id, out, err);
  }
  if (verb == "duplicates" && args.size() == 3) {
    return FindDuplicates(options, id, out, err);
  }
  if (verb == "convert" && args.size() == 3) {
    return ConvertLead(options, id, out, err);
  }
  if (verb == "import" && args.size() == 3) {
    return ImportLeads(options, args[2], out, err);
  }
  if (verb == "merge" && args.size() >= 4) {
    Client client(options);
    auto stub = v1::LeadService::NewStub(client.channel());
    v1::MergeLeadsRequest request;
    for (size_t i = 2; i < args.size(); ++i)
      request.add_names(LeadName(args[i]));
    request.set_owner_id(options.owner);
    request.set_team_id(options.team);
    request.set_request_id(options.request_id);
    v1::MergeLeadsResponse response;
    grpc::Status status =
        stub->MergeLeads(client.Context().get(), request, &response);
    if (!status.ok()) return Failed(status, err);
    Print(options, response, out);
    return kExitOk;
  }
  if (verb == "classify" && args.size() == 4) {
    v1::ClassifyLeadRequest request;
    request.set_classification(args[3]);
    return Mutation<v1::ClassifyLeadRequest, v1::ClassifyLeadResponse>(
        options, id, request, &Stub::ClassifyLead, out, err);
  }
  if (verb == "unclassify" && args.size() == 3) {
    return Mutation<v1::ClearClassificationRequest,
                    v1::ClearClassificationResponse>(
        options, id, {}, &Stub::ClearClassification, out, err);
  }
  if (verb == "lose" && args.size() == 3) {
    v1::MarkLeadLostRequest request;
    request.set_lost_reason(options.reason);
    request.set_feedback(options.feedback);
    return Mutation<v1::MarkLeadLostRequest, v1::MarkLeadLostResponse>(
        options, id, request, &Stub::MarkLeadLost, out, err);
  }
  if (verb == "restore" && args.size() == 3) {
    return Mutation<v1::RestoreLeadRequest, v1::RestoreLeadResponse>(
        options, id, {}, &Stub::RestoreLead, out, err);
  }
  if (verb == "win" && args.size() == 3) {
    return Mutation<v1::MarkLeadWonRequest, v1::MarkLeadWonResponse>(
        options, id, {}, &Stub::MarkLeadWon, out, err);
  }
  if (verb == "probability" && args.size() == 4) {
    if (args[3] == "clear") {
      return Mutation<v1::ClearProbabilityOverrideRequest,
                      v1::ClearProbabilityOverrideResponse>(
          options, id, {}, &Stub::ClearProbabilityOverride, out, err);
    }
    double percent = 0;
    if (!absl::SimpleAtod(args[3], &percent)) {
      return Usage(err, absl::StrCat("lead probability: \"", args[3],
                                     "\" is neither a number nor clear"));
    }
    v1::SetProbabilityOverrideRequest request;
    request.set_probability(percent);
    return Mutation<v1::SetProbabilityOverrideRequest,
                    v1::SetProbabilityOverrideResponse>(
        options, id, request, &Stub::SetProbabilityOverride, out, err);
  }
  return Usage(
      err, absl::StrCat("unknown command \"", absl::StrJoin(args, " "), "\""));
}

int GetLead(const LeadctlOptions& options, const std::string& id,
            std::ostream& out, std::ostream& err) {
  Client client(options);
  auto stub = v1::LeadService::NewStub(client.channel());
  v1::GetLeadRequest request;
  request.set_name(LeadName(id));
  v1::GetLeadResponse response;
  grpc::Status status =
      stub->GetLead(client.Context().get(), request, &response);
  if (!status.ok()) return Failed(status, err);
  Print(options, response.lead(), out);
  return kExitOk;
}

// "leads/ID/tasks/T", or "ID/T" for short.
std::string TaskName(const std::string& task) {
  if (absl::StartsWith(task, "leads/")) return task;
  const size_t slash = task.find('/');
  if (slash == std::string::npos) return task;  // the server says what is wrong
  return absl::StrCat("leads/", task.substr(0, slash), "/tasks/",
                      task.substr(slash + 1));
}

// Parses an RFC 3339 time given as flag `flag`.
bool ParseTime(const std::string& flag, const std::string& text,
               google::protobuf::Timestamp* out, std::ostream& err) {
  if (google::protobuf::util::TimeUtil::FromString(text, out)) return true;
  err << "leadctl: --" << flag << ": \"" << text
      << "\" is not an RFC 3339 time (2026-11-22T09:00:00Z)\n";
  return false;
}

int Agenda(const LeadctlOptions& options, const std::string& owner,
           std::ostream& out, std::ostream& err) {
  Client client(options);
  auto stub = v1::TaskService::NewStub(client.channel());
  v1::ListAgendaRequest request;
  request.set_owner_id(owner);
  request.set_page_size(options.page_size);
  request.set_page_token(options.page_token);
  request.set_min_position(options.min_position);
  if (!options.due_by.empty() &&
      !ParseTime("due_by", options.due_by, request.mutable_due_by(), err)) {
    return kExitUsage;
  }
  v1::ListAgendaResponse response;
  grpc::Status status =
      stub->ListAgenda(client.Context().get(), request, &response);
  if (!status.ok()) return Failed(status, err);
  if (options.json) {
    Print(options, response, out);
    return kExitOk;
  }
  for (const v1::AgendaItem& item : response.items()) {
    const v1::Task& task = item.task();
    out << (task.has_due_time()
                ? google::protobuf::util::TimeUtil::ToString(task.due_time())
                : std::string("(no due time)"))
        << "  p" << task.priority() << (item.overdue() ? "  OVERDUE" : "")
        << "  " << task.title() << "  [" << item.lead_display_name() << "]  "
        << task.name() << "\n";
  }
  if (!response.next_page_token().empty()) {
    out << "next_page_token: " << response.next_page_token() << "\n";
  }
  return kExitOk;
}

int TaskCommand(const LeadctlOptions& options,
                const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err) {
  const std::string& verb = args[1];
  Client client(options);
  auto stub = v1::TaskService::NewStub(client.channel());
  if (verb == "create") {
    v1::CreateTaskRequest request;
    request.set_parent(LeadName(args[2]));
    v1::Task* task = request.mutable_task();
    task->set_title(options.title);
    task->set_owner_id(options.owner);
    task->set_priority(options.priority);
    if (options.kind == "contact") {
      task->set_kind(v1::TASK_KIND_CONTACT);
    } else if (options.kind == "follow_up") {
      task->set_kind(v1::TASK_KIND_FOLLOW_UP);
    } else if (options.kind.empty() || options.kind == "custom") {
      task->set_kind(v1::TASK_KIND_CUSTOM);
    } else {
      return Usage(err, "--kind: contact, custom or follow_up");
    }
    if (!options.due.empty() &&
        !ParseTime("due", options.due, task->mutable_due_time(), err)) {
      return kExitUsage;
    }
    request.set_etag(options.etag);
    request.set_request_id(options.request_id);
    v1::CreateTaskResponse response;
    grpc::Status status =
        stub->CreateTask(client.Context().get(), request, &response);
    if (!status.ok()) return Failed(status, err);
    Print(options, response, out);
    return kExitOk;
  }
  if (verb == "complete") {
    v1::CompleteTaskRequest request;
    request.set_name(TaskName(args[2]));
    request.set_outcome(options.outcome);
    request.set_note(options.note);
    for (const std::string& tag : options.tags) request.add_tags(tag);
    if (!options.follow_up_title.empty() || !options.follow_up_due.empty()) {
      request.mutable_follow_up()->set_title(options.follow_up_title);
      if (!ParseTime("follow_up_due", options.follow_up_due,
                     request.mutable_follow_up()->mutable_due_time(), err)) {
        return kExitUsage;
      }
    }
    request.set_etag(options.etag);
    request.set_request_id(options.request_id);
    v1::CompleteTaskResponse response;
    grpc::Status status =
        stub->CompleteTask(client.Context().get(), request, &response);
    if (!status.ok()) return Failed(status, err);
    Print(options, response, out);
    return kExitOk;
  }
  if (verb == "cancel") {
    v1::CancelTaskRequest request;
    request.set_name(TaskName(args[2]));
    request.set_reason(options.reason);
    request.set_etag(options.etag);
    request.set_request_id(options.request_id);
    v1::CancelTaskResponse response;
    grpc::Status status =
        stub->CancelTask(client.Context().get(), request, &response);
    if (!status.ok()) return Failed(status, err);
    Print(options, response, out);
    return kExitOk;
  }
  return Usage(
      err, absl::StrCat("unknown command \"", absl::StrJoin(args, " "), "\""));
}

// Prints one event as a line that says where it is, when, what and who,
// then its payload as JSON on an indented line.
template <typename Event>
void PrintEvent(const Event& event, const std::string& where,
                std::ostream& out) {
  out << where << "  "
      << google::protobuf::util::TimeUtil::ToString(event.recorded_time())
      << "  " << event.type();
  if (!event.actor().empty()) out << "  by " << event.actor();
  if (!event.correlation_id().empty()) {
    out << "  correlation " << event.correlation_id();
  }
  out << "\n";
  if (!event.payload_json().empty()) {
    out << "  " << event.payload_json() << "\n";
  }
}

std::string WhereInLog(const v1::LogEvent& event) {
  return absl::StrCat("position ", event.log_position(), "  ", event.stream(),
                      " version ", event.stream_version());
}

int LeadHistory(const LeadctlOptions& options, const std::string& id,
                std::ostream& out, std::ostream& err) {
  Client client(options);
  auto stub = v1::HistoryService::NewStub(client.channel());
  v1::GetLeadHistoryRequest request;
  request.set_name(LeadName(id));
  request.set_page_size(options.page_size);
  request.set_page_token(options.page_token);
  request.set_min_position(options.min_position);
  v1::GetLeadHistoryResponse response;
  grpc::Status status =
      stub->GetLeadHistory(client.Context().get(), request, &response);
  if (!status.ok()) return Failed(status, err);
  if (options.json) {
    Print(options, response, out);
    return kExitOk;
  }
  for (const v1::LeadHistoryEvent& event : response.events()) {
    PrintEvent(event,
               absl::StrCat("version ", event.stream_version(), "  position ",
                            event.log_position()),
               out);
  }
  if (!response.next_page_token().empty()) {
    out << "next_page_token: " << response.next_page_token() << "\n";
  }
  return kExitOk;
}

int LeadAsOf(const LeadctlOptions& options, const std::string& id,
             std::ostream& out, std::ostream& err) {
  v1::GetLeadAsOfRequest request;
  request.set_name(LeadName(id));
  request.set_min_position(options.min_position);
  if (options.as_of_version.empty() == options.as_of_time.empty()) {
    return Usage(err, "asof: give either --version or --time");
  }
  if (!options.as_of_version.empty()) {
    int64_t version = 0;
    if (!absl::SimpleAtoi(options.as_of_version, &version)) {
      return Usage(err,
                   absl::StrCat("asof: --version \"", options.as_of_version,
                                "\" is not a number"));
    }
    request.set_version(version);
  } else if (!ParseTime("time", options.as_of_time, request.mutable_time(),
                        err)) {
    return kExitUsage;
  }
  Client client(options);
  auto stub = v1::HistoryService::NewStub(client.channel());
  v1::GetLeadAsOfResponse response;
  grpc::Status status =
      stub->GetLeadAsOf(client.Context().get(), request, &response);
  if (!status.ok()) return Failed(status, err);
  Print(options, response, out);
  return kExitOk;
}

int ReadLog(const LeadctlOptions& options, std::ostream& out,
            std::ostream& err) {
  Client client(options);
  auto stub = v1::HistoryService::NewStub(client.channel());
  v1::ReadAllRequest request;
  request.set_from_position(options.from_position);
  request.set_page_size(options.page_size);
  request.set_page_token(options.page_token);
  request.set_min_position(options.min_position);
  for (const std::string& type : options.event_types) {
    request.add_event_types(type);
  }
  v1::ReadAllResponse response;
  grpc::Status status =
      stub->ReadAll(client.Context().get(), request, &response);
  if (!status.ok()) return Failed(status, err);
  if (options.json) {
    Print(options, response, out);
    return kExitOk;
  }
  for (const v1::LogEvent& event : response.events()) {
    PrintEvent(event, WhereInLog(event), out);
  }
  out << "head_position: " << response.head_position() << "\n";
  if (!response.next_page_token().empty()) {
    out << "next_page_token: " << response.next_page_token() << "\n";
  }
  return kExitOk;
}

int SubscribeLog(const LeadctlOptions& options, std::ostream& out,
                 std::ostream& err) {
  if (options.limit < 0) {
    return Usage(err, "log subscribe: --limit must not be negative");
  }
  Client client(options);
  auto stub = v1::HistoryService::NewStub(client.channel());
  v1::SubscribeRequest request;
  request.set_from_position(options.from_position);
  for (const std::string& type : options.event_types) {
    request.add_event_types(type);
  }
  std::unique_ptr<grpc::ClientContext> context = client.Context();
  // The stream has no natural end: only an explicit timeout bounds it.
  context->set_deadline(
      absl::ToChronoTime(absl::Now() + options.subscribe_timeout));
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      stub->Subscribe(context.get(), request);
  int64_t received = 0;
  v1::SubscribeResponse response;
  while ((options.limit == 0 || received < options.limit) &&
         reader->Read(&response)) {
    if (options.json) {
      Print(options, response.event(), out);
    } else {
      PrintEvent(response.event(), WhereInLog(response.event()), out);
    }
    // Each event as it comes, for whoever reads the output live.
    out.flush();
    ++received;
  }
  if (options.limit > 0 && received == options.limit) {
    context->TryCancel();
    reader->Finish();
    return kExitOk;
  }
  grpc::Status status = reader->Finish();
  if (status.ok() ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return kExitOk;
  }
  return Failed(status, err);
}

// Reads the catalogue of the WorkspaceSettings JSON in file `path` into
// `settings`; false, with the reason in `problem`, when it cannot.
bool ReadCatalogue(const std::string& path, v1::WorkspaceSettings& settings,
                   std::string& problem) {
  std::ifstream in(path);
  if (!in.is_open()) {
    problem = absl::StrCat("--catalogue_file ", path, ": cannot open it");
    return false;
  }
  std::stringstream json;
  json << in.rdbuf();
  v1::WorkspaceSettings parsed;
  const auto parsing =
      google::protobuf::util::JsonStringToMessage(json.str(), &parsed);
  if (!parsing.ok()) {
    problem =
        absl::StrCat("--catalogue_file ", path,
                     ": not a WorkspaceSettings in JSON: ", parsing.ToString());
    return false;
  }
  *settings.mutable_catalogue() = parsed.catalogue();
  return true;
}

int SettingsGet(const LeadctlOptions& options, std::ostream& out,
                std::ostream& err) {
  Client client(options);
  auto stub = v1::AdminService::NewStub(client.channel());
  v1::GetWorkspaceSettingsResponse response;
  grpc::Status status = stub->GetWorkspaceSettings(
      client.Context().get(), v1::GetWorkspaceSettingsRequest(), &response);
  if (!status.ok()) return Failed(status, err);
  Print(options, response.settings(), out, Defaults::kShow);
  return kExitOk;
}

int SettingsSet(const LeadctlOptions& options, std::ostream& out,
                std::ostream& err) {
  if (options.given_settings.empty()) {
    return Usage(err, "settings set: give at least one setting to change");
  }
  v1::UpdateWorkspaceSettingsRequest request;
  v1::WorkspaceSettings* settings = request.mutable_settings();
  settings->set_etag(options.etag);
  settings->set_leads_enabled(options.leads_enabled);
  settings->set_skip_weekends(options.skip_weekends);
  settings->set_default_country(options.default_country);
  for (const std::string& reason : options.lost_reasons) {
    settings->add_lost_reasons(reason);
  }
  for (const std::string& stage : options.pipeline) {
    settings->add_pipeline(stage);
  }
  if (!options.catalogue_file.empty()) {
    std::string problem;
    if (!ReadCatalogue(options.catalogue_file, *settings, problem)) {
      return Usage(err, problem);
    }
  }
  for (const std::string& field : options.given_settings) {
    request.mutable_update_mask()->add_paths(field);
  }
  request.set_request_id(options.request_id);
  Client client(options);
  auto stub = v1::AdminService::NewStub(client.channel());
  v1::UpdateWorkspaceSettingsResponse response;
  grpc::Status status =
      stub->UpdateWorkspaceSettings(client.Context().get(), request, &response);
  if (!status.ok()) return Failed(status, err);
  Print(options, response, out, Defaults::kShow);
  return kExitOk;
}

int Backup(const LeadctlOptions& options, const std::string& id,
           std::ostream& out, std::ostream& err) {
  Client client(options);
  auto stub = v1::AdminService::NewStub(client.channel());
  v1::BackupRequest request;
  request.set_backup_id(id);
  v1::BackupResponse response;
  grpc::Status status =
      stub->Backup(client.Context().get(), request, &response);
  if (!status.ok()) return Failed(status, err);
  Print(options, response, out, Defaults::kShow);
  return kExitOk;
}

int Verify(const LeadctlOptions& options, std::ostream& out,
           std::ostream& err) {
  Client client(options);
  auto stub = v1::AdminService::NewStub(client.channel());
  v1::VerifyResponse response;
  grpc::Status status =
      stub->Verify(client.Context().get(), v1::VerifyRequest(), &response);
  if (!status.ok()) return Failed(status, err);
  Print(options, response, out, Defaults::kShow);
  // Scripts and cron jobs learn of a damaged log from the exit code.
  return response.problems().empty() ? kExitOk : kExitFailed;
}

// "hits 940/1000 (94.0%), 812 entries, 1.6/32.0 MiB": what an operator sizes
// the cache by.
std::string CacheSummary(const v1::CacheStatus& cache) {
  const uint64_t lookups = cache.hits() + cache.misses();
  const double hit_percent =
      lookups == 0 ? 0.0 : 100.0 * static_cast<double>(cache.hits()) / lookups;
  constexpr double kMib = 1 << 20;
  return absl::StrFormat("hits %d/%d (%.1f%%), %d entries, %.1f/%.1f MiB",
                         cache.hits(), lookups, hit_percent, cache.entries(),
                         static_cast<double>(cache.bytes()) / kMib,
                         static_cast<double>(cache.capacity_bytes()) / kMib);
}

int ProjectionStatus(const LeadctlOptions& options, std::ostream& out,
                     std::ostream& err) {
  Client client(options);
  auto stub = v1::AdminService::NewStub(client.channel());
  v1::GetProjectionStatusResponse response;
  grpc::Status status = stub->GetProjectionStatus(
      client.Context().get(), v1::GetProjectionStatusRequest(), &response);
  if (!status.ok()) return Failed(status, err);
  if (options.json) {
    Print(options, response, out);
  } else {
    for (const v1::ProjectionStatus& projection : response.projections()) {
      out << projection.name() << "  v" << projection.version() << "  "
          << projection.keyspace() << "  checkpoint " << projection.checkpoint()
          << "  lag " << projection.lag();
      if (projection.has_rebuild()) {
        out << "  rebuilding " << projection.rebuild().events_done() << "/"
            << projection.rebuild().head_position();
      }
      if (projection.has_row_cache()) {
        out << "  row cache " << CacheSummary(projection.row_cache());
      }
      if (!projection.error().empty())
        out << "  STOPPED: " << projection.error();
      out << "\n";
    }
    if (response.has_decoded_lead_cache()) {
      out << "decoded lead cache "
          << CacheSummary(response.decoded_lead_cache()) << "\n";
    }
  }
  // A read model that stopped folding needs an operator.
  for (const v1::ProjectionStatus& projection : response.projections()) {
    if (!projection.error().empty()) return kExitFailed;
  }
  return kExitOk;
}

int RebuildProjections(const LeadctlOptions& options,
                       const std::vector<std::string>& names, std::ostream& out,
                       std::ostream& err) {
  Client client(options);
  auto stub = v1::AdminService::NewStub(client.channel());
  v1::RebuildProjectionRequest request;
  for (const std::string& name : names) request.add_names(name);
  std::unique_ptr<grpc::ClientContext> context = client.Context();
  // A rebuild of a long log outlasts the per-call --timeout; Ctrl-C (or
  // killing leadctl) cancels it, and the serving read models stay.
  context->set_deadline(std::chrono::system_clock::time_point::max());
  auto reader = stub->RebuildProjection(context.get(), request);
  v1::RebuildProjectionResponse response;
  while (reader->Read(&response)) {
    const v1::RebuildProgress& progress = response.progress();
    if (options.json) {
      Print(options, response, out);
    } else {
      out << (progress.promoted() ? "promoted" : "rebuilding") << "  "
          << progress.events_done() << "/" << progress.head_position()
          << " events  " << static_cast<int64_t>(progress.events_per_second())
          << " events/s  eta " << progress.eta().seconds() << " s\n";
    }
    out.flush();
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return Failed(status, err);
  return kExitOk;
}

}  // namespace

int RunLeadctl(const LeadctlOptions& options,
               const std::vector<std::string>& args, std::ostream& out,
               std::ostream& err) {
  if (args.empty()) return Usage(err, "no command");
  if (args[0] == "health" && args.size() == 1) {
    return Health(options, out, err);
  }
  if (args[0] == "agenda" && args.size() == 2) {
    return Agenda(options, args[1], out, err);
  }
  if (args[0] == "task" && args.size() == 3) {
    return TaskCommand(options, args, out, err);
  }
  if (args[0] == "history" && args.size() == 2) {
    return LeadHistory(options, args[1], out, err);
  }
  if (args[0] == "asof" && args.size() == 2) {
    return LeadAsOf(options, args[1], out, err);
  }
  if (args[0] == "log" && args.size() == 2 && args[1] == "read") {
    return ReadLog(options, out, err);
  }
  if (args[0] == "log" && args.size() == 2 && args[1] == "subscribe") {
    return SubscribeLog(options, out, err);
  }
  if (args[0] == "lead" && args.size() >= 2) {
    if (args[1] == "create" && args.size() == 2) {
      return CreateLead(options, out, err);
    }
    if (args[1] == "list" && args.size() == 2) {
      return ListLeads(options, out, err);
    }
    if (args[1] == "get" && args.size() == 3) {
      return GetLead(options, args[2], out, err);
    }
    if (args.size() >= 3) return LeadCommand(options, args, out, err);
  }
  if (args[0] == "settings" && args.size() == 2) {
    if (args[1] == "get") return SettingsGet(options, out, err);
    if (args[1] == "set") return SettingsSet(options, out, err);
  }
  if (args[0] == "backup" && args.size() == 2) {
    return Backup(options, args[1], out, err);
  }
  if (args[0] == "verify" && args.size() == 1) {
    return Verify(options, out, err);
  }
  if (args[0] == "projections" && args.size() == 2 && args[1] == "status") {
    return ProjectionStatus(options, out, err);
  }
  if (args[0] == "projections" && args.size() >= 2 && args[1] == "rebuild") {
    return RebuildProjections(
        options, std::vector<std::string>(args.begin() + 2, args.end()), out,
        err);
  }
  return Usage(
      err, absl::StrCat("unknown command \"", absl::StrJoin(args, " "), "\""));
}

}  // namespace leadledger::tools
