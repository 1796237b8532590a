#include "projections/lead_list.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "domain/lead_decider.h"
#include "domain/status_macros.h"
#include "projections/lead_event_types.h"
#include "projections/row_keys.h"
#include "projections/sorted_writes.h"

namespace leadledger::projections {
namespace {

constexpr absl::string_view kRowPrefix = "r/";
constexpr absl::string_view kIndexPrefix = "i/";
constexpr absl::string_view kUpdatedPrefix = "u/";
constexpr absl::string_view kLeadStreamPrefix = "lead-";

// Index fields, as they appear in keys.
constexpr absl::string_view kAll = "all";
constexpr absl::string_view kOwner = "owner";
constexpr absl::string_view kTeam = "team";
constexpr absl::string_view kClass = "class";
constexpr absl::string_view kTag = "tag";
constexpr absl::string_view kStage = "stage";
constexpr absl::string_view kText = "text";

char KindChar(domain::LeadKind kind) {
  return kind == domain::LeadKind::kLead ? 'L' : 'O';
}

char StatusChar(domain::LeadStatus status) {
  switch (status) {
    case domain::LeadStatus::kActive:
      return 'A';
    case domain::LeadStatus::kLost:
      return 'L';
    case domain::LeadStatus::kWon:
      return 'W';
    case domain::LeadStatus::kMerged:
      return 'M';
  }
  return '?';
}

// "i/<scope>/<field>/": the part of an index key before the value.
std::string IndexFieldPrefix(absl::string_view scope, absl::string_view field) {
  return absl::StrCat(kIndexPrefix, scope, "/", field, "/");
}

std::string UpdatedPrefix(absl::string_view scope) {
  return absl::StrCat(kUpdatedPrefix, scope, "/");
}

// The index entries of one value run in the order of the position that
// created their leads, and the updated-time entries of a scope in the order
// of their leads' last positions: a new lead's entries, and a changed
// lead's updated-time entry, are written at the end of their run. Rows
// ("r/<lead id>") are written anywhere, and so is a whole email's search
// entry: an email names one lead, and a run of one entry would only cost
// the memtable the place it keeps for the run.
size_t AppendRunLength(absl::string_view key) {
  if (absl::StartsWith(key, kIndexPrefix)) {
    // "i/<scope>/<field>/<value>\0": the position follows.
    const size_t end_of_value = key.find('\0', kIndexPrefix.size());
    if (end_of_value == absl::string_view::npos) return 0;
    const absl::string_view run = key.substr(0, end_of_value);
    const size_t end_of_scope = run.find('/', kIndexPrefix.size());
    if (end_of_scope != absl::string_view::npos) {
      absl::string_view field_and_value = run.substr(end_of_scope + 1);
      if (absl::ConsumePrefix(&field_and_value, kText) &&
          absl::ConsumePrefix(&field_and_value, "/") &&
          absl::StrContains(field_and_value, '@')) {
        return 0;
      }
    }
    return end_of_value + 1;
  }
  if (absl::StartsWith(key, kUpdatedPrefix)) {
    // "u/<scope>/": the position follows.
    const size_t end_of_scope = key.find('/', kUpdatedPrefix.size());
    return end_of_scope == absl::string_view::npos ? 0 : end_of_scope + 1;
  }
  return 0;
}

void AddToken(absl::string_view token, std::vector<std::string>& tokens) {
  if (tokens.size() >= kMaxSearchTokensPerLead || token.empty()) return;
  std::string lower = absl::AsciiStrToLower(
      token.substr(0, std::min(token.size(), kMaxSearchTokenLength)));
  if (std::find(tokens.begin(), tokens.end(), lower) == tokens.end()) {
    tokens.push_back(std::move(lower));
  }
}

// The alphanumeric runs of `text`.
template <typename Visit>
void ForEachRun(absl::string_view text, Visit visit) {
  size_t start = 0;
  while (start < text.size()) {
    while (start < text.size() && !absl::ascii_isalnum(text[start])) ++start;
    size_t end = start;
    while (end < text.size() && absl::ascii_isalnum(text[end])) ++end;
    if (end > start) visit(text.substr(start, end - start));
    start = end;
  }
}

// The words of a text filter: see LeadListQuery::text.
std::vector<std::string> QueryWords(absl::string_view text) {
  std::vector<std::string> words;
  auto add = [&](absl::string_view word) {
    std::string lower = absl::AsciiStrToLower(
        word.substr(0, std::min(word.size(), kMaxSearchTokenLength)));
    if (std::find(words.begin(), words.end(), lower) == words.end()) {
      words.push_back(std::move(lower));
    }
  };
  size_t start = 0;
  while (start < text.size()) {
    while (start < text.size() && absl::ascii_isspace(text[start])) ++start;
    size_t end = start;
    while (end < text.size() && !absl::ascii_isspace(text[end])) ++end;
    absl::string_view piece = text.substr(start, end - start);
    if (absl::StrContains(piece, '@')) {
      add(piece);
    } else {
      ForEachRun(piece, add);
    }
    start = end;
  }
  return words;
}

// The smallest of the sorted `tokens` that starts with `word`; empty when
// none does.
absl::string_view SmallestMatch(const std::vector<std::string>& tokens,
                                absl::string_view word) {
  auto it = std::lower_bound(tokens.begin(), tokens.end(), word);
  if (it != tokens.end() && absl::StartsWith(*it, word)) return *it;
  return {};
}

// One index range of a query: the keys of one scope that may match.
struct ScanRange {
  std::string lower;
  // Exclusive; empty for none.
  std::string upper;
};

// What a query scans, derived from its filters alone.
struct ScanPlan {
  // One range per scope, in scan order.
  std::vector<ScanRange> ranges;
  ScanOrder order = ScanOrder::kAscending;
  // Text queries: the words, and the one whose index is scanned (the
  // longest, so the fewest entries).
  std::vector<std::string> words;
  std::string scan_word;
  // Length of the prefix before the token in a text index key.
  size_t text_prefix_length = 0;
};

std::vector<std::string> Scopes(const LeadListQuery& query) {
  // Scan order follows the only ways leads move between scopes (see
  // ListLeads): opportunities before leads, won before active.
  std::vector<char> kinds;
  if (query.kind.has_value()) {
    kinds.push_back(KindChar(*query.kind));
  } else {
    kinds = {'O', 'L'};
  }
  std::vector<char> statuses;
  if (query.status.has_value()) {
    statuses.push_back(StatusChar(*query.status));
  } else {
    statuses = {'W', 'A'};
  }
  std::vector<std::string> scopes;
  for (char kind : kinds) {
    for (char status : statuses) scopes.push_back(std::string{kind, status});
  }
  return scopes;
}

ScanPlan PlanScan(const LeadListQuery& query) {
  ScanPlan plan;
  plan.order = query.order == LeadOrder::kCreatedAscending
                   ? ScanOrder::kAscending
                   : ScanOrder::kDescending;
  plan.words = QueryWords(query.text);
  for (const std::string& word : plan.words) {
    if (word.size() > plan.scan_word.size()) plan.scan_word = word;
  }
  for (const std::string& scope : Scopes(query)) {
    std::string prefix;
    if (query.order == LeadOrder::kUpdatedDescending) {
      prefix = UpdatedPrefix(scope);
    } else if (!plan.scan_word.empty()) {
      prefix = IndexFieldPrefix(scope, kText);
      plan.text_prefix_length = prefix.size();
      prefix += plan.scan_word;
    } else {
      // The most selective index the filters allow; the value ends at \0 so
      // that "ab" does not scan the entries of "abc".
      absl::string_view field = kAll;
      absl::string_view value;
      if (!query.tag.empty()) {
        field = kTag;
        value = query.tag;
      } else if (!query.classification.empty()) {
        field = kClass;
        value = query.classification;
      } else if (!query.stage.empty()) {
        field = kStage;
        value = query.stage;
      } else if (!query.owner_id.empty()) {
        field = kOwner;
        value = query.owner_id;
      } else if (!query.team_id.empty()) {
        field = kTeam;
        value = query.team_id;
      }
      prefix = IndexFieldPrefix(scope, field);
      prefix.append(value.data(), value.size());
      prefix.push_back('\0');
    }
    std::string upper = PrefixEnd(prefix);
    plan.ranges.push_back(
        ScanRange{.lower = std::move(prefix), .upper = std::move(upper)});
  }
  return plan;
}

// Every filter and the order, each length-prefixed so that no two queries
// read alike; not the page size, which may change between pages.
uint64_t QueryHashOf(const LeadListQuery& query) {
  std::string description;
  auto add = [&](absl::string_view part) {
    absl::StrAppend(&description, part.size(), ":", part, ";");
  };
  add(query.kind.has_value() ? std::string(1, KindChar(*query.kind)) : "");
  add(query.status.has_value() ? std::string(1, StatusChar(*query.status))
                               : "");
  add(query.owner_id);
  add(query.team_id);
  add(query.classification);
  add(query.tag);
  add(query.stage);
  add(query.text);
  add(absl::StrCat(static_cast<int>(query.order)));
  return QueryHash(description);
}

// Where a page token says to resume: the scope and the last key examined.
struct Resume {
  size_t range = 0;
  std::string last_key;
};

absl::StatusOr<std::optional<Resume>> ResumeOf(absl::string_view token,
                                               uint64_t query_hash,
                                               const ScanPlan& plan) {
  if (token.empty()) return std::nullopt;
  Resume resume;
  ASSIGN_OR_RETURN(resume.last_key, DecodePageToken(token, query_hash));
  for (size_t i = 0; i < plan.ranges.size(); ++i) {
    const ScanRange& range = plan.ranges[i];
    if (resume.last_key >= range.lower &&
        (range.upper.empty() || resume.last_key < range.upper)) {
      resume.range = i;
      return resume;
    }
  }
  return absl::InvalidArgumentError(
      "page_token: does not point into this query's results");
}

bool Matches(const StoredLead& stored, const LeadListQuery& query,
             const ScanPlan& plan, absl::string_view entry_token) {
  const domain::Lead& lead = stored.lead;
  if (query.kind.has_value() && lead.kind != *query.kind) return false;
  if (query.status.has_value()) {
    if (lead.status != *query.status) return false;
  } else if (lead.status == domain::LeadStatus::kLost ||
             lead.status == domain::LeadStatus::kMerged) {
    return false;
  }
  if (!query.owner_id.empty() && lead.profile.owner_id != query.owner_id) {
    return false;
  }
  if (!query.team_id.empty() && lead.profile.team_id != query.team_id) {
    return false;
  }
  if (!query.classification.empty() &&
      lead.classification != query.classification) {
    return false;
  }
  if (!query.stage.empty() && lead.stage != query.stage) return false;
  if (!query.tag.empty() && !lead.profile.tags.contains(query.tag)) {
    return false;
  }
  if (!plan.words.empty()) {
    const std::vector<std::string> tokens = SearchTokens(lead);
    for (const std::string& word : plan.words) {
      if (SmallestMatch(tokens, word).empty()) return false;
    }
    // A lead has an entry for each of its tokens: only the one at its
    // smallest match counts, so it is returned once.
    if (!entry_token.empty() &&
        SmallestMatch(tokens, plan.scan_word) != entry_token) {
      return false;
    }
  }
  return true;
}

absl::Status NoRow(absl::string_view lead_id) {
  return absl::DataLossError(absl::StrCat("lead list: an index names lead ",
                                          lead_id, ", which has no row"));
}

absl::StatusOr<StoredLead> ReadRow(ProjectionReader& reader,
                                   const Keyspace& keyspace,
                                   absl::string_view lead_id) {
  ASSIGN_OR_RETURN(std::optional<StoredLead> stored,
                   ReadLead(reader, keyspace, lead_id));
  if (!stored.has_value()) return NoRow(lead_id);
  return *std::move(stored);
}

// Folds lead events into rows, keeping the leads one commit touches in
// memory: each row is read and decoded once per commit, and written with its
// index changes once, in Flush.
class LeadListProjection final : public Projection {
 public:
  bool Wants(absl::string_view type) const override {
    return IsLeadEventType(type);
  }

