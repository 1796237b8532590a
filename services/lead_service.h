// LeadService over gRPC (callback API). Each method validates and maps its
// request, calls the command handler (mutations) or reads a read model
// (queries), and maps the result: no business rule lives here.
#ifndef LEADLEDGER_SERVICES_LEAD_SERVICE_H_
#define LEADLEDGER_SERVICES_LEAD_SERVICE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "domain/clock.h"
#include "domain/id_generator.h"
#include "domain/workspace.h"
#include "grpcpp/grpcpp.h"
#include "leadledger/v1/lead_service.grpc.pb.h"
#include "projections/decoded_lead_cache.h"
#include "projections/projection_db.h"
#include "projections/projection_runner.h"
#include "services/arena_messages.h"
#include "services/follow_up_scheduler.h"
#include "services/lead_command_handler.h"
#include "services/rpc_support.h"
#include "services/workspace_settings.h"

namespace leadledger::services {

// Longest a query waits for the read models to reach its min_position.
inline constexpr absl::Duration kMaxReadModelWait = absl::Seconds(30);

// Thread-safe. The pointers given to the constructor must outlive the
// service.
class LeadServiceImpl final : public v1::LeadService::CallbackService {
 public:
  // Every call runs on `env.workers`, counted in `env.calls`, and decides
  // with the workspace settings `settings` holds when it runs. Queries read
  // the "leads" and "duplicates" read models of `projection_db`, which
  // `read_models` keeps folded; `min_position` also waits for `scheduler`'s
  // effects, so a follow-up shows with the write that caused it. Pages of
  // leads and duplicate lists decode their rows through `decoded_leads`;
  // each row anew when it is nullptr.
  LeadServiceImpl(LeadCommandHandler* handler, const Clock* clock,
                  IdGenerator* ids, RpcEnv env,
                  const WorkspaceSettingsStore* settings,
                  projections::ProjectionRunner* read_models,
                  projections::ProjectionDb* projection_db,
                  FollowUpScheduler* scheduler,
                  projections::DecodedLeadCache* decoded_leads);

  grpc::ServerUnaryReactor* CreateLead(
      grpc::CallbackServerContext* context,
      const v1::CreateLeadRequest* request,
      v1::CreateLeadResponse* response) override;

  grpc::ServerUnaryReactor* GetLead(grpc::CallbackServerContext* context,
                                    const v1::GetLeadRequest* request,
                                    v1::GetLeadResponse* response) override;
  grpc::ServerUnaryReactor* UpdateLead(
      grpc::CallbackServerContext* context,
      const v1::UpdateLeadRequest* request,
      v1::UpdateLeadResponse* response) override;
  grpc::ServerUnaryReactor* ClassifyLead(
      grpc::CallbackServerContext* context,
      const v1::ClassifyLeadRequest* request,
      v1::ClassifyLeadResponse* response) override;
  grpc::ServerUnaryReactor* ClearClassification(
      grpc::CallbackServerContext* context,
      const v1::ClearClassificationRequest* request,
      v1::ClearClassificationResponse* response) override;
  grpc::ServerUnaryReactor* MarkLeadLost(
      grpc::CallbackServerContext* context,
      const v1::MarkLeadLostRequest* request,
      v1::MarkLeadLostResponse* response) override;
  grpc::ServerUnaryReactor* RestoreLead(
      grpc::CallbackServerContext* context,
      const v1::RestoreLeadRequest* request,
      v1::RestoreLeadResponse* response) override;
  grpc::ServerUnaryReactor* MarkLeadWon(
      grpc::CallbackServerContext* context,
      const v1::MarkLeadWonRequest* request,
      v1::MarkLeadWonResponse* response) override;
  grpc::ServerUnaryReactor* SetProbabilityOverride(
      grpc::CallbackServerContext* context,
      const v1::SetProbabilityOverrideRequest* request,
      v1::SetProbabilityOverrideResponse* response) override;
  grpc::ServerUnaryReactor* ClearProbabilityOverride(
      grpc::CallbackServerContext* context,
      const v1::ClearProbabilityOverrideRequest* request,
      v1::ClearProbabilityOverrideResponse* response) override;
  grpc::ServerUnaryReactor* MergeLeads(
      grpc::CallbackServerContext* context,
      const v1::MergeLeadsRequest* request,
      v1::MergeLeadsResponse* response) override;
  grpc::ServerUnaryReactor* ListLeads(grpc::CallbackServerContext* context,
                                      const v1::ListLeadsRequest* request,
                                      v1::ListLeadsResponse* response) override;
  grpc::ServerUnaryReactor* FindDuplicates(
      grpc::CallbackServerContext* context,
      const v1::FindDuplicatesRequest* request,
      v1::FindDuplicatesResponse* response) override;
  grpc::ServerUnaryReactor* ConvertLead(
      grpc::CallbackServerContext* context,
      const v1::ConvertLeadRequest* request,
      v1::ConvertLeadResponse* response) override;
  grpc::ServerUnaryReactor* BatchCreateLeads(
      grpc::CallbackServerContext* context,
      const v1::BatchCreateLeadsRequest* request,
      v1::BatchCreateLeadsResponse* response) override;

