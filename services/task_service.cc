#include "services/task_service.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "domain/lead_commands.h"
#include "domain/status_macros.h"
#include "projections/agenda.h"
#include "services/history_mapping.h"
#include "services/lead_mapping.h"
#include "services/read_your_writes.h"

namespace leadledger::services {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;
constexpr int kMaxTaskPriority = 100;
constexpr size_t kMaxTags = 100;

struct TaskRef {
  std::string lead_id;
  std::string task_id;
};

// "leads/{lead_id}/tasks/{task_id}".
absl::StatusOr<TaskRef> TaskRefFromName(absl::string_view field,
                                        absl::string_view name) {
  const size_t split = name.find("/tasks/");
  if (split == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", name.substr(0, 128),
        "\" is not a task name (leads/{lead_id}/tasks/{task_id})"));
  }
  ASSIGN_OR_RETURN(std::string lead_id,
                   LeadIdFromName(field, name.substr(0, split)));
  std::string task_id(name.substr(split + strlen("/tasks/")));
  if (task_id.empty() || task_id.size() > 128 ||
      absl::StrContains(task_id, '/')) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": the task id must be 1 to 128 bytes without '/'"));
  }
  return TaskRef{.lead_id = std::move(lead_id), .task_id = std::move(task_id)};
}

v1::TaskKind KindToProto(domain::TaskKind kind) {
  switch (kind) {
    case domain::TaskKind::kContact:
      return v1::TASK_KIND_CONTACT;
    case domain::TaskKind::kFollowUp:
      return v1::TASK_KIND_FOLLOW_UP;
    case domain::TaskKind::kCustom:
      return v1::TASK_KIND_CUSTOM;
  }
  return v1::TASK_KIND_UNSPECIFIED;
}

v1::TaskStatus StatusToProto(domain::TaskStatus status) {
  switch (status) {
    case domain::TaskStatus::kOpen:
      return v1::TASK_STATUS_OPEN;
    case domain::TaskStatus::kDone:
      return v1::TASK_STATUS_DONE;
    case domain::TaskStatus::kCancelled:
      return v1::TASK_STATUS_CANCELLED;
  }
  return v1::TASK_STATUS_UNSPECIFIED;
}

v1::Task TaskToProto(absl::string_view lead_id, const domain::Task& task) {
  v1::Task out;
  out.set_name(TaskName(lead_id, task.id));
  out.set_owner_id(task.owner_id);
  out.set_kind(KindToProto(task.kind));
  out.set_title(task.title);
  if (task.due_time != absl::InfinitePast()) {
    *out.mutable_due_time() = ToTimestamp(task.due_time);
  }
  out.set_priority(task.priority);
  out.set_status(StatusToProto(task.status));
  out.set_automatic(task.automatic);
  out.set_cause_event_id(task.cause_event_id);
  out.set_fell_due(task.fell_due);
  return out;
}

// A task id for a task the request creates: derived from the request id, so
// that a retry names the same task, else fresh.
std::string NewTaskId(IdGenerator& ids, absl::string_view purpose,
                      absl::string_view lead_id,
                      const std::string& request_id) {
  if (request_id.empty()) return ids.NewId();
  return DeriveId(absl::StrCat(purpose, "/", lead_id, "/", request_id));
}

}  // namespace

std::string TaskName(absl::string_view lead_id, absl::string_view task_id) {
  return absl::StrCat(LeadName(lead_id), "/tasks/", task_id);
}

TaskServiceImpl::TaskServiceImpl(TaskServiceDeps deps, RpcEnv env)
    : deps_(std::move(deps)), env_(env) {
  SetMessageAllocatorFor_ListAgenda(&list_agenda_messages_);
}

grpc::ServerUnaryReactor* TaskServiceImpl::ListAgenda(
    grpc::CallbackServerContext* context, const v1::ListAgendaRequest* request,
    v1::ListAgendaResponse* response) {
  return Answer(
      env_, context,
      [=, this] {
        return DoListAgenda(*request, DeadlineOf(*context), *response);
      },
      CallKind::kQuery);
}