  absl::Status Apply(const eventstore::RecordedEvent& event,
                     RowBatch& rows) override {
    return ApplyDecoded(DecodedEvent(event), rows);
  }

  absl::Status ApplyDecoded(const DecodedEvent& decoded_event,
                            RowBatch& rows) override {
    const eventstore::RecordedEvent& event = decoded_event.recorded();
    absl::string_view lead_id = event.stream;
    if (!absl::ConsumePrefix(&lead_id, kLeadStreamPrefix)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "lead list: lead event ", event.type, " in stream ", event.stream));
    }
    RETURN_IF_ERROR(decoded_event.lead().status());
    const domain::LeadEvent& decoded = *decoded_event.lead();
    auto it = touched_.find(lead_id);
    if (it == touched_.end()) {
      Touched entry;
      // A stream's first event creates the lead: there is no row to read.
      std::optional<std::string> row;
      if (event.stream_version > 0) {
        ASSIGN_OR_RETURN(row, rows.Get(LeadRowKey(lead_id)));
      }
      if (row.has_value()) {
        ASSIGN_OR_RETURN(entry.stored, DecodeLeadRow(*row));
        entry.old_keys = LeadIndexKeys(entry.stored);
      }
      it = touched_.emplace(std::string(lead_id), std::move(entry)).first;
    }
    StoredLead& stored = it->second.stored;
    domain::EvolveInPlace(stored.lead, decoded);
    if (!stored.lead.exists) {
      return absl::DataLossError(absl::StrCat("lead list: ", event.type,
                                              " of lead ", lead_id,
                                              " before its creation"));
    }
    if (stored.created_position == 0) stored.created_position = event.position;
    stored.last_position = event.position;
    stored.version = event.stream_version;
    return absl::OkStatus();
  }

