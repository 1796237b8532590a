// The classification catalogue and follow-up timing of SPEC §3 (PULSE) as
// pure functions over plain values.
//
// A catalogue lists the outcomes a salesperson may pick when classifying a
// lead or completing a task. Some outcomes classify the lead (they attach a
// tag and rank the lead's tasks); the others only decide whether and when a
// follow-up task is due. The catalogue is workspace data: DefaultCatalogue()
// holds the six PULSE outcomes, and a workspace may replace it with any
// catalogue that ValidateCatalogue() accepts.
//
// Nothing here reads a clock or loads a time zone: callers pass the moment of
// the command and the owner's zone, already loaded.
#ifndef LEADLEDGER_DOMAIN_CLASSIFICATION_H_
#define LEADLEDGER_DOMAIN_CLASSIFICATION_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace leadledger::domain {

// One outcome of the catalogue.
struct Outcome {
  // Stable identifier stored in events, e.g. "POTENTIAL_CONSULTANT": 1 to
  // kMaxOutcomeIdLength characters of [A-Z0-9_]. Renaming an outcome changes
  // its label, never its id.
  std::string id;
  // What users see, e.g. "Potential consultant".
  std::string label;
  // Whether picking the outcome sets the lead's classification. Outcomes that
  // do not classify leave the current classification untouched.
  bool classifies = false;
  // The tag attached to the lead while it holds this classification; set
  // exactly when `classifies` is.
  std::string tag;
  // Days from the command to the follow-up task's due day; nullopt when the
  // outcome schedules no task.
  std::optional<int> follow_up_days;
  // Order of urgency among classifying outcomes: a lower rank is more urgent.
  // Equal ranks are equally urgent. Ignored when `classifies` is false.
  int rank = 0;

  bool operator==(const Outcome&) const = default;
};

// The outcomes of one workspace, in the order users are offered them.
using Catalogue = std::vector<Outcome>;

inline constexpr int kMaxOutcomes = 50;
inline constexpr int kMaxOutcomeIdLength = 64;
// Ten years: a longer delay is a typing error, not a plan.
inline constexpr int kMaxFollowUpDays = 3650;

// The six PULSE outcomes of SPEC §3, most promising first: four classify
// (Potential consultant +7 days, Hot prospect +14, There's a chance +30,
// On the fence +60), then NOT_SURE_YET (+14 days) and NOT_INTERESTED (no
// task), which do not.
Catalogue DefaultCatalogue();

// Checks that `catalogue` can be used as a workspace's catalogue.
// Errors: INVALID_ARGUMENT naming the offending entry and field, e.g.
// "classification_catalogue[2].tag: ...", when the catalogue is empty or has
// more than kMaxOutcomes outcomes; an id is malformed or repeated; a label is
// blank or longer than kMaxNameLength; a classifying outcome has no tag, a
// non-classifying one has a tag, or two outcomes share a tag; a tag has
// surrounding blanks (profile tags are trimmed, so it could never match) or is
// longer than kMaxTagLength; follow_up_days is outside 0..kMaxFollowUpDays.
[[nodiscard]] absl::Status ValidateCatalogue(const Catalogue& catalogue);

// Returns the outcome with `id`, or nullptr when `catalogue` has none. The
// pointer is valid as long as `catalogue` is neither changed nor destroyed.
const Outcome* FindOutcome(const Catalogue& catalogue, absl::string_view id);

// The priority of a task on a lead classified as `classification_id` (SPEC
// §3: Potential consultant > Hot prospect > There's a chance > On the fence >
// unclassified). Higher is more urgent:
//   0                      the lead is unclassified: the id is empty, unknown
//                          to `catalogue`, or names a non-classifying outcome;
//   1 + N                  a classifying outcome, where N is the number of
//                          classifying outcomes with a strictly higher rank
//                          (less urgent).
// With the defaults: POTENTIAL_CONSULTANT 4, HOT_PROSPECT 3, THERE_IS_A_CHANCE
// 2, ON_THE_FENCE 1, unclassified 0. The scale depends on the catalogue, so
// compare priorities only within one catalogue.
int TaskPriority(const Catalogue& catalogue,
                 absl::string_view classification_id);

// When a follow-up task falls due.
struct FollowUpDue {
  // The due day in the owner's time zone.
  absl::CivilDay day;
  // The first instant of `day` in the owner's time zone.
  absl::Time time;

  bool operator==(const FollowUpDue&) const = default;
};

// The due day of a follow-up scheduled `days` days after `now`: the civil day
// of `now` in `owner_zone`, plus `days`. With `skip_weekends`, a Saturday or
// Sunday moves to the following Monday. Days, not hours, are added, so a DST
// change in between neither shifts nor shortens the delay. `days` is normally
// an outcome's validated follow_up_days; 0 means due today.
FollowUpDue ComputeFollowUpDue(absl::Time now, const absl::TimeZone& owner_zone,
                               int days, bool skip_weekends);

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_CLASSIFICATION_H_
