#include "services/lead_service.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "domain/duplicates.h"
#include "domain/id_generator.h"
#include "domain/lead_commands.h"
#include "domain/lead_decider.h"
#include "domain/status_macros.h"
#include "projections/duplicate_index.h"
#include "projections/lead_list.h"
#include "services/grpc_status.h"
#include "services/lead_mapping.h"
#include "services/read_your_writes.h"
#include "services/rpc_support.h"

namespace leadledger::services {
namespace {

constexpr absl::string_view kLeadList = projections::kLeadListProjection;
constexpr absl::string_view kDuplicates =
    projections::kDuplicateIndexProjection;

constexpr int kDefaultPageSize = 50;
// Filter values longer than this are refused: they bound the work of a
// query and the size of its page tokens.
constexpr size_t kMaxFilterLength = 256;
// A token holds the last index key examined: a filter value and a little
// more, base64-encoded.
constexpr size_t kMaxPageTokenLength = 1024;
// Largest BatchCreateLeads.
constexpr int kMaxBatchLeads = 1000;
// Longest a conversion waits for the customer email index to reach the head
// of the log before it gives up with UNAVAILABLE.
constexpr absl::Duration kCustomerLookupWait = absl::Seconds(5);

absl::StatusOr<std::optional<domain::LeadKind>> KindFilter(v1::LeadKind kind) {
  switch (kind) {
    case v1::LEAD_KIND_UNSPECIFIED:
      return std::nullopt;
    case v1::LEAD_KIND_LEAD:
      return domain::LeadKind::kLead;
    case v1::LEAD_KIND_OPPORTUNITY:
      return domain::LeadKind::kOpportunity;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("kind: unknown value ", static_cast<int>(kind)));
  }
}

absl::StatusOr<std::optional<domain::LeadStatus>> StatusFilter(
    v1::LeadStatus status) {
  switch (status) {
    case v1::LEAD_STATUS_UNSPECIFIED:
      return std::nullopt;
    case v1::LEAD_STATUS_ACTIVE:
      return domain::LeadStatus::kActive;
    case v1::LEAD_STATUS_LOST:
      return domain::LeadStatus::kLost;
    case v1::LEAD_STATUS_WON:
      return domain::LeadStatus::kWon;
    case v1::LEAD_STATUS_MERGED:
      return domain::LeadStatus::kMerged;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("status: unknown value ", static_cast<int>(status)));
  }
}

absl::StatusOr<projections::LeadOrder> OrderOf(absl::string_view order_by) {
  // AIP-132: a field and an optional direction; spacing is free.
  const std::vector<absl::string_view> words =
      absl::StrSplit(order_by, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  const std::string normalized = absl::StrJoin(words, " ");
  if (normalized.empty() || normalized == "create_time" ||
      normalized == "create_time asc") {
    return projections::LeadOrder::kCreatedAscending;
  }
  if (normalized == "create_time desc") {
    return projections::LeadOrder::kCreatedDescending;
  }
  if (normalized == "update_time desc") {
    return projections::LeadOrder::kUpdatedDescending;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("order_by: \"", order_by.substr(0, 64),
                   "\" is not one of \"create_time\", \"create_time desc\", "
                   "\"update_time desc\""));
}

absl::Status BoundedFilter(absl::string_view field, absl::string_view value) {
  if (value.size() > kMaxFilterLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxFilterLength, " bytes"));
  }
  return absl::OkStatus();
}

v1::DuplicateCriterion ToProto(domain::DuplicateCriterion criterion) {
  switch (criterion) {
    case domain::DuplicateCriterion::kEmail:
      return v1::DUPLICATE_CRITERION_EMAIL;
    case domain::DuplicateCriterion::kPhone:
      return v1::DUPLICATE_CRITERION_PHONE;
    case domain::DuplicateCriterion::kCustomer:
      return v1::DUPLICATE_CRITERION_CUSTOMER;
  }
  return v1::DUPLICATE_CRITERION_UNSPECIFIED;
}

