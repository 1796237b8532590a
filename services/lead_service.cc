#include "services/lead_service.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "domain/lead_commands.h"
#include "domain/status_macros.h"
#include "services/grpc_status.h"
#include "services/lead_mapping.h"

namespace leadledger::services {
namespace {

constexpr size_t kMaxMetadataValueLength = 256;

// Prefixes the field named in a domain INVALID_ARGUMENT with the request
// field that holds it ("display_name: ..." -> "lead.display_name: ...").
absl::Status InRequestField(absl::string_view prefix, absl::Status status) {
  if (!absl::IsInvalidArgument(status)) return status;
  return absl::InvalidArgumentError(
      absl::StrCat(prefix, ".", status.message()));
}

absl::StatusOr<std::string> MetadataValue(
    const grpc::CallbackServerContext& context, absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return std::string();
  if (it->second.size() > kMaxMetadataValueLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metadata ", key, ": longer than ", kMaxMetadataValueLength, " bytes"));
  }
  return std::string(it->second.data(), it->second.size());
}

// Runs `body` as one tracked call and finishes the RPC with its status.
template <typename Body>
grpc::ServerUnaryReactor* Answer(CallTracker& calls,
                                 grpc::CallbackServerContext* context,
                                 Body body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::optional<CallTracker::Scope> call = calls.Enter();
  if (!call.has_value()) {
    reactor->Finish(ToGrpcStatus(
        absl::UnavailableError("server is shutting down; retry elsewhere")));
  } else {
    reactor->Finish(ToGrpcStatus(body()));
  }
  return reactor;
}

}  // namespace

absl::StatusOr<CallContext> CallContextFromMetadata(
    const grpc::CallbackServerContext& context) {
  CallContext call;
  ASSIGN_OR_RETURN(call.actor, MetadataValue(context, "x-actor"));
  ASSIGN_OR_RETURN(call.correlation_id,
                   MetadataValue(context, "x-correlation-id"));
  return call;
}

LeadServiceImpl::LeadServiceImpl(LeadCommandHandler* handler,
                                 const Clock* clock, IdGenerator* ids,
                                 CallTracker* calls,
                                 domain::WorkspaceSettings settings)
    : handler_(handler),
      clock_(clock),
      ids_(ids),
      calls_(calls),
      settings_(std::move(settings)) {}

grpc::ServerUnaryReactor* LeadServiceImpl::CreateLead(
    grpc::CallbackServerContext* context, const v1::CreateLeadRequest* request,
    v1::CreateLeadResponse* response) {
  return Answer(*calls_, context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(CallContext call, CallContextFromMetadata(*context));
    return DoCreateLead(call, *request, *response);
  });
}

grpc::ServerUnaryReactor* LeadServiceImpl::GetLead(
    grpc::CallbackServerContext* context, const v1::GetLeadRequest* request,
    v1::GetLeadResponse* response) {
  return Answer(*calls_, context,
                [&] { return DoGetLead(*request, *response); });
}

absl::Status LeadServiceImpl::DoCreateLead(const CallContext& call,
                                           const v1::CreateLeadRequest& request,
                                           v1::CreateLeadResponse& response) {
  if (!request.has_lead()) {
    return absl::InvalidArgumentError("lead: required");
  }
  domain::CreateLead command{.lead_id = ids_->NewId(),
                             .profile = ProfileFromProto(request.lead()),
                             .settings = settings_,
                             .now = clock_->Now()};
  absl::StatusOr<LeadSnapshot> created =
      handler_->Execute(command.lead_id, command, call);
  if (!created.ok()) return InRequestField("lead", created.status());
  *response.mutable_lead() = LeadToProto(created->lead, created->version);
  response.set_log_position(created->log_position);
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