  absl::Status Flush(RowBatch& rows) override {
    // A lead's row and, mostly, a few index keys that went and came.
    SortedWrites writes(4 * touched_.size());
    for (auto& [id, entry] : touched_) WritesOf(id, entry, writes);
    writes.Apply(rows);
    touched_.clear();
    return absl::OkStatus();
  }

 private:
  struct Touched {
    StoredLead stored;
    // The index keys of the row as stored before this commit.
    std::vector<std::string> old_keys;
  };

  // Adds the writes that store `entry` as lead `id`'s row to `writes`: the
  // row, and the index keys that went and came.
  static void WritesOf(const std::string& id, Touched& entry,
                       SortedWrites& writes) {
    writes.PutOwned(LeadRowKey(id), EncodeLeadRow(entry.stored));
    std::vector<std::string> keys = LeadIndexKeys(entry.stored);
    // Both lists are sorted: one merge pass finds what went and what came.
    auto old_it = entry.old_keys.begin();
    auto new_it = keys.begin();
    while (old_it != entry.old_keys.end() || new_it != keys.end()) {
      if (new_it == keys.end() ||
          (old_it != entry.old_keys.end() && *old_it < *new_it)) {
        writes.Delete(std::move(*old_it++));
      } else if (old_it == entry.old_keys.end() || *new_it < *old_it) {
        writes.Put(std::move(*new_it++), id);
      } else {
        ++old_it;
        ++new_it;
      }
    }
  }
  // Nodes: a commit's leads are large, and growing the map must not move
  // them.
  absl::node_hash_map<std::string, Touched> touched_;
};

}  // namespace