absl::StatusOr<domain::CustomerAction> ActionOf(v1::CustomerAction action) {
  switch (action) {
    case v1::CUSTOMER_ACTION_UNSPECIFIED:
      return domain::CustomerAction::kDefault;
    case v1::CUSTOMER_ACTION_LINK_EXISTING:
      return domain::CustomerAction::kLinkExisting;
    case v1::CUSTOMER_ACTION_CREATE_NEW:
      return domain::CustomerAction::kCreateNew;
    case v1::CUSTOMER_ACTION_NONE:
      return domain::CustomerAction::kNone;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "customer_action: unknown value ", static_cast<int>(action)));
  }
}

// Customer ids share the alphabet and bounds of lead ids.
absl::Status ValidCustomerId(absl::string_view id) {
  if (id.empty()) return absl::OkStatus();
  if (id.size() > kMaxLeadIdLength ||
      !std::all_of(id.begin(), id.end(), [](char c) {
        return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' ||
               c == '-';
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat("customer_id: 1 to ", kMaxLeadIdLength, " of [a-z0-9_-]"));
  }
  return absl::OkStatus();
}

// Renames the field a merge decision names ("lead_ids", "opportunities")
// to the request's.
absl::Status InMergeInto(absl::Status status) {
  if (!absl::IsInvalidArgument(status)) return status;
  absl::string_view message = status.message();
  for (absl::string_view field : {"lead_ids", "opportunities"}) {
    if (absl::ConsumePrefix(&message, field)) {
      return absl::InvalidArgumentError(absl::StrCat("merge_into", message));
    }
  }
  return status;
}

}  // namespace

LeadServiceImpl::LeadServiceImpl(LeadCommandHandler* handler,
                                 const Clock* clock, IdGenerator* ids,
                                 RpcEnv env,
                                 const WorkspaceSettingsStore* settings,
                                 projections::ProjectionRunner* read_models,
                                 projections::ProjectionDb* projection_db,
                                 FollowUpScheduler* scheduler,
                                 projections::DecodedLeadCache* decoded_leads)
    : handler_(handler),
      clock_(clock),
      ids_(ids),
      env_(env),
      settings_(settings),
      read_models_(read_models),
      projection_db_(projection_db),
      scheduler_(scheduler),
      decoded_leads_(decoded_leads) {
  SetMessageAllocatorFor_ListLeads(&list_leads_messages_);
  SetMessageAllocatorFor_FindDuplicates(&find_duplicates_messages_);
}

grpc::ServerUnaryReactor* LeadServiceImpl::CreateLead(
    grpc::CallbackServerContext* context, const v1::CreateLeadRequest* request,
    v1::CreateLeadResponse* response) {
  return Answer(env_, context, [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(CallContext call, CallContextFromMetadata(*context));
    return DoCreateLead(call, *request, *response);
  });
}

grpc::ServerUnaryReactor* LeadServiceImpl::GetLead(
    grpc::CallbackServerContext* context, const v1::GetLeadRequest* request,
    v1::GetLeadResponse* response) {
  return Answer(
      env_, context,
      [=, this] { return DoGetLead(*context, *request, *response); },
      CallKind::kQuery);
}

absl::Status LeadServiceImpl::DoCreateLead(const CallContext& call,
                                           const v1::CreateLeadRequest& request,
                                           v1::CreateLeadResponse& response) {
  if (!request.has_lead()) {
    return absl::InvalidArgumentError("lead: required");
  }
  ASSIGN_OR_RETURN(MutationOptions mutation,
                   IdempotencyOf("CreateLead", request));
  // A retry must name the same lead, so its id follows from the request.
  const std::string lead_id =
      request.request_id().empty()
          ? ids_->NewId()
          : DeriveId(absl::StrCat("lead/", request.request_id()));
  domain::CreateLead command{.lead_id = lead_id,
                             .profile = ProfileFromProto(request.lead()),
                             .settings = Settings(),
                             .now = clock_->Now()};
  absl::StatusOr<LeadSnapshot> created =
      handler_->Execute(command.lead_id, command, call, mutation);
  if (!created.ok()) return InRequestField("lead.", created.status());
  LeadToProto(created->lead, created->version, *response.mutable_lead());
  response.set_log_position(created->log_position);
  return absl::OkStatus();
}

