#include "services/lead_service.h"

#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "domain/id_generator.h"
#include "domain/lead_commands.h"
#include "domain/lead_decider.h"
#include "domain/status_macros.h"
#include "services/grpc_status.h"
#include "services/lead_mapping.h"
#include "services/rpc_support.h"

namespace leadledger::services {
LeadServiceImpl::LeadServiceImpl(LeadCommandHandler* handler,
                                 const Clock* clock, IdGenerator* ids,
                                 RpcEnv env,
                                 const WorkspaceSettingsStore* settings)
    : handler_(handler),
      clock_(clock),
      ids_(ids),
      env_(env),
      settings_(settings) {}

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
  return Answer(env_, context,
                [=, this] { return DoGetLead(*request, *response); });
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
  *response.mutable_lead() = LeadToProto(created->lead, created->version);
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
  *response.mutable_lead() = LeadToProto(snapshot->lead, snapshot->version);
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
  *response.mutable_lead() =
      LeadToProto(merged->head.lead, merged->head.version);
  for (const std::string& id : merged->merged_ids) {
    response.add_merged_leads(LeadName(id));
  }
  response.set_log_position(merged->head.log_position);
  return absl::OkStatus();
}

absl::Status LeadServiceImpl::DoGetLead(const v1::GetLeadRequest& request,
                                        v1::GetLeadResponse& response) {
  ASSIGN_OR_RETURN(std::string lead_id, LeadIdFromName("name", request.name()));
  ASSIGN_OR_RETURN(LeadSnapshot snapshot, handler_->Load(lead_id));
  *response.mutable_lead() = LeadToProto(snapshot.lead, snapshot.version);
  return absl::OkStatus();
}

}  // namespace leadledger::services
