#include "projections/agenda.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "domain/overloaded.h"
#include "domain/status_macros.h"
#include "projections/decoded_event.h"
#include "projections/event_codec.h"
#include "projections/overlay_rows.h"
#include "projections/row_keys.h"

namespace leadledger::projections {
namespace {

constexpr absl::string_view kLeadStreamPrefix = "lead-";
constexpr uint32_t kNoDueDay = 0xffffffff;
constexpr uint64_t kNoDueTime = 0xffffffffffffffff;

std::string TaskKey(absl::string_view lead_id, absl::string_view task_id) {
  return absl::StrCat("t/", lead_id, absl::string_view("\0", 1), task_id);
}

// The "t/<lead id>\0" a merged-away lead's tasks are scanned by.
size_t LeadTasksPrefixLength(absl::string_view key) {
  if (!absl::StartsWith(key, "t/")) return 0;
  const size_t end = key.find('\0');
  return end == absl::string_view::npos ? 0 : end + 1;
}

std::string NameKey(absl::string_view lead_id) {
  return absl::StrCat("n/", lead_id);
}

std::string OwnerPrefix(absl::string_view owner_id) {
  return absl::StrCat("o/", owner_id, absl::string_view("\0", 1));
}

uint32_t DayNumber(absl::CivilDay day) {
  const int64_t days = day - absl::CivilDay(1970, 1, 1);
  return static_cast<uint32_t>(
      std::clamp<int64_t>(days + (int64_t{1} << 31), 0, kNoDueDay - 1));
}

bool HasDueTime(const domain::Task& task) {
  return task.due_time != absl::InfinitePast() &&
         task.due_time != absl::InfiniteFuture();
}

uint64_t DueNumber(const domain::Task& task) {
  return HasDueTime(task) ? Biased(absl::ToUnixMicros(task.due_time))
                          : kNoDueTime;
}

std::string OwnerKey(absl::TimeZone zone, absl::string_view lead_id,
                     const domain::Task& task) {
  std::string key = OwnerPrefix(task.owner_id);
  AppendUint32(key, HasDueTime(task)
                        ? DayNumber(absl::ToCivilDay(task.due_time, zone))
                        : kNoDueDay);
  key.push_back(static_cast<char>(255 - std::clamp(task.priority, 0, 255)));
  AppendUint64(key, DueNumber(task));
  absl::StrAppend(&key, lead_id, absl::string_view("\0", 1), task.id);
  return key;
}

std::string DueKey(absl::string_view lead_id, const domain::Task& task) {
  std::string key = "d/";
  AppendUint64(key, DueNumber(task));
  absl::StrAppend(&key, lead_id, absl::string_view("\0", 1), task.id);
  return key;
}

// "<lead>\0<task>" at the end of an index key.
std::pair<std::string, std::string> LeadAndTask(absl::string_view tail) {
  const size_t nul = tail.find('\0');
  if (nul == absl::string_view::npos) return {std::string(tail), ""};
  return {std::string(tail.substr(0, nul)), std::string(tail.substr(nul + 1))};
}

class AgendaProjection final : public Projection {
 public:
  explicit AgendaProjection(absl::TimeZone zone) : zone_(zone) {}

  bool Wants(absl::string_view type) const override {
    return type == "TaskScheduled" || type == "TaskCompleted" ||
           type == "TaskCancelled" || type == "TaskDue" ||
           type == "LeadCreated" || type == "LeadUpdated" ||
           type == "LeadsMerged" || type == "LeadMergedInto";
  }

  absl::Status Apply(const eventstore::RecordedEvent& event,
                     RowBatch& rows) override {
    return ApplyDecoded(DecodedEvent(event), rows);
  }

