#include "projections/duplicate_index.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "domain/overloaded.h"
#include "domain/status_macros.h"
#include "projections/event_codec.h"
#include "projections/lead_event_types.h"
#include "projections/row_keys.h"
#include "projections/sorted_writes.h"

namespace leadledger::projections {
namespace {

constexpr absl::string_view kEmailPrefix = "e/";
constexpr absl::string_view kPhonePrefix = "p/";
constexpr absl::string_view kCustomerPrefix = "c/";
constexpr absl::string_view kMemoPrefix = "m/";
constexpr absl::string_view kCustomerEmailPrefix = "ce/";
constexpr absl::string_view kLeadStreamPrefix = "lead-";

// What the index needs of a lead: its keys and whether it is indexed.
struct DuplicateState {
  domain::LeadStatus status = domain::LeadStatus::kActive;
  std::string email_normalized;
  std::string phone_e164;
  std::string mobile_e164;
  std::string customer_id;
};

void SetContact(const domain::DerivedContact& contact, DuplicateState& state) {
  state.email_normalized = contact.email_normalized;
  state.phone_e164 = contact.phone_e164;
  state.mobile_e164 = contact.mobile_e164;
}

// The part of domain::Evolve that moves a lead's keys or status; the
// projection asks only for the event types that reach a case here.
void Fold(const domain::LeadEvent& event, DuplicateState& state) {
  std::visit(Overloaded{
                 [&](const domain::LeadCreated& e) {
                   state.status = domain::LeadStatus::kActive;
                   SetContact(e.contact, state);
                 },
                 [&](const domain::LeadUpdated& e) {
                   if (e.fields.contains(domain::LeadField::kEmail) ||
                       e.fields.contains(domain::LeadField::kPhone) ||
                       e.fields.contains(domain::LeadField::kMobile)) {
                     SetContact(e.contact, state);
                   }
                 },
                 [&](const domain::CustomerLinked& e) {
                   state.customer_id = e.customer_id;
                 },
                 [&](const domain::LeadsMerged& e) {
                   SetContact(e.contact, state);
                   state.customer_id = e.customer_id;
                   state.status = domain::LeadStatus::kActive;
                 },
                 [&](const domain::LeadMergedInto&) {
                   state.status = domain::LeadStatus::kMerged;
                 },
                 [&](const domain::LeadLost&) {
                   state.status = domain::LeadStatus::kLost;
                 },
                 [&](const domain::LeadRestored&) {
                   state.status = domain::LeadStatus::kActive;
                 },
                 [&](const domain::LeadWon&) {
                   state.status = domain::LeadStatus::kWon;
                 },
                 [](const auto&) {},
             },
             event);
}

std::string EntryKey(absl::string_view prefix, absl::string_view value,
                     absl::string_view id) {
  std::string key = absl::StrCat(prefix, value);
  key.push_back('\0');
  key.append(id.data(), id.size());
  return key;
}

// The index keys of lead `id` in `state`, sorted.
std::vector<std::string> KeysOf(absl::string_view id,
                                const DuplicateState& state) {
  std::vector<std::string> keys;
  if (!MayBeDuplicate(state.status)) return keys;
  if (!state.email_normalized.empty()) {
    keys.push_back(EntryKey(kEmailPrefix, state.email_normalized, id));
  }
  if (!state.phone_e164.empty()) {
    keys.push_back(EntryKey(kPhonePrefix, state.phone_e164, id));
  }
  if (!state.mobile_e164.empty() && state.mobile_e164 != state.phone_e164) {
    keys.push_back(EntryKey(kPhonePrefix, state.mobile_e164, id));
  }
  if (!state.customer_id.empty()) {
    keys.push_back(EntryKey(kCustomerPrefix, state.customer_id, id));
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

char StatusByte(domain::LeadStatus status) {
  return static_cast<char>('0' + static_cast<int>(status));
}

void AppendField(absl::string_view value, std::string& out) {
  AppendUint32(out, static_cast<uint32_t>(value.size()));
  out.append(value.data(), value.size());
}

// Memo: a status byte, then each key as a 4-byte big-endian length and its
// bytes.
std::string EncodeMemo(const DuplicateState& state) {
  std::string out(1, StatusByte(state.status));
  AppendField(state.email_normalized, out);
  AppendField(state.phone_e164, out);
  AppendField(state.mobile_e164, out);
  AppendField(state.customer_id, out);
  return out;
}

absl::StatusOr<DuplicateState> DecodeMemo(absl::string_view bytes) {
  const absl::Status bad = absl::DataLossError("duplicate index: bad memo");
  if (bytes.empty()) return bad;
  const int status = bytes[0] - '0';
  if (status < 0 || status > static_cast<int>(domain::LeadStatus::kMerged)) {
    return bad;
  }
  DuplicateState state{.status = static_cast<domain::LeadStatus>(status)};
  bytes.remove_prefix(1);
  for (std::string* field : {&state.email_normalized, &state.phone_e164,
                             &state.mobile_e164, &state.customer_id}) {
    if (bytes.size() < 4) return bad;
    uint32_t size = 0;
    for (int i = 0; i < 4; ++i) {
      size = (size << 8) | static_cast<unsigned char>(bytes[i]);
    }
    bytes.remove_prefix(4);
    if (bytes.size() < size) return bad;
    field->assign(bytes.data(), size);
    bytes.remove_prefix(size);
  }
  if (!bytes.empty()) return bad;
  return state;
}

std::string MemoKey(absl::string_view id) {
  return absl::StrCat(kMemoPrefix, id);
}

// The event types that change a lead's keys or status, and the customers'.
const absl::flat_hash_set<std::string>& WantedTypes() {
  static const auto* const types = new absl::flat_hash_set<std::string>{
      LeadEventType<domain::LeadCreated>(),
      LeadEventType<domain::LeadUpdated>(),
      LeadEventType<domain::CustomerLinked>(),
      LeadEventType<domain::LeadsMerged>(),
      LeadEventType<domain::LeadMergedInto>(),
      LeadEventType<domain::LeadLost>(),
      LeadEventType<domain::LeadRestored>(),
      LeadEventType<domain::LeadWon>(),
      CustomerCreatedType(),
  };
  return *types;
}

// Keeps the leads one commit touches in memory; writes their key changes
// and memos once, in Flush.
class DuplicateIndexProjection final : public Projection {
 public:
  bool Wants(absl::string_view type) const override {
    return WantedTypes().contains(type);
  }

  absl::Status Apply(const eventstore::RecordedEvent& event,
                     RowBatch& rows) override {
    return ApplyDecoded(DecodedEvent(event), rows);
  }

  absl::Status ApplyDecoded(const DecodedEvent& decoded_event,
                            RowBatch& rows) override {
    const eventstore::RecordedEvent& event = decoded_event.recorded();
    if (event.type == CustomerCreatedType()) return ApplyCustomer(event, rows);
    absl::string_view lead_id = event.stream;
    if (!absl::ConsumePrefix(&lead_id, kLeadStreamPrefix)) {
      return absl::FailedPreconditionError(
          absl::StrCat("duplicate index: lead event ", event.type,
                       " in stream ", event.stream));
    }
    RETURN_IF_ERROR(decoded_event.lead().status());
    const domain::LeadEvent& decoded = *decoded_event.lead();
    auto it = touched_.find(lead_id);
    if (it == touched_.end()) {
      Touched entry;
      // A stream's first event creates the lead: there is no memo to read.
      std::optional<std::string> memo;
      if (event.stream_version > 0) {
        ASSIGN_OR_RETURN(memo, rows.Get(MemoKey(lead_id)));
      }
      if (memo.has_value()) {
        ASSIGN_OR_RETURN(entry.state, DecodeMemo(*memo));
        entry.old_keys = KeysOf(lead_id, entry.state);
      }
      it = touched_.emplace(std::string(lead_id), std::move(entry)).first;
    }
    Fold(decoded, it->second.state);
    return absl::OkStatus();
  }

  absl::Status Flush(RowBatch& rows) override {
    // A lead's memo and the odd key that went or came.
    SortedWrites writes(2 * touched_.size());
    for (auto& [id, entry] : touched_) {
      writes.PutOwned(MemoKey(id), EncodeMemo(entry.state));
      std::vector<std::string> keys = KeysOf(id, entry.state);
      for (std::string& key : entry.old_keys) {
        if (!std::binary_search(keys.begin(), keys.end(), key)) {
          writes.Delete(std::move(key));
        }
      }
      for (std::string& key : keys) {
        if (!std::binary_search(entry.old_keys.begin(), entry.old_keys.end(),
                                key)) {
          writes.Put(std::move(key), "");
        }
      }
    }
    writes.Apply(rows);
    touched_.clear();
    return absl::OkStatus();
  }

 private:
  struct Touched {
    DuplicateState state;
    std::vector<std::string> old_keys;
  };

  absl::Status ApplyCustomer(const eventstore::RecordedEvent& event,
                             RowBatch& rows) {
    ASSIGN_OR_RETURN(domain::CustomerEvent decoded, DecodeCustomerEvent(event));
    const auto& created = std::get<domain::CustomerCreated>(decoded);
    if (created.profile.email_normalized.empty()) return absl::OkStatus();
    std::string key =
        absl::StrCat(kCustomerEmailPrefix, created.profile.email_normalized);
    key.push_back('\0');
    AppendUint64(key, event.position);
    rows.Put(key, created.customer_id);
    return absl::OkStatus();
  }

  absl::flat_hash_map<std::string, Touched> touched_;
};

// Reads the ids after `prefix` ("<kind>/<value>\0"), at most `limit`.
absl::StatusOr<std::vector<std::string>> IdsWithPrefix(
    ProjectionReader& reader, const Keyspace& keyspace,
    const std::string& prefix, size_t limit) {
  std::vector<std::string> ids;
  const std::string upper = PrefixEnd(prefix);
  RETURN_IF_ERROR(reader.Scan(keyspace, prefix, upper, ScanOrder::kAscending,
                              [&](absl::string_view key, absl::string_view) {
                                absl::string_view id =
                                    key.substr(prefix.size());
                                // A value holding \0 would reach into a longer
                                // value's entries.
                                if (!absl::StrContains(id, '\0'))
                                  ids.emplace_back(id);
                                return ids.size() < limit;
                              }));
  return ids;
}

}  // namespace

ProjectionSpec DuplicateIndexSpec() {
  return ProjectionSpec{
      .name = std::string(kDuplicateIndexProjection),
      .version = 1,
      .bulk = true,
      .make = [] { return std::make_unique<DuplicateIndexProjection>(); }};
}

bool MayBeDuplicate(domain::LeadStatus status) {
  return status == domain::LeadStatus::kActive ||
         status == domain::LeadStatus::kLost;
}

domain::DuplicateKeys DuplicateKeysOf(const domain::Lead& lead) {
  return domain::DuplicateKeys{
      .email_normalized = lead.email_normalized,
      .phones_e164 = {lead.phone_e164, lead.mobile_e164},
      .customer_id = lead.customer_id};
}

absl::StatusOr<std::vector<domain::CriterionMatches>> FindDuplicates(
    ProjectionReader& reader, const Keyspace& keyspace,
    const domain::Lead& lead) {
  std::vector<domain::CriterionMatches> matches;
  for (auto& [criterion, value] : domain::CriteriaOf(DuplicateKeysOf(lead))) {
    absl::string_view prefix;
    switch (criterion) {
      case domain::DuplicateCriterion::kEmail:
        prefix = kEmailPrefix;
        break;
      case domain::DuplicateCriterion::kPhone:
        prefix = kPhonePrefix;
        break;
      case domain::DuplicateCriterion::kCustomer:
        prefix = kCustomerPrefix;
        break;
    }
    std::string key = absl::StrCat(prefix, value);
    key.push_back('\0');
    ASSIGN_OR_RETURN(std::vector<std::string> ids,
                     IdsWithPrefix(reader, keyspace, key,
                                   domain::kMaxMatchesPerCriterion + 2));
    matches.push_back(domain::CriterionMatches{.criterion = criterion,
                                               .value = std::move(value),
                                               .lead_ids = std::move(ids)});
  }
  return matches;
}

absl::StatusOr<std::optional<std::string>> CustomerWithEmail(
    ProjectionReader& reader, const Keyspace& keyspace,
    absl::string_view email_normalized) {
  if (email_normalized.empty()) return std::nullopt;
  std::string prefix = absl::StrCat(kCustomerEmailPrefix, email_normalized);
  prefix.push_back('\0');
  const std::string upper = PrefixEnd(prefix);
  std::optional<std::string> customer;
  RETURN_IF_ERROR(reader.Scan(keyspace, prefix, upper, ScanOrder::kAscending,
                              [&](absl::string_view, absl::string_view value) {
                                customer = std::string(value);
                                return false;
                              }));
  return customer;
}

}  // namespace leadledger::projections