template <typename Request, typename Response>
absl::Status LeadServiceImpl::Mutate(absl::string_view method,
                                     const CallContext& call,
                                     const Request& request,
                                     const LeadTarget& target,
                                     const domain::LeadCommand& command,
                                     Response& response) {
  ASSIGN_OR_RETURN(
      std::string lead_id,
      LeadIdFromName(absl::StrCat(target.prefix, "name"), target.name));
  ASSIGN_OR_RETURN(MutationOptions mutation, IdempotencyOf(method, request));
  absl::StatusOr<std::optional<int64_t>> etag = ParseEtag(target.etag);
  if (!etag.ok()) return InRequestField(target.prefix, etag.status());
  mutation.expected_version = *etag;
  absl::StatusOr<LeadSnapshot> snapshot =
      handler_->Execute(lead_id, command, call, mutation);
  if (!snapshot.ok()) return InRequestField(target.prefix, snapshot.status());
  LeadToProto(snapshot->lead, snapshot->version, *response.mutable_lead());
  response.set_log_position(snapshot->log_position);
  return absl::OkStatus();
}

template <typename Request, typename Response, typename MakeCommand>
grpc::ServerUnaryReactor* LeadServiceImpl::AnswerMutation(
    absl::string_view method, grpc::CallbackServerContext* context,
    const Request* request, Response* response, MakeCommand make_command) {
  return Answer(
      env_, context,
      [=, this, make_command = std::move(make_command)]() -> absl::Status {
        ASSIGN_OR_RETURN(CallContext call, CallContextFromMetadata(*context));
        const domain::LeadCommand command = make_command(clock_->Now());
        return Mutate(
            method, call, *request,
            LeadTarget{.name = request->name(), .etag = request->etag()},
            command, *response);
      });
}

grpc::ServerUnaryReactor* LeadServiceImpl::UpdateLead(
    grpc::CallbackServerContext* context, const v1::UpdateLeadRequest* request,
    v1::UpdateLeadResponse* response) {
  return Answer(env_, context, [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(CallContext call, CallContextFromMetadata(*context));
    return DoUpdateLead(call, *request, *response);
  });
}

absl::Status LeadServiceImpl::DoUpdateLead(const CallContext& call,
                                           const v1::UpdateLeadRequest& request,
                                           v1::UpdateLeadResponse& response) {
  if (!request.has_lead()) return absl::InvalidArgumentError("lead: required");
  domain::UpdateLead command{.profile = ProfileFromProto(request.lead()),
                             .stage = request.lead().stage(),
                             .settings = Settings(),
                             .now = clock_->Now()};
  for (const std::string& path : request.update_mask().paths()) {
    std::optional<domain::LeadField> field = domain::LeadFieldFromName(path);
    if (!field.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: \"", path.substr(0, 64),
                       "\" is not an updatable field of Lead"));
    }
    command.fields.insert(*field);
  }
  return Mutate("UpdateLead", call, request,
                LeadTarget{.name = request.lead().name(),
                           .etag = request.lead().etag(),
                           .prefix = "lead."},
                command, response);
}

grpc::ServerUnaryReactor* LeadServiceImpl::ClassifyLead(
    grpc::CallbackServerContext* context,
    const v1::ClassifyLeadRequest* request,
    v1::ClassifyLeadResponse* response) {
  return AnswerMutation(
      "ClassifyLead", context, request, response, [=, this](absl::Time now) {
        return domain::LeadCommand(
            domain::ClassifyLead{.outcome_id = request->classification(),
                                 .settings = Settings(),
                                 .now = now});
      });
}

grpc::ServerUnaryReactor* LeadServiceImpl::ClearClassification(
    grpc::CallbackServerContext* context,
    const v1::ClearClassificationRequest* request,
    v1::ClearClassificationResponse* response) {
  return AnswerMutation(
      "ClearClassification", context, request, response,
      [=, this](absl::Time now) {
        return domain::LeadCommand(domain::ClassifyLead{
            .outcome_id = "", .settings = Settings(), .now = now});
      });
}