ProjectionSpec LeadListSpec() {
  return ProjectionSpec{
      .name = std::string(kLeadListProjection),
      .version = 1,
      .bulk = true,
      // The slowest fold of a rebuild: two shards fold it on two threads.
      // Its rows are keyed by the lead (the row's id, the index entries'
      // first position), and a lead's events are those of its stream.
      .bulk_shards = 2,
      // A page of leads reads each lead's row.
      .cached_rows = {std::string(kRowPrefix)},
      .append_run_length = AppendRunLength,
      .make = [] { return std::make_unique<LeadListProjection>(); }};
}

std::string LeadRowKey(absl::string_view lead_id) {
  return absl::StrCat(kRowPrefix, lead_id);
}

std::vector<std::string> SearchTokens(const domain::Lead& lead) {
  std::vector<std::string> tokens;
  // The whole email first: the bound on tokens never drops it.
  AddToken(lead.email_normalized, tokens);
  auto add_runs = [&](absl::string_view text) {
    ForEachRun(text, [&](absl::string_view run) { AddToken(run, tokens); });
  };
  add_runs(lead.profile.display_name);
  add_runs(lead.profile.contact_name);
  add_runs(lead.profile.company_name);
  add_runs(lead.profile.email);
  std::sort(tokens.begin(), tokens.end());
  return tokens;
}

