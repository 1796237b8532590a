// Early-return helpers for absl::Status and absl::StatusOr.
//
// Debian's Abseil (20220623) ships no public status macros; these carry the
// names later Abseil and most Google code bases use, so an upgrade is a
// deletion of this file and a rename of the include.
#ifndef LEADLEDGER_DOMAIN_STATUS_MACROS_H_
#define LEADLEDGER_DOMAIN_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns the status of `expr` from the enclosing function unless it is OK.
#define RETURN_IF_ERROR(expr)                                         \
  do {                                                                \
    if (absl::Status status_ = (expr); !status_.ok()) return status_; \
  } while (false)

#define LEADLEDGER_STATUS_CONCAT_INNER_(a, b) a##b
#define LEADLEDGER_STATUS_CONCAT_(a, b) LEADLEDGER_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, else moves the value into `lhs`, which may be a
// declaration: ASSIGN_OR_RETURN(auto lead, Load(id));
#define ASSIGN_OR_RETURN(lhs, rexpr)                                          \
  ASSIGN_OR_RETURN_IMPL_(LEADLEDGER_STATUS_CONCAT_(statusor_, __LINE__), lhs, \
                         rexpr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr)       \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

#endif  // LEADLEDGER_DOMAIN_STATUS_MACROS_H_
