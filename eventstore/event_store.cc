#include "eventstore/event_store.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace leadledger::eventstore {
namespace {

constexpr char kCurrentVersionPayload[] =
    "leadledger.eventstore/current_version";

}  // namespace

bool ExpectedVersion::IsSatisfiedBy(int64_t current) const {
  switch (kind_) {
    case Kind::kAny:
      return true;
    case Kind::kNoStream:
      return current == kNoStreamVersion;
    case Kind::kStreamExists:
      return current != kNoStreamVersion;
    case Kind::kExact:
      return current == version_;
  }
  return false;
}

std::string ExpectedVersion::DebugString() const {
  switch (kind_) {
    case Kind::kAny:
      return "any";
    case Kind::kNoStream:
      return "no stream";
    case Kind::kStreamExists:
      return "stream exists";
    case Kind::kExact:
      return absl::StrCat(version_);
  }
  return "?";
}

absl::Status WrongVersionError(absl::string_view stream,
                               const ExpectedVersion& expected,
                               int64_t current) {
  absl::Status status = absl::AbortedError(
      absl::StrCat("stream ", stream, ": expected version ",
                   expected.DebugString(), ", current version ", current));
  status.SetPayload(kCurrentVersionPayload, absl::Cord(absl::StrCat(current)));
  return status;
}

std::optional<int64_t> CurrentVersionOf(const absl::Status& aborted) {
  if (!absl::IsAborted(aborted)) return std::nullopt;
  auto payload = aborted.GetPayload(kCurrentVersionPayload);
  int64_t version = 0;
  if (!payload.has_value() ||
      !absl::SimpleAtoi(std::string(*payload), &version)) {
    return std::nullopt;
  }
  return version;
}

}  // namespace leadledger::eventstore
