// The canonical name of a gRPC status code ("INVALID_ARGUMENT"), for the
// command-line tools' messages and reports.
#ifndef LEADLEDGER_TOOLS_STATUS_CODE_NAME_H_
#define LEADLEDGER_TOOLS_STATUS_CODE_NAME_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/support/status_code_enum.h"

namespace leadledger::tools {

inline std::string StatusCodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index < static_cast<int>(std::size(kNames))
             ? kNames[index]
             : absl::StrCat(index);
}

}  // namespace leadledger::tools

#endif  // LEADLEDGER_TOOLS_STATUS_CODE_NAME_H_
