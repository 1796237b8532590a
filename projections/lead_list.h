// The "leads" read model: every lead as folded from its stream, indexed so
// that each list query is a bounded range scan.
//
// Keys of its keyspace (BE64 is a big-endian uint64, so keys sort
// numerically):
//   r/<id>                                          the StoredLead row
//   i/<scope>/<field>/<value>\0<BE64 created_position> -> id
//   u/<scope>/<BE64 last_position>                  -> id
// where <scope> is the lead's kind and status in two characters (kind L or O,
// status A active, L lost, W won, M merged: "LA", "OW", ...) and <field> is
// one of
//   all    (empty value)      every lead of the scope
//   owner, team, class, stage the value of that field, when set
//   tag                       one entry per tag
//   text                      one entry per search token (SearchTokens).
// The index keys of a row are a pure function of the row (LeadIndexKeys);
// the fold deletes the keys a change removes and puts the ones it adds.
//
// Functions here are thread-safe; a Projection instance is used by one
// thread at a time (the runner's).
#ifndef LEADLEDGER_PROJECTIONS_LEAD_LIST_H_
#define LEADLEDGER_PROJECTIONS_LEAD_LIST_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "domain/lead.h"
#include "projections/decoded_lead_cache.h"
#include "projections/event_codec.h"
#include "projections/projection.h"
#include "projections/projection_db.h"

namespace leadledger::projections {

// Name of the projection and its keyspaces.
inline constexpr absl::string_view kLeadListProjection = "leads";

ProjectionSpec LeadListSpec();

// Bounds on the text index: tokens longer than this are cut to it, and a
// lead contributes at most this many tokens (the first ones, in field order).
inline constexpr size_t kMaxSearchTokenLength = 48;
inline constexpr size_t kMaxSearchTokensPerLead = 32;

// The search tokens of `lead`, sorted and distinct: the lower-cased ASCII
// alphanumeric runs of its display name, contact name, company name and
// email, and its whole normalized email, lower-cased.
std::vector<std::string> SearchTokens(const domain::Lead& lead);

// Every index key of `stored` (its "i/" and "u/" keys), sorted; the value of
// each is the lead's id.
std::vector<std::string> LeadIndexKeys(const StoredLead& stored);

// The key of lead `lead_id`'s row.
std::string LeadRowKey(absl::string_view lead_id);

enum class LeadOrder {
  // Oldest first: the order of creation in the log. The default.
  kCreatedAscending,
  kCreatedDescending,
  // Most recently changed first.
  kUpdatedDescending,
};

// Largest page ListLeads returns.
inline constexpr int kMaxLeadPageSize = 1000;

struct LeadListQuery {
  // Filters; unset or empty ones do not filter.
  std::optional<domain::LeadKind> kind;
  // Unset: every record neither lost nor merged (active and won ones).
  std::optional<domain::LeadStatus> status;
  std::string owner_id;
  std::string team_id;
  std::string classification;
  std::string tag;
  std::string stage;
  // Words (split at white space); each must be a prefix of one of the lead's
  // search tokens. A word with '@' is matched whole against the email token;
  // other words are split into their alphanumeric runs.
  std::string text;
  LeadOrder order = LeadOrder::kCreatedAscending;
  // 1 to kMaxLeadPageSize.
  int page_size = 50;
  // The next_page_token of the previous page of the same query; empty for
  // the first page.
  std::string page_token;
  // Index entries one call may examine; 0 picks the default, 10 times the
  // page size within [100, 5000].
  int max_examined = 0;
};

struct LeadListPage {
  // Shared with the DecodedLeadCache the page was read through, if any.
  std::vector<std::shared_ptr<const StoredLead>> leads;
  // Empty when the scan is complete. Otherwise pass it as page_token for the
  // rest; the page may be shorter than page_size (even empty) when the
  // examination bound was reached first.
  std::string next_page_token;
};

// Returns one page of the leads that match `query`, read from `keyspace` of
// the "leads" projection through `reader`. Rows are decoded through
// `decoded` when given (see DecodedLeadCache), else one by one.
//
// One index serves the scan, chosen by selectivity: text, then tag,
// classification, stage, owner, team, else "all" (for kUpdatedDescending
// always "u/"); the other filters are checked on the row. The scopes the kind
// and status filters select are scanned one after another, so results come
// grouped by kind (opportunities first) and status (won before active), then
// in the requested order. With a text filter the scan follows the index of
// the longest word: results come grouped by the matched token, alphabetically
// (reversed for kCreatedDescending), and a lead matched by several tokens is
// returned once, at the smallest.
//
// Paging is stable while leads change: a lead is never returned twice, and a
// lead whose index entry stays in place is never skipped. A lead's entries
// keep their place while it stays in its scope (they are ordered by its first
// log position, which never changes), and the scopes are scanned in the
// direction leads move between them (a lead becomes an opportunity, never
// the reverse; an active record may be won, a won one never becomes active
// again), so a lead that changes scope lands in one already scanned; by last
// change, a changed lead moves to the front, which the scan has passed. The
// one exception is text: a lead whose searchable fields change between pages
// gets new tokens, which may sit behind the scan (it is missed) or, if its
// smallest matching token moves past the scan, ahead of it (it is returned
// again).
//
// Errors: INVALID_ARGUMENT naming page_size, or page_token when the token is
// malformed or belongs to another query (other filters or order); DATA_LOSS
// for an unreadable row; UNAVAILABLE when the store cannot be read.
[[nodiscard]] absl::StatusOr<LeadListPage> ListLeads(
    ProjectionReader& reader, const Keyspace& keyspace,
    const LeadListQuery& query, DecodedLeadCache* decoded = nullptr);

// Returns the row of lead `lead_id`, or nullopt when there is none.
// Errors: DATA_LOSS for an unreadable row; UNAVAILABLE.
[[nodiscard]] absl::StatusOr<std::optional<StoredLead>> ReadLead(
    ProjectionReader& reader, const Keyspace& keyspace,
    absl::string_view lead_id);

// Returns the rows of the leads `lead_ids`, in their order (nullptr for an
// id without a row), read in one batch: cheaper than ReadLead for each.
// Rows are decoded through `decoded` when given.
// Errors: DATA_LOSS for an unreadable row; UNAVAILABLE.
[[nodiscard]] absl::StatusOr<std::vector<std::shared_ptr<const StoredLead>>>
ReadLeads(ProjectionReader& reader, const Keyspace& keyspace,
          absl::Span<const std::string> lead_ids,
          DecodedLeadCache* decoded = nullptr);

// Upper bound on the merges FollowMerges follows.
inline constexpr int kMaxMergeChain = 64;

// Returns the lead that lead `lead_id` lives on as: the lead itself unless it
// was merged away, else the end of its chain of merges (a head may be merged
// again later); nullopt when `lead_id` has no row.
// Errors: DATA_LOSS when a row of the chain is unreadable, missing, or the
// chain is longer than kMaxMergeChain (a loop); UNAVAILABLE.
[[nodiscard]] absl::StatusOr<std::optional<StoredLead>> FollowMerges(
    ProjectionReader& reader, const Keyspace& keyspace,
    absl::string_view lead_id);

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_LEAD_LIST_H_