std::vector<std::string> LeadIndexKeys(const StoredLead& stored) {
  const domain::Lead& lead = stored.lead;
  const std::string scope{KindChar(lead.kind), StatusChar(lead.status)};
  std::string position;
  AppendUint64(position, stored.created_position);
  const std::vector<std::string> tokens = SearchTokens(lead);
  std::vector<std::string> keys;
  keys.reserve(7 + lead.profile.tags.size() + tokens.size());
  // Each key is sized once: a lead's rewrite builds all of them twice (the
  // keys it had and the keys it has), at every event of a fold.
  const std::string head = absl::StrCat(kIndexPrefix, scope, "/");
  auto add = [&](absl::string_view field, absl::string_view value) {
    std::string& key = keys.emplace_back();
    key.reserve(head.size() + field.size() + 1 + value.size() + 1 +
                position.size());
    key.append(head);
    key.append(field.data(), field.size());
    key.push_back('/');
    key.append(value.data(), value.size());
    key.push_back('\0');
    key.append(position);
  };
  auto add_if_set = [&](absl::string_view field, absl::string_view value) {
    if (!value.empty()) add(field, value);
  };
  add(kAll, "");
  add_if_set(kOwner, lead.profile.owner_id);
  add_if_set(kTeam, lead.profile.team_id);
  add_if_set(kClass, lead.classification);
  add_if_set(kStage, lead.stage);
  for (const std::string& tag : lead.profile.tags) add(kTag, tag);
  for (const std::string& token : tokens) add(kText, token);
  std::string updated = UpdatedPrefix(scope);
  AppendUint64(updated, stored.last_position);
  keys.push_back(std::move(updated));
  std::sort(keys.begin(), keys.end());
  return keys;
}