  absl::Status ApplyDecoded(const DecodedEvent& decoded_event,
                            RowBatch& commit_rows) override {
    const eventstore::RecordedEvent& event = decoded_event.recorded();
    if (event.stream.substr(0, kLeadStreamPrefix.size()) != kLeadStreamPrefix) {
      return absl::OkStatus();
    }
    const std::string lead_id(event.stream.substr(kLeadStreamPrefix.size()));
    RETURN_IF_ERROR(decoded_event.lead().status());
    const domain::LeadEvent& decoded = *decoded_event.lead();
    // Reads must see this commit's earlier writes (a task scheduled and
    // completed in one commit): the overlay keeps them until Flush.
    overlay_.Attach(commit_rows);
    OverlayRows& rows = overlay_;
    const Overloaded apply{
        [&](const domain::LeadCreated& e) -> absl::Status {
          rows.Put(NameKey(lead_id), e.profile.display_name);
          return absl::OkStatus();
        },
        [&](const domain::LeadUpdated& e) -> absl::Status {
          if (e.fields.contains(domain::LeadField::kDisplayName)) {
            rows.Put(NameKey(lead_id), e.profile.display_name);
          }
          return absl::OkStatus();
        },
        [&](const domain::LeadsMerged& e) -> absl::Status {
          rows.Put(NameKey(lead_id), e.profile.display_name);
          for (const domain::Task& task : e.moved_tasks) {
            AddTask(rows, lead_id, task, event.position);
          }
          return absl::OkStatus();
        },
        [&](const domain::LeadMergedInto&) -> absl::Status {
          std::vector<std::string> task_ids;
          const std::string prefix = TaskKey(lead_id, "");
          RETURN_IF_ERROR(rows.ScanPrefix(
              prefix, [&](absl::string_view key, absl::string_view) {
                task_ids.emplace_back(key.substr(prefix.size()));
                return true;
              }));
          for (const std::string& task_id : task_ids) {
            RETURN_IF_ERROR(RemoveTask(rows, lead_id, task_id));
          }
          rows.Delete(NameKey(lead_id));
          return absl::OkStatus();
        },
        [&](const domain::TaskScheduled& e) -> absl::Status {
          AddTask(rows, lead_id, e.task, event.position);
          return absl::OkStatus();
        },
        [&](const domain::TaskCompleted& e) -> absl::Status {
          return RemoveTask(rows, lead_id, e.task_id);
        },
        [&](const domain::TaskCancelled& e) -> absl::Status {
          return RemoveTask(rows, lead_id, e.task_id);
        },
        [&](const domain::TaskDue& e) -> absl::Status {
          ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                           rows.Get(TaskKey(lead_id, e.task_id)));
          if (!bytes.has_value()) return absl::OkStatus();
          ASSIGN_OR_RETURN(StoredAgendaTask stored, DecodeAgendaRow(*bytes));
          rows.DeleteWrittenOnce(DueKey(lead_id, stored.task));
          stored.task.fell_due = true;
          rows.Put(TaskKey(lead_id, e.task_id), EncodeAgendaRow(stored));
          return absl::OkStatus();
        },
        [](const auto&) -> absl::Status { return absl::OkStatus(); },
    };
    return std::visit(apply, decoded);
  }

  absl::Status Flush(RowBatch& rows) override {
    overlay_.Attach(rows);
    overlay_.Apply();
    return absl::OkStatus();
  }

 private:
  void AddTask(RowBatch& rows, absl::string_view lead_id,
               const domain::Task& task, uint64_t position) {
    if (task.status != domain::TaskStatus::kOpen) return;
    rows.Put(TaskKey(lead_id, task.id),
             EncodeAgendaRow({.lead_id = std::string(lead_id),
                              .task = task,
                              .scheduled_position = position}));
    rows.Put(OwnerKey(zone_, lead_id, task), "");
    if (HasDueTime(task) && !task.fell_due) rows.Put(DueKey(lead_id, task), "");
  }

  absl::Status RemoveTask(RowBatch& rows, absl::string_view lead_id,
                          absl::string_view task_id) {
    const std::string key = TaskKey(lead_id, task_id);
    ASSIGN_OR_RETURN(std::optional<std::string> bytes, rows.Get(key));
    if (!bytes.has_value()) return absl::OkStatus();
    ASSIGN_OR_RETURN(StoredAgendaTask stored, DecodeAgendaRow(*bytes));
    rows.Delete(key);
    // Index keys name their task, which is added once and removed once.
    rows.DeleteWrittenOnce(OwnerKey(zone_, lead_id, stored.task));
    if (HasDueTime(stored.task) && !stored.task.fell_due) {
      rows.DeleteWrittenOnce(DueKey(lead_id, stored.task));
    }
    return absl::OkStatus();
  }

  const absl::TimeZone zone_;
  OverlayRows overlay_;
};

}  // namespace

ProjectionSpec AgendaSpec(absl::TimeZone zone) {
  return ProjectionSpec{
      .name = kAgendaProjection,
      .version = 1,
      .bulk = true,
      // A page of the agenda reads each task's row and its lead's name.
      .cached_rows = {"t/", "n/"},
      // Tasks come and go: their index entries' puts and deletions should
      // meet in flushes.
      .memtable_bytes = 2 << 20,
      .scan_prefix_length = LeadTasksPrefixLength,
      .make = [zone] { return std::make_unique<AgendaProjection>(zone); }};
}