grpc::ServerUnaryReactor* LeadServiceImpl::MarkLeadLost(
    grpc::CallbackServerContext* context,
    const v1::MarkLeadLostRequest* request,
    v1::MarkLeadLostResponse* response) {
  return AnswerMutation(
      "MarkLeadLost", context, request, response, [=, this](absl::Time now) {
        return domain::LeadCommand(
            domain::MarkLeadLost{.reason = request->lost_reason(),
                                 .feedback = request->feedback(),
                                 .settings = Settings(),
                                 .now = now});
      });
}

grpc::ServerUnaryReactor* LeadServiceImpl::RestoreLead(
    grpc::CallbackServerContext* context, const v1::RestoreLeadRequest* request,
    v1::RestoreLeadResponse* response) {
  return AnswerMutation(
      "RestoreLead", context, request, response, [=, this](absl::Time now) {
        return domain::LeadCommand(domain::RestoreLead{.now = now});
      });
}

grpc::ServerUnaryReactor* LeadServiceImpl::MarkLeadWon(
    grpc::CallbackServerContext* context, const v1::MarkLeadWonRequest* request,
    v1::MarkLeadWonResponse* response) {
  return AnswerMutation(
      "MarkLeadWon", context, request, response, [=, this](absl::Time now) {
        return domain::LeadCommand(
            domain::MarkLeadWon{.settings = Settings(), .now = now});
      });
}

grpc::ServerUnaryReactor* LeadServiceImpl::SetProbabilityOverride(
    grpc::CallbackServerContext* context,
    const v1::SetProbabilityOverrideRequest* request,
    v1::SetProbabilityOverrideResponse* response) {
  return AnswerMutation(
      "SetProbabilityOverride", context, request, response,
      [=, this](absl::Time now) {
        return domain::LeadCommand(domain::SetProbabilityOverride{
            .value = request->probability(), .now = now});
      });
}

grpc::ServerUnaryReactor* LeadServiceImpl::ClearProbabilityOverride(
    grpc::CallbackServerContext* context,
    const v1::ClearProbabilityOverrideRequest* request,
    v1::ClearProbabilityOverrideResponse* response) {
  return AnswerMutation("ClearProbabilityOverride", context, request, response,
                        [=](absl::Time now) {
                          return domain::LeadCommand(
                              domain::ClearProbabilityOverride{.now = now});
                        });
}

grpc::ServerUnaryReactor* LeadServiceImpl::MergeLeads(
    grpc::CallbackServerContext* context, const v1::MergeLeadsRequest* request,
    v1::MergeLeadsResponse* response) {
  return Answer(env_, context, [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(CallContext call, CallContextFromMetadata(*context));
    return DoMergeLeads(call, *request, *response);
  });
}

absl::Status LeadServiceImpl::DoMergeLeads(const CallContext& call,
                                           const v1::MergeLeadsRequest& request,
                                           v1::MergeLeadsResponse& response) {
  if (request.names_size() > static_cast<int>(domain::kMaxMergeLeads)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "names: at most ", domain::kMaxMergeLeads, " leads merge at once"));
  }
  domain::MergeLeads command{.owner_id = request.owner_id(),
                             .team_id = request.team_id(),
                             .settings = Settings(),
                             .now = clock_->Now()};
  for (int i = 0; i < request.names_size(); ++i) {
    ASSIGN_OR_RETURN(
        std::string lead_id,
        LeadIdFromName(absl::StrCat("names[", i, "]"), request.names(i)));
    command.lead_ids.push_back(std::move(lead_id));
  }
  ASSIGN_OR_RETURN(MutationOptions mutation,
                   IdempotencyOf("MergeLeads", request));
  absl::StatusOr<LeadCommandHandler::MergeResult> merged =
      handler_->ExecuteMerge(command, call, mutation);
  if (!merged.ok()) {
    // The domain names its input "lead_ids"; callers sent "names".
    if (absl::IsInvalidArgument(merged.status()) &&
        absl::StartsWith(merged.status().message(), "lead_ids")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "names", merged.status().message().substr(strlen("lead_ids"))));
    }
    return merged.status();
  }
  LeadToProto(merged->head.lead, merged->head.version,
              *response.mutable_lead());
  for (const std::string& id : merged->merged_ids) {
    response.add_merged_leads(LeadName(id));
  }
  response.set_log_position(merged->head.log_position);
  return absl::OkStatus();
}