absl::StatusOr<LeadListPage> ListLeads(ProjectionReader& reader,
                                       const Keyspace& keyspace,
                                       const LeadListQuery& query,
                                       DecodedLeadCache* decoded) {
  if (query.page_size < 1 || query.page_size > kMaxLeadPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must be between 1 and ", kMaxLeadPageSize));
  }
  const ScanPlan plan = PlanScan(query);
  const uint64_t hash = QueryHashOf(query);
  ASSIGN_OR_RETURN(std::optional<Resume> resume,
                   ResumeOf(query.page_token, hash, plan));
  const int budget = query.max_examined > 0
                         ? query.max_examined
                         : std::clamp(10 * query.page_size, 100, 5000);
  const size_t page_size = static_cast<size_t>(query.page_size);

  LeadListPage page;
  page.leads.reserve(page_size);
  std::string last_key;
  int examined = 0;
  bool more = false;
  absl::Status failure;
  // Index entries examined whose rows are not read yet. They are read
  // together, as many at a time as could still fit on the page, so that a
  // page costs a few batched reads rather than one read per row.
  std::vector<std::string> pending_keys;
  std::vector<std::string> pending_ids;
  auto read_pending = [&]() -> absl::Status {
    if (pending_ids.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::vector<std::shared_ptr<const StoredLead>> rows,
                     ReadLeads(reader, keyspace, pending_ids, decoded));
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i] == nullptr) return NoRow(pending_ids[i]);
      absl::string_view key = pending_keys[i];
      absl::string_view entry_token;
      if (plan.text_prefix_length > 0) {
        // The token sits between the field prefix and "\0<BE64>".
        entry_token = key.substr(plan.text_prefix_length,
                                 key.size() - plan.text_prefix_length - 9);
      }
      if (Matches(*rows[i], query, plan, entry_token)) {
        page.leads.push_back(std::move(rows[i]));
      }
    }
    last_key = std::move(pending_keys.back());
    pending_keys.clear();
    pending_ids.clear();
    return absl::OkStatus();
  };
  auto visit = [&](absl::string_view key, absl::string_view id) {
    if (pending_ids.size() + page.leads.size() == page_size ||
        examined == budget) {
      failure = read_pending();
      if (!failure.ok()) return false;
    }
    // Stopping on an entry not yet examined means the results go on: the
    // last page never ends with a token that leads nowhere.
    if (page.leads.size() == page_size || examined == budget) {
      more = true;
      return false;
    }
    ++examined;
    pending_keys.emplace_back(key);
    pending_ids.emplace_back(id);
    return true;
  };
  for (size_t i = resume.has_value() ? resume->range : 0;
       i < plan.ranges.size() && !more; ++i) {
    absl::string_view lower = plan.ranges[i].lower;
    absl::string_view upper = plan.ranges[i].upper;
    std::string after_last;
    if (resume.has_value() && i == resume->range) {
      if (plan.order == ScanOrder::kAscending) {
        // The smallest key after the last one examined.
        after_last = resume->last_key + '\0';
        lower = after_last;
      } else {
        upper = resume->last_key;
      }
    }
    RETURN_IF_ERROR(reader.Scan(keyspace, lower, upper, plan.order, visit));
    RETURN_IF_ERROR(failure);
    RETURN_IF_ERROR(read_pending());
  }
  if (more) page.next_page_token = EncodePageToken(hash, last_key);
  return page;
}

absl::StatusOr<std::optional<StoredLead>> ReadLead(ProjectionReader& reader,
                                                   const Keyspace& keyspace,
                                                   absl::string_view lead_id) {
  ASSIGN_OR_RETURN(std::optional<std::string> row,
                   reader.Get(keyspace, LeadRowKey(lead_id)));
  if (!row.has_value()) return std::nullopt;
  return DecodeLeadRow(*row);
}

absl::StatusOr<std::vector<std::shared_ptr<const StoredLead>>> ReadLeads(
    ProjectionReader& reader, const Keyspace& keyspace,
    absl::Span<const std::string> lead_ids, DecodedLeadCache* decoded) {
  std::vector<std::string> keys;
  keys.reserve(lead_ids.size());
  for (const std::string& id : lead_ids) keys.push_back(LeadRowKey(id));
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> rows,
                   reader.MultiGet(keyspace, keys));
  std::vector<std::shared_ptr<const StoredLead>> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].has_value()) continue;
    ASSIGN_OR_RETURN(out[i],
                     decoded != nullptr
                         ? decoded->Decode(lead_ids[i], *std::move(rows[i]))
                         : DecodeSharedLeadRow(*rows[i]));
  }
  return out;
}

absl::StatusOr<std::optional<StoredLead>> FollowMerges(
    ProjectionReader& reader, const Keyspace& keyspace,
    absl::string_view lead_id) {
  ASSIGN_OR_RETURN(std::optional<StoredLead> stored,
                   ReadLead(reader, keyspace, lead_id));
  if (!stored.has_value()) return std::nullopt;
  for (int hops = 0; stored->lead.status == domain::LeadStatus::kMerged;
       ++hops) {
    if (hops == kMaxMergeChain) {
      return absl::DataLossError(
          absl::StrCat("lead list: the merges from lead ", lead_id,
                       " do not end within ", kMaxMergeChain, " steps"));
    }
    const std::string next = stored->lead.merged_into;
    ASSIGN_OR_RETURN(stored, ReadRow(reader, keyspace, next));
  }
  return stored;
}

}  // namespace leadledger::projections