 private:
  // Pages of leads are built on arenas. (One lead costs no less so.)
  ArenaMessages<v1::ListLeadsRequest, v1::ListLeadsResponse>
      list_leads_messages_;
  ArenaMessages<v1::FindDuplicatesRequest, v1::FindDuplicatesResponse>
      find_duplicates_messages_;

  absl::Status DoCreateLead(const CallContext& call,
                            const v1::CreateLeadRequest& request,
                            v1::CreateLeadResponse& response);
  absl::Status DoGetLead(const grpc::CallbackServerContext& context,
                         const v1::GetLeadRequest& request,
                         v1::GetLeadResponse& response);
  absl::Status DoListLeads(const grpc::CallbackServerContext& context,
                           const v1::ListLeadsRequest& request,
                           v1::ListLeadsResponse& response);
  absl::Status DoFindDuplicates(const grpc::CallbackServerContext& context,
                                const v1::FindDuplicatesRequest& request,
                                v1::FindDuplicatesResponse& response);
  absl::Status DoConvertLead(const grpc::CallbackServerContext& context,
                             const CallContext& call,
                             const v1::ConvertLeadRequest& request,
                             v1::ConvertLeadResponse& response);
  absl::Status DoConvertByMerge(const CallContext& call,
                                const v1::ConvertLeadRequest& request,
                                const std::string& lead_id,
                                v1::ConvertLeadResponse& response);
  absl::Status DoBatchCreateLeads(const CallContext& call,
                                  const v1::BatchCreateLeadsRequest& request,
                                  v1::BatchCreateLeadsResponse& response);

  // The one wait behind every query's min_position: returns once the read
  // models `read_models` have folded the event log up to `min_position`
  // (at once for 0). Waits until the call's deadline, and never longer than
  // kMaxReadModelWait, so a call without a deadline cannot hold a worker
  // for good. Errors: DEADLINE_EXCEEDED when the position is not reached in
  // time; UNAVAILABLE when a read model has stopped or the server is
  // stopping.
  absl::Status WaitForMinPosition(const grpc::CallbackServerContext& context,
                                  uint64_t min_position,
                                  std::vector<std::string> read_models);
  // The keyspace serving read model `name`.
  // Errors: UNAVAILABLE when it has none yet.
  absl::StatusOr<projections::KeyspaceRef> ReadModel(absl::string_view name);
  absl::Status DoMergeLeads(const CallContext& call,
                            const v1::MergeLeadsRequest& request,
                            v1::MergeLeadsResponse& response);
  absl::Status DoUpdateLead(const CallContext& call,
                            const v1::UpdateLeadRequest& request,
                            v1::UpdateLeadResponse& response);

  // Where a mutation request names its lead: the name and etag, and the
  // prefix of their fields in the request ("" or "lead.").
  struct LeadTarget {
    const std::string& name;
    const std::string& etag;
    absl::string_view prefix;
  };

  // Runs `command` on `target` as one mutation of RPC `method` (etag check,
  // request_id retries) and fills `response` (a message with `lead` and
  // `log_position`).
  template <typename Request, typename Response>
  absl::Status Mutate(absl::string_view method, const CallContext& call,
                      const Request& request, const LeadTarget& target,
                      const domain::LeadCommand& command, Response& response);
  // Answers a unary RPC whose request names a lead and an etag.
  template <typename Request, typename Response, typename MakeCommand>
  grpc::ServerUnaryReactor* AnswerMutation(absl::string_view method,
                                           grpc::CallbackServerContext* context,
                                           const Request* request,
                                           Response* response,
                                           MakeCommand make_command);

  // The workspace settings in force now: a change made through AdminService
  // applies to the next call.
  domain::WorkspaceSettings Settings() const { return *settings_->Current(); }

  LeadCommandHandler* const handler_;
  const Clock* const clock_;
  IdGenerator* const ids_;
  const RpcEnv env_;
  const WorkspaceSettingsStore* const settings_;
  projections::ProjectionRunner* const read_models_;
  projections::ProjectionDb* const projection_db_;
  FollowUpScheduler* const scheduler_;
  projections::DecodedLeadCache* const decoded_leads_;
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_LEAD_SERVICE_H_