absl::Status LeadServiceImpl::DoGetLead(
    const grpc::CallbackServerContext& context,
    const v1::GetLeadRequest& request, v1::GetLeadResponse& response) {
  ASSIGN_OR_RETURN(std::string lead_id, LeadIdFromName("name", request.name()));
  RETURN_IF_ERROR(WaitForMinPosition(context, request.min_position(),
                                     {std::string(kLeadList)}));
  // The lead's own stream is the freshest view of one lead, and shows a
  // merged-away lead as it stands (status MERGED, merged_into set).
  ASSIGN_OR_RETURN(LeadSnapshot snapshot, handler_->Load(lead_id));
  LeadToProto(snapshot.lead, snapshot.version, *response.mutable_lead());
  return absl::OkStatus();
}

absl::Status LeadServiceImpl::WaitForMinPosition(
    const grpc::CallbackServerContext& context, uint64_t min_position,
    std::vector<std::string> read_models) {
  if (min_position == 0) return absl::OkStatus();
  const absl::Time deadline =
      std::min(DeadlineOf(context), absl::Now() + kMaxReadModelWait);
  return WaitForReadModels(*read_models_, *scheduler_, read_models,
                           min_position, deadline);
}

absl::StatusOr<projections::KeyspaceRef> LeadServiceImpl::ReadModel(
    absl::string_view name) {
  projections::KeyspaceRef keyspace = projection_db_->Live(name);
  if (keyspace == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("read model ", name, " is not ready yet; retry"));
  }
  return keyspace;
}

grpc::ServerUnaryReactor* LeadServiceImpl::ListLeads(
    grpc::CallbackServerContext* context, const v1::ListLeadsRequest* request,
    v1::ListLeadsResponse* response) {
  return Answer(
      env_, context,
      [=, this] { return DoListLeads(*context, *request, *response); },
      CallKind::kQuery);
}

