// TaskService over gRPC (callback API): the agenda query and the task
// mutations. Mutations go through the command handler like every lead
// mutation; ListAgenda reads the agenda read model.
#ifndef LEADLEDGER_SERVICES_TASK_SERVICE_H_
#define LEADLEDGER_SERVICES_TASK_SERVICE_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "domain/clock.h"
#include "domain/id_generator.h"
#include "domain/workspace.h"
#include "grpcpp/grpcpp.h"
#include "leadledger/v1/task_service.grpc.pb.h"
#include "projections/projection_db.h"
#include "projections/projection_runner.h"
#include "services/arena_messages.h"
#include "services/follow_up_scheduler.h"
#include "services/lead_command_handler.h"
#include "services/rpc_support.h"

namespace leadledger::services {

// Everything TaskServiceImpl reads and writes through. Pointers must outlive
// the service.
struct TaskServiceDeps {
  LeadCommandHandler* handler = nullptr;
  projections::ProjectionDb* projection_db = nullptr;
  projections::ProjectionRunner* read_models = nullptr;
  FollowUpScheduler* scheduler = nullptr;
  const Clock* clock = nullptr;
  IdGenerator* ids = nullptr;
  // The workspace settings in force.
  std::function<domain::WorkspaceSettings()> settings;
  // The zone agenda days are counted in.
  absl::TimeZone zone = absl::UTCTimeZone();
};

// "leads/{lead_id}/tasks/{task_id}".
std::string TaskName(absl::string_view lead_id, absl::string_view task_id);

// Thread-safe.
class TaskServiceImpl final : public v1::TaskService::CallbackService {
 public:
  TaskServiceImpl(TaskServiceDeps deps, RpcEnv env);

  grpc::ServerUnaryReactor* ListAgenda(
      grpc::CallbackServerContext* context,
      const v1::ListAgendaRequest* request,
      v1::ListAgendaResponse* response) override;
  grpc::ServerUnaryReactor* CompleteTask(
      grpc::CallbackServerContext* context,
      const v1::CompleteTaskRequest* request,
      v1::CompleteTaskResponse* response) override;
  grpc::ServerUnaryReactor* CreateTask(
      grpc::CallbackServerContext* context,
      const v1::CreateTaskRequest* request,
      v1::CreateTaskResponse* response) override;
  grpc::ServerUnaryReactor* CancelTask(
      grpc::CallbackServerContext* context,
      const v1::CancelTaskRequest* request,
      v1::CancelTaskResponse* response) override;

 private:
  // Pages of tasks are built on arenas.
  ArenaMessages<v1::ListAgendaRequest, v1::ListAgendaResponse>
      list_agenda_messages_;

  absl::Status DoListAgenda(const v1::ListAgendaRequest& request,
                            absl::Time deadline,
                            v1::ListAgendaResponse& response);
  absl::Status DoCompleteTask(const CallContext& call,
                              const v1::CompleteTaskRequest& request,
                              v1::CompleteTaskResponse& response);
  absl::Status DoCreateTask(const CallContext& call,
                            const v1::CreateTaskRequest& request,
                            v1::CreateTaskResponse& response);
  absl::Status DoCancelTask(const CallContext& call,
                            const v1::CancelTaskRequest& request,
                            v1::CancelTaskResponse& response);

  const TaskServiceDeps deps_;
  const RpcEnv env_;
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_TASK_SERVICE_H_
