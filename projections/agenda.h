// The agenda read model ("agenda"): every open task, found by its owner in
// the order users work through them, and by its due time for the scheduler's
// timer.
//
// Keys (ids and owners are text without NUL; numbers big-endian so that
// byte order is numeric order):
//   t/<lead>\0<task>                                 -> AgendaTask row
//   n/<lead>                                         -> the lead's display name
//   o/<owner>\0<day>\0<255 - priority>\0<due>\0<lead>\0<task> -> ""
//   d/<due>\0<lead>\0<task>                          -> "" (not yet fallen due)
// where <day> is the due day in the agenda's time zone (4 bytes, biased)
// and <due> the due time in microseconds (8 bytes, biased). A task without
// a due time sorts after every dated one and never falls due.
#ifndef LEADLEDGER_PROJECTIONS_AGENDA_H_
#define LEADLEDGER_PROJECTIONS_AGENDA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "domain/lead.h"
#include "projections/projection.h"
#include "projections/projection_db.h"

namespace leadledger::projections {

inline constexpr char kAgendaProjection[] = "agenda";

// The agenda's spec; due days are taken in `zone` (the owners' zone), so a
// change of zone needs a rebuild of the agenda.
ProjectionSpec AgendaSpec(absl::TimeZone zone);

// One open task as the agenda lists it.
struct AgendaItem {
  std::string lead_id;
  std::string lead_display_name;
  domain::Task task;
};

struct AgendaQuery {
  // Required.
  std::string owner_id;
  // Only tasks due on or before this day (in the agenda's zone); all when
  // unset. Tasks without a due time are listed only when unset.
  std::optional<absl::CivilDay> due_by;
  // 1 to 1000.
  int page_size = 50;
  // From the previous page; empty for the first.
  std::string page_token;
};

struct AgendaPage {
  std::vector<AgendaItem> items;
  // Empty on the last page.
  std::string next_page_token;
};

// Lists an owner's open tasks by due day, then priority (highest first),
// then due time, then lead and task id: a total, stable order, overdue first.
// Errors: INVALID_ARGUMENT naming page_token for a token of another query or
// a damaged one; DATA_LOSS for an unreadable row.
[[nodiscard]] absl::StatusOr<AgendaPage> ListAgenda(ProjectionReader& reader,
                                                    const Keyspace& agenda,
                                                    const AgendaQuery& query);

// An open task whose due time has come or will come, and that has not been
// recorded as fallen due.
struct DueTask {
  absl::Time due_time;
  std::string lead_id;
  std::string task_id;
};

// The first `limit` such tasks in due order, due at or before `until`.
[[nodiscard]] absl::StatusOr<std::vector<DueTask>> TasksFallingDue(
    ProjectionReader& reader, const Keyspace& agenda, absl::Time until,
    int limit);

// When the next task not yet fallen due is due; nullopt when none is.
[[nodiscard]] absl::StatusOr<std::optional<absl::Time>> NextDueTime(
    ProjectionReader& reader, const Keyspace& agenda);

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_AGENDA_H_