absl::StatusOr<AgendaPage> ListAgenda(ProjectionReader& reader,
                                      const Keyspace& agenda,
                                      const AgendaQuery& query) {
  if (query.owner_id.empty()) {
    return absl::InvalidArgumentError("owner_id: required");
  }
  if (query.page_size < 1 || query.page_size > 1000) {
    return absl::InvalidArgumentError("page_size: must be 1 to 1000");
  }
  const std::string prefix = OwnerPrefix(query.owner_id);
  std::string upper = PrefixEnd(prefix);
  std::string description = absl::StrCat("agenda\n", query.owner_id, "\n");
  if (query.due_by.has_value()) {
    upper = prefix;
    AppendUint32(upper, DayNumber(*query.due_by) + 1);
    absl::StrAppend(&description, absl::FormatCivilTime(*query.due_by));
  }
  const uint64_t hash = QueryHash(description);
  std::string lower = prefix;
  if (!query.page_token.empty()) {
    ASSIGN_OR_RETURN(std::string last, DecodePageToken(query.page_token, hash));
    if (last.substr(0, prefix.size()) != prefix) {
      return absl::InvalidArgumentError(
          "page_token: issued for another owner's agenda");
    }
    lower = last + std::string(1, '\0');
  }
  constexpr size_t kFixedWidth = 4 + 1 + 8;
  std::vector<std::string> keys;
  RETURN_IF_ERROR(reader.Scan(agenda, lower, upper, ScanOrder::kAscending,
                              [&](absl::string_view key, absl::string_view) {
                                keys.emplace_back(key);
                                return keys.size() <=
                                       static_cast<size_t>(query.page_size);
                              }));
  AgendaPage page;
  if (keys.size() > static_cast<size_t>(query.page_size)) {
    keys.pop_back();
    page.next_page_token = EncodePageToken(hash, keys.back());
  }
  // Each item's task row and lead name, all read in one batch: the task
  // rows first, then the names.
  std::vector<std::pair<std::string, std::string>> items;
  std::vector<std::string> rows;
  rows.reserve(2 * keys.size());
  for (const std::string& key : keys) {
    if (key.size() < prefix.size() + kFixedWidth) {
      return absl::DataLossError("agenda: malformed owner index key");
    }
    items.push_back(LeadAndTask(
        absl::string_view(key).substr(prefix.size() + kFixedWidth)));
    rows.push_back(TaskKey(items.back().first, items.back().second));
  }
  for (const auto& [lead_id, task_id] : items) {
    rows.push_back(NameKey(lead_id));
  }
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values,
                   reader.MultiGet(agenda, rows));
  for (size_t i = 0; i < items.size(); ++i) {
    auto& [lead_id, task_id] = items[i];
    const std::optional<std::string>& bytes = values[i];
    if (!bytes.has_value()) {
      return absl::DataLossError(absl::StrCat("agenda: index names task ",
                                              task_id, " of lead ", lead_id,
                                              " without its row"));
    }
    ASSIGN_OR_RETURN(StoredAgendaTask stored, DecodeAgendaRow(*bytes));
    page.items.push_back(
        AgendaItem{.lead_id = std::move(lead_id),
                   .lead_display_name = values[items.size() + i].value_or(""),
                   .task = std::move(stored.task)});
  }
  return page;
}

absl::StatusOr<std::vector<DueTask>> TasksFallingDue(ProjectionReader& reader,
                                                     const Keyspace& agenda,
                                                     absl::Time until,
                                                     int limit) {
  std::string upper = "d/";
  AppendUint64(upper, Biased(absl::ToUnixMicros(until)) + 1);
  std::vector<DueTask> due;
  RETURN_IF_ERROR(
      reader.Scan(agenda, "d/", upper, ScanOrder::kAscending,
                  [&](absl::string_view key, absl::string_view) {
                    std::optional<uint64_t> micros = ReadUint64(key.substr(2));
                    if (!micros.has_value()) return true;
                    auto [lead_id, task_id] = LeadAndTask(key.substr(2 + 8));
                    due.push_back(DueTask{
                        .due_time = absl::FromUnixMicros(Unbiased(*micros)),
                        .lead_id = std::move(lead_id),
                        .task_id = std::move(task_id)});
                    return due.size() < static_cast<size_t>(limit);
                  }));
  return due;
}

absl::StatusOr<std::optional<absl::Time>> NextDueTime(ProjectionReader& reader,
                                                      const Keyspace& agenda) {
  std::optional<absl::Time> next;
  RETURN_IF_ERROR(
      reader.Scan(agenda, "d/", PrefixEnd("d/"), ScanOrder::kAscending,
                  [&](absl::string_view key, absl::string_view) {
                    std::optional<uint64_t> micros = ReadUint64(key.substr(2));
                    if (micros.has_value()) {
                      next = absl::FromUnixMicros(Unbiased(*micros));
                    }
                    return false;
                  }));
  return next;
}

}  // namespace leadledger::projections
