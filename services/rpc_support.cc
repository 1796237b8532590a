#include "services/rpc_support.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "domain/status_macros.h"

namespace leadledger::services {
namespace {

constexpr size_t kMaxMetadataValueLength = 256;

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

}  // namespace

absl::Time DeadlineOf(const grpc::CallbackServerContext& context) {
  const std::chrono::system_clock::time_point deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

absl::Status CallStillWanted(grpc::CallbackServerContext& context) {
  if (context.IsCancelled()) {
    return absl::CancelledError("the call was cancelled");
  }
  if (absl::Now() >= DeadlineOf(context)) {
    return absl::DeadlineExceededError("the call's deadline passed");
  }
  return absl::OkStatus();
}

absl::StatusOr<CallContext> CallContextFromMetadata(
    const grpc::CallbackServerContext& context) {
  CallContext call;
  absl::StatusOr<std::string> actor = MetadataValue(context, "x-actor");
  if (!actor.ok()) return actor.status();
  call.actor = *std::move(actor);
  absl::StatusOr<std::string> correlation =
      MetadataValue(context, "x-correlation-id");
  if (!correlation.ok()) return correlation.status();
  call.correlation_id = *std::move(correlation);
  return call;
}

absl::Status ValidRequestId(const std::string& request_id) {
  if (request_id.size() > kMaxRequestIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request_id: longer than ", kMaxRequestIdLength, " characters"));
  }
  for (char c : request_id) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          "request_id: only printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int64_t>> ParseEtag(const std::string& etag) {
  if (etag.empty()) return std::nullopt;
  int64_t version = 0;
  if (!absl::SimpleAtoi(etag, &version) || version < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("etag: \"", etag.substr(0, 32), "\" is not an etag"));
  }
  return version;
}

absl::Status InRequestField(absl::string_view prefix, absl::Status status) {
  if (prefix.empty() || !absl::IsInvalidArgument(status)) return status;
  return absl::InvalidArgumentError(absl::StrCat(prefix, status.message()));
}

// A call that waits for min_position gives up this long before its
// deadline, so that its answer (which names the position and the head)
// reaches the caller before the caller's own deadline fires.
constexpr absl::Duration kPositionDeadlineMargin = absl::Milliseconds(50);

absl::Status AwaitLogPosition(eventstore::EventStore& store,
                              grpc::CallbackServerContext& context,
                              uint64_t min_position, absl::Duration slice) {
  if (store.HeadPosition() >= min_position) return absl::OkStatus();
  const absl::Time deadline = DeadlineOf(context) - kPositionDeadlineMargin;
  // A subscription from min_position wakes this call on the commit that
  // reaches it, instead of polling the head.
  ASSIGN_OR_RETURN(std::unique_ptr<eventstore::Subscription> subscription,
                   store.SubscribeAll({.from_position = min_position}));
  while (store.HeadPosition() < min_position) {
    if (context.IsCancelled()) {
      return absl::CancelledError("the call was cancelled");
    }
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "min_position: the log did not reach position ", min_position,
          " before the call's deadline; its head is at ",
          store.HeadPosition()));
    }
    absl::StatusOr<std::vector<eventstore::RecordedEvent>> arrived =
        subscription->Next(std::min(deadline, now + slice));
    if (!arrived.ok()) {
      return absl::IsCancelled(arrived.status())
                 ? absl::UnavailableError("the event log is closing")
                 : arrived.status();
    }
  }
  return absl::OkStatus();
}

}  // namespace leadledger::services