absl::Status TaskServiceImpl::DoListAgenda(const v1::ListAgendaRequest& request,
                                           absl::Time deadline,
                                           v1::ListAgendaResponse& response) {
  projections::AgendaQuery query{.owner_id = request.owner_id(),
                                 .page_size = request.page_size(),
                                 .page_token = request.page_token()};
  if (query.owner_id.empty()) {
    return absl::InvalidArgumentError("owner_id: required");
  }
  if (query.owner_id.size() > 256) {
    return absl::InvalidArgumentError("owner_id: longer than 256 bytes");
  }
  if (query.page_size == 0) query.page_size = kDefaultPageSize;
  if (query.page_size < 0 || query.page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must be 0 to ", kMaxPageSize));
  }
  if (request.has_due_by()) {
    ASSIGN_OR_RETURN(absl::Time due_by,
                     FromTimestamp("due_by", request.due_by()));
    query.due_by = absl::ToCivilDay(due_by, deps_.zone);
  }
  const std::vector<std::string> agenda = {projections::kAgendaProjection};
  RETURN_IF_ERROR(WaitForReadModels(*deps_.read_models, *deps_.scheduler,
                                    agenda, request.min_position(), deadline));
  projections::KeyspaceRef keyspace =
      deps_.projection_db->Live(projections::kAgendaProjection);
  if (keyspace == nullptr) {
    return absl::UnavailableError("the agenda is not ready yet; retry");
  }
  std::unique_ptr<projections::ProjectionReader> reader =
      deps_.projection_db->NewReader();
  ASSIGN_OR_RETURN(projections::AgendaPage page,
                   projections::ListAgenda(*reader, *keyspace, query));
  const absl::Time start_of_today = absl::FromCivil(
      absl::ToCivilDay(deps_.clock->Now(), deps_.zone), deps_.zone);
  for (const projections::AgendaItem& item : page.items) {
    v1::AgendaItem* out = response.add_items();
    *out->mutable_task() = TaskToProto(item.lead_id, item.task);
    out->set_lead(LeadName(item.lead_id));
    out->set_lead_display_name(item.lead_display_name);
    out->set_overdue(item.task.due_time != absl::InfinitePast() &&
                     item.task.due_time < start_of_today);
  }
  response.set_next_page_token(page.next_page_token);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* TaskServiceImpl::CompleteTask(
    grpc::CallbackServerContext* context,
    const v1::CompleteTaskRequest* request,
    v1::CompleteTaskResponse* response) {
  return Answer(env_, context, [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(CallContext call, CallContextFromMetadata(*context));
    return DoCompleteTask(call, *request, *response);
  });
}

absl::Status TaskServiceImpl::DoCompleteTask(
    const CallContext& call, const v1::CompleteTaskRequest& request,
    v1::CompleteTaskResponse& response) {
  ASSIGN_OR_RETURN(TaskRef task, TaskRefFromName("name", request.name()));
  ASSIGN_OR_RETURN(MutationOptions mutation,
                   IdempotencyOf("CompleteTask", request));
  ASSIGN_OR_RETURN(mutation.expected_version, ParseEtag(request.etag()));
  if (static_cast<size_t>(request.tags_size()) > kMaxTags) {
    return absl::InvalidArgumentError(
        absl::StrCat("tags: at most ", kMaxTags, " tags"));
  }
  domain::CompleteTask command{
      .task_id = task.task_id,
      .outcome_id = request.outcome(),
      .note = request.note(),
      .tags = {request.tags().begin(), request.tags().end()},
      .settings = deps_.settings(),
      .now = deps_.clock->Now()};
  std::string follow_up_id;
  if (request.has_follow_up()) {
    if (!request.follow_up().has_due_time()) {
      return absl::InvalidArgumentError("follow_up.due_time: required");
    }
    ASSIGN_OR_RETURN(
        absl::Time due,
        FromTimestamp("follow_up.due_time", request.follow_up().due_time()));
    follow_up_id =
        NewTaskId(*deps_.ids, "followup", task.lead_id, request.request_id());
    command.follow_up =
        domain::ManualFollowUp{.task_id = follow_up_id,
                               .title = request.follow_up().title(),
                               .due_time = due};
  }
  ASSIGN_OR_RETURN(
      LeadSnapshot snapshot,
      deps_.handler->Execute(task.lead_id, command, call, mutation));
  LeadToProto(snapshot.lead, snapshot.version, *response.mutable_lead());
  if (!follow_up_id.empty()) {
    auto it = snapshot.lead.open_tasks.find(follow_up_id);
    if (it != snapshot.lead.open_tasks.end()) {
      *response.mutable_follow_up() = TaskToProto(task.lead_id, it->second);
    }
  }
  response.set_log_position(snapshot.log_position);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* TaskServiceImpl::CreateTask(
    grpc::CallbackServerContext* context, const v1::CreateTaskRequest* request,
    v1::CreateTaskResponse* response) {
  return Answer(env_, context, [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(CallContext call, CallContextFromMetadata(*context));
    return DoCreateTask(call, *request, *response);
  });
}

absl::Status TaskServiceImpl::DoCreateTask(const CallContext& call,
                                           const v1::CreateTaskRequest& request,
                                           v1::CreateTaskResponse& response) {
  ASSIGN_OR_RETURN(std::string lead_id,
                   LeadIdFromName("parent", request.parent()));
  ASSIGN_OR_RETURN(MutationOptions mutation,
                   IdempotencyOf("CreateTask", request));
  ASSIGN_OR_RETURN(mutation.expected_version, ParseEtag(request.etag()));
  if (!request.has_task()) return absl::InvalidArgumentError("task: required");
  const v1::Task& task = request.task();
  if (task.priority() < 0 || task.priority() > kMaxTaskPriority) {
    return absl::InvalidArgumentError(
        absl::StrCat("task.priority: must be 0 to ", kMaxTaskPriority));
  }
  if (task.owner_id().size() > 256) {
    return absl::InvalidArgumentError("task.owner_id: longer than 256 bytes");
  }
  domain::TaskKind kind = domain::TaskKind::kCustom;
  switch (task.kind()) {
    case v1::TASK_KIND_UNSPECIFIED:
    case v1::TASK_KIND_CUSTOM:
      break;
    case v1::TASK_KIND_CONTACT:
      kind = domain::TaskKind::kContact;
      break;
    case v1::TASK_KIND_FOLLOW_UP:
      kind = domain::TaskKind::kFollowUp;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("task.kind: unknown value ", task.kind()));
  }
  absl::Time due = absl::InfinitePast();
  if (task.has_due_time()) {
    ASSIGN_OR_RETURN(due, FromTimestamp("task.due_time", task.due_time()));
  }
  const std::string task_id =
      NewTaskId(*deps_.ids, "task", lead_id, request.request_id());
  domain::CreateTask command{.task_id = task_id,
                             .owner_id = task.owner_id(),
                             .kind = kind,
                             .title = task.title(),
                             .due_time = due,
                             .priority = task.priority(),
                             .now = deps_.clock->Now()};
  absl::StatusOr<LeadSnapshot> snapshot =
      deps_.handler->Execute(lead_id, command, call, mutation);
  if (!snapshot.ok()) return InRequestField("task.", snapshot.status());
  auto it = snapshot->lead.open_tasks.find(task_id);
  if (it != snapshot->lead.open_tasks.end()) {
    *response.mutable_task() = TaskToProto(lead_id, it->second);
  } else {
    // A retry after the task was closed: the task is no longer open, but
    // its name is still the answer.
    response.mutable_task()->set_name(TaskName(lead_id, task_id));
  }
  response.set_lead_etag(absl::StrCat(snapshot->version));
  response.set_log_position(snapshot->log_position);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* TaskServiceImpl::CancelTask(
    grpc::CallbackServerContext* context, const v1::CancelTaskRequest* request,
    v1::CancelTaskResponse* response) {
  return Answer(env_, context, [=, this]() -> absl::Status {
    ASSIGN_OR_RETURN(CallContext call, CallContextFromMetadata(*context));
    return DoCancelTask(call, *request, *response);
  });
}

absl::Status TaskServiceImpl::DoCancelTask(const CallContext& call,
                                           const v1::CancelTaskRequest& request,
                                           v1::CancelTaskResponse& response) {
  ASSIGN_OR_RETURN(TaskRef task, TaskRefFromName("name", request.name()));
  ASSIGN_OR_RETURN(MutationOptions mutation,
                   IdempotencyOf("CancelTask", request));
  ASSIGN_OR_RETURN(mutation.expected_version, ParseEtag(request.etag()));
  domain::CancelTask command{.task_id = task.task_id,
                             .reason = request.reason(),
                             .now = deps_.clock->Now()};
  ASSIGN_OR_RETURN(
      LeadSnapshot snapshot,
      deps_.handler->Execute(task.lead_id, command, call, mutation));
  LeadToProto(snapshot.lead, snapshot.version, *response.mutable_lead());
  response.set_log_position(snapshot.log_position);
  return absl::OkStatus();
}

}  // namespace leadledger::services