absl::Status LeadServiceImpl::DoListLeads(
    const grpc::CallbackServerContext& context,
    const v1::ListLeadsRequest& request, v1::ListLeadsResponse& response) {
  projections::LeadListQuery query;
  if (request.page_size() < 0) {
    return absl::InvalidArgumentError("page_size: must not be negative");
  }
  if (request.page_size() > projections::kMaxLeadPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: at most ", projections::kMaxLeadPageSize));
  }
  query.page_size =
      request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  ASSIGN_OR_RETURN(query.kind, KindFilter(request.kind()));
  ASSIGN_OR_RETURN(query.status, StatusFilter(request.status()));
  ASSIGN_OR_RETURN(query.order, OrderOf(request.order_by()));
  for (const auto& [field, value] :
       {std::pair<absl::string_view, const std::string*>{"owner_id",
                                                         &request.owner_id()},
        {"team_id", &request.team_id()},
        {"classification", &request.classification()},
        {"tag", &request.tag()},
        {"stage", &request.stage()},
        {"text", &request.text()}}) {
    RETURN_IF_ERROR(BoundedFilter(field, *value));
  }
  if (request.page_token().size() > kMaxPageTokenLength) {
    return absl::InvalidArgumentError(
        "page_token: not a page token of ListLeads");
  }
  query.owner_id = request.owner_id();
  query.team_id = request.team_id();
  query.classification = request.classification();
  query.tag = request.tag();
  query.stage = request.stage();
  query.text = request.text();
  query.page_token = request.page_token();
  RETURN_IF_ERROR(WaitForMinPosition(context, request.min_position(),
                                     {std::string(kLeadList)}));
  ASSIGN_OR_RETURN(projections::KeyspaceRef leads, ReadModel(kLeadList));
  std::unique_ptr<projections::ProjectionReader> reader =
      projection_db_->NewReader();
  ASSIGN_OR_RETURN(
      projections::LeadListPage page,
      projections::ListLeads(*reader, *leads, query, decoded_leads_));
  for (const std::shared_ptr<const projections::StoredLead>& stored :
       page.leads) {
    LeadToProto(stored->lead, stored->version, *response.add_leads());
  }
  response.set_next_page_token(page.next_page_token);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* LeadServiceImpl::FindDuplicates(
    grpc::CallbackServerContext* context,
    const v1::FindDuplicatesRequest* request,
    v1::FindDuplicatesResponse* response) {
  return Answer(
      env_, context,
      [=, this] { return DoFindDuplicates(*context, *request, *response); },
      CallKind::kQuery);
}

absl::Status LeadServiceImpl::DoFindDuplicates(
    const grpc::CallbackServerContext& context,
    const v1::FindDuplicatesRequest& request,
    v1::FindDuplicatesResponse& response) {
  ASSIGN_OR_RETURN(std::string lead_id, LeadIdFromName("name", request.name()));
  RETURN_IF_ERROR(
      WaitForMinPosition(context, request.min_position(),
                         {std::string(kLeadList), std::string(kDuplicates)}));
  ASSIGN_OR_RETURN(projections::KeyspaceRef leads, ReadModel(kLeadList));
  ASSIGN_OR_RETURN(projections::KeyspaceRef index, ReadModel(kDuplicates));
  // One snapshot for both read models, which the runner commits together.
  std::unique_ptr<projections::ProjectionReader> reader =
      projection_db_->NewReader();
  ASSIGN_OR_RETURN(std::optional<projections::StoredLead> stored,
                   projections::ReadLead(*reader, *leads, lead_id));
  if (!stored.has_value()) {
    return absl::NotFoundError(absl::StrCat(
        "lead ", lead_id,
        " not found (pass the log_position of its creation as min_position "
        "to read a lead just created)"));
  }
  if (stored->lead.status == domain::LeadStatus::kMerged) {
    ASSIGN_OR_RETURN(std::optional<projections::StoredLead> survivor,
                     projections::FollowMerges(*reader, *leads, lead_id));
    return absl::FailedPreconditionError(
        absl::StrCat("lead ", lead_id, " was merged into ",
                     LeadName(survivor.has_value() ? survivor->lead.id
                                                   : stored->lead.merged_into),
                     "; ask for the duplicates of that lead"));
  }
  ASSIGN_OR_RETURN(std::vector<domain::CriterionMatches> matches,
                   projections::FindDuplicates(*reader, *index, stored->lead));
  // Why each suggestion was made: the criteria that kept it, i.e. that were
  // not dropped as too generic.
  std::map<std::string, std::vector<v1::DuplicateCriterion>> criteria;
  for (const domain::CriterionMatches& match : matches) {
    if (domain::SelectDuplicates(lead_id, {match}).empty()) continue;
    for (const std::string& id : match.lead_ids) {
      std::vector<v1::DuplicateCriterion>& of = criteria[id];
      const v1::DuplicateCriterion criterion = ToProto(match.criterion);
      if (std::find(of.begin(), of.end(), criterion) == of.end()) {
        of.push_back(criterion);
      }
    }
  }
  const std::vector<std::string> selected =
      domain::SelectDuplicates(lead_id, matches);
  ASSIGN_OR_RETURN(
      std::vector<std::shared_ptr<const projections::StoredLead>> rows,
      projections::ReadLeads(*reader, *leads, selected, decoded_leads_));
  for (size_t i = 0; i < selected.size(); ++i) {
    if (rows[i] == nullptr) continue;
    v1::Duplicate* out = response.add_duplicates();
    LeadToProto(rows[i]->lead, rows[i]->version, *out->mutable_lead());
    for (v1::DuplicateCriterion criterion : criteria[selected[i]]) {
      out->add_criteria(criterion);
    }
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* LeadServiceImpl::ConvertLead(
    grpc::CallbackServerContext* context, const v1::ConvertLeadRequest* request,
    v1::ConvertLeadResponse* response) {
  return Answer(env_, context, [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(CallContext call, CallContextFromMetadata(*context));
    return DoConvertLead(*context, call, *request, *response);
  });
}

absl::Status LeadServiceImpl::DoConvertLead(
    const grpc::CallbackServerContext& context, const CallContext& call,
    const v1::ConvertLeadRequest& request, v1::ConvertLeadResponse& response) {
  ASSIGN_OR_RETURN(std::string lead_id, LeadIdFromName("name", request.name()));
  if (request.merge_into_size() > 0) {
    return DoConvertByMerge(call, request, lead_id, response);
  }
  ASSIGN_OR_RETURN(domain::CustomerAction action,
                   ActionOf(request.customer_action()));
  RETURN_IF_ERROR(ValidCustomerId(request.customer_id()));
  if (!request.customer_id().empty() &&
      action != domain::CustomerAction::kLinkExisting) {
    return absl::InvalidArgumentError(
        "customer_id: only with customer_action "
        "CUSTOMER_ACTION_LINK_EXISTING");
  }
  ASSIGN_OR_RETURN(MutationOptions mutation,
                   IdempotencyOf("ConvertLead", request));
  ASSIGN_OR_RETURN(mutation.expected_version, ParseEtag(request.etag()));
  domain::ConvertLead command{
      .owner_id = request.owner_id(),
      .team_id = request.team_id(),
      .customer_action = action,
      .customer_id = request.customer_id(),
      // A retry must name the same customer, so its id follows from the
      // request.
      .new_customer_id =
          request.request_id().empty()
              ? ids_->NewId()
              : DeriveId(absl::StrCat("customer/", request.request_id())),
      .settings = Settings(),
      .now = clock_->Now()};
  // The customer email index is a read model: it must have folded every
  // customer created before the conversion decides, else a customer
  // created a moment ago would be created twice.
  const absl::Time call_deadline = DeadlineOf(context);
  auto lookup =
      [&](absl::string_view email,
          uint64_t position) -> absl::StatusOr<std::optional<std::string>> {
    const absl::Time bound = absl::Now() + kCustomerLookupWait;
    absl::Status folded = read_models_->WaitUntilFolded(
        {std::string(kDuplicates)}, position, std::min(call_deadline, bound));
    if (absl::IsDeadlineExceeded(folded) && bound < call_deadline) {
      return absl::UnavailableError(
          "the customer email index is behind the event log; retry");
    }
    RETURN_IF_ERROR(folded);
    ASSIGN_OR_RETURN(projections::KeyspaceRef index, ReadModel(kDuplicates));
    std::unique_ptr<projections::ProjectionReader> reader =
        projection_db_->NewReader();
    return projections::CustomerWithEmail(*reader, *index, email);
  };
  ASSIGN_OR_RETURN(
      LeadCommandHandler::ConversionResult converted,
      handler_->ExecuteConversion(lead_id, command, lookup, call, mutation));
  LeadToProto(converted.lead.lead, converted.lead.version,
              *response.mutable_lead());
  response.set_customer_id(converted.customer_id);
  response.set_customer_created(converted.customer_created);
  response.set_log_position(converted.lead.log_position);
  return absl::OkStatus();
}

absl::Status LeadServiceImpl::DoConvertByMerge(
    const CallContext& call, const v1::ConvertLeadRequest& request,
    const std::string& lead_id, v1::ConvertLeadResponse& response) {
  if (request.customer_action() != v1::CUSTOMER_ACTION_UNSPECIFIED ||
      !request.customer_id().empty()) {
    return absl::InvalidArgumentError(
        "customer_action: must be unset with merge_into (the merge resolves "
        "the customer)");
  }
  if (request.merge_into_size() >= static_cast<int>(domain::kMaxMergeLeads)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "merge_into: at most ", domain::kMaxMergeLeads - 1, " opportunities"));
  }
  domain::MergeLeads command{.lead_ids = {lead_id},
                             .owner_id = request.owner_id(),
                             .team_id = request.team_id(),
                             .settings = Settings(),
                             .now = clock_->Now()};
  for (int i = 0; i < request.merge_into_size(); ++i) {
    ASSIGN_OR_RETURN(std::string id,
                     LeadIdFromName(absl::StrCat("merge_into[", i, "]"),
                                    request.merge_into(i)));
    command.lead_ids.push_back(std::move(id));
  }
  ASSIGN_OR_RETURN(MutationOptions mutation,
                   IdempotencyOf("ConvertLead", request));
  ASSIGN_OR_RETURN(mutation.expected_version, ParseEtag(request.etag()));
  absl::StatusOr<LeadCommandHandler::MergeResult> merged =
      handler_->ExecuteConversionByMerge(command, call, mutation);
  if (!merged.ok()) return InMergeInto(merged.status());
  LeadToProto(merged->head.lead, merged->head.version,
              *response.mutable_lead());
  response.set_customer_id(merged->head.lead.customer_id);
  for (const std::string& id : merged->merged_ids) {
    response.add_merged_leads(LeadName(id));
  }
  response.set_log_position(merged->head.log_position);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* LeadServiceImpl::BatchCreateLeads(
    grpc::CallbackServerContext* context,
    const v1::BatchCreateLeadsRequest* request,
    v1::BatchCreateLeadsResponse* response) {
  return Answer(env_, context, [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(CallContext call, CallContextFromMetadata(*context));
    return DoBatchCreateLeads(call, *request, *response);
  });
}

absl::Status LeadServiceImpl::DoBatchCreateLeads(
    const CallContext& call, const v1::BatchCreateLeadsRequest& request,
    v1::BatchCreateLeadsResponse& response) {
  if (request.requests_size() == 0) {
    return absl::InvalidArgumentError("requests: name at least one lead");
  }
  if (request.requests_size() > kMaxBatchLeads) {
    return absl::InvalidArgumentError(
        absl::StrCat("requests: at most ", kMaxBatchLeads,
                     " leads per call, not ", request.requests_size()));
  }
  ASSIGN_OR_RETURN(MutationOptions mutation,
                   IdempotencyOf("BatchCreateLeads", request));
  const absl::Time now = clock_->Now();
  std::vector<domain::CreateLead> commands;
  std::map<std::string, int> request_ids;
  // Every item is checked before anything is written, so the error names
  // the first bad one and the batch stays all or nothing.
  for (int i = 0; i < request.requests_size(); ++i) {
    const v1::CreateLeadRequest& item = request.requests(i);
    const std::string prefix = absl::StrCat("requests[", i, "].");
    if (!item.has_lead()) {
      return absl::InvalidArgumentError(absl::StrCat(prefix, "lead: required"));
    }
    RETURN_IF_ERROR(InRequestField(prefix, ValidRequestId(item.request_id())));
    std::string lead_id;
    if (!item.request_id().empty()) {
      auto [first, added] = request_ids.emplace(item.request_id(), i);
      if (!added) {
        return absl::InvalidArgumentError(absl::StrCat(
            prefix, "request_id: same as requests[", first->second, "]"));
      }
      lead_id = DeriveId(absl::StrCat("lead/", item.request_id()));
    } else if (!request.request_id().empty()) {
      // A retry of the batch must name the same leads.
      lead_id = DeriveId(absl::StrCat("lead/", request.request_id(), "/", i));
    } else {
      lead_id = ids_->NewId();
    }
    domain::CreateLead command{.lead_id = std::move(lead_id),
                               .profile = ProfileFromProto(item.lead()),
                               .settings = Settings(),
                               .now = now};
    absl::StatusOr<std::vector<domain::LeadEvent>> decided =
        domain::Decide(domain::Lead{}, command);
    if (!decided.ok()) {
      return InRequestField(absl::StrCat(prefix, "lead."), decided.status());
    }
    commands.push_back(std::move(command));
  }
  ASSIGN_OR_RETURN(LeadCommandHandler::BatchResult created,
                   handler_->ExecuteCreateBatch(commands, call, mutation));
  for (const LeadSnapshot& lead : created.leads) {
    LeadToProto(lead.lead, lead.version, *response.add_leads());
    response.add_log_positions(lead.log_position);
  }
  response.set_log_position(created.log_position);
  return absl::OkStatus();
}

}  // namespace leadledger::services
