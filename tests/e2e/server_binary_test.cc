// The real leadledgerd and leadctl binaries, as separate processes: a lead is
// created, read back, and read again after the server restarts on the same
// data directory.
#include <signal.h>
#include <sys/types.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "leadledger/v1/lead_service.grpc.pb.h"
#include "tests/testing/server_process.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace leadledger {
namespace {

using ::leadledger::testing::CommandResult;
using ::leadledger::testing::ReadFile;
using ::leadledger::testing::RunCommand;
using ::leadledger::testing::Spawn;
using ::leadledger::testing::WaitForExit;
using ::testing::Contains;
using ::testing::HasSubstr;

// One leadledgerd process on an ephemeral port.
class ServerProcess : public testing::ServerProcess {
 public:
  ServerProcess(const testing::TempDir& dir, const std::string& data_dir,
                const std::vector<std::string>& extra_args = {})
      : testing::ServerProcess(LEADLEDGERD_PATH, dir, data_dir, extra_args) {}
};

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return context;
}

// The "--min_position=P" that reads what a `leadctl --json` mutation, whose
// output is `json`, wrote; "" when the output names no log position.
std::string MinPositionAfter(const std::string& json) {
  const std::string marker = "\"log_position\":\"";
  const size_t at = json.find(marker);
  if (at == std::string::npos) return "";
  const size_t start = at + marker.size();
  return "--min_position=" + json.substr(start, json.find('"', start) - start);
}

class ServerBinaryTest : public ::testing::Test {
 protected:
  std::string data_dir() const { return dir_.Sub("data"); }

  CommandResult Leadctl(const std::string& address,
                        std::vector<std::string> args) {
    args.insert(args.begin(), {LEADCTL_PATH, "--server=" + address});
    return RunCommand(args, dir_.Sub("leadctl.out"));
  }

  testing::TempDir dir_;
};

TEST_F(ServerBinaryTest, LeadSurvivesARestartOfTheServer) {
  std::string name;
  {
    ServerProcess server(dir_, data_dir());
    ASSERT_TRUE(server.WaitUntilServing()) << server.log();
    auto stub = v1::LeadService::NewStub(grpc::CreateChannel(
        server.address(), grpc::InsecureChannelCredentials()));

    v1::CreateLeadRequest create;
    create.mutable_lead()->set_display_name("Kitchen remodel");
    create.mutable_lead()->set_email("ana@example.com");
    v1::CreateLeadResponse created;
    grpc::Status status = stub->CreateLead(Context().get(), create, &created);
    ASSERT_TRUE(status.ok()) << status.error_message();
    name = created.lead().name();

    v1::GetLeadRequest get;
    get.set_name(name);
    v1::GetLeadResponse got;
    ASSERT_TRUE(stub->GetLead(Context().get(), get, &got).ok());
    EXPECT_EQ(got.lead().display_name(), "Kitchen remodel");

    EXPECT_EQ(server.Terminate(), 0) << server.log();
    EXPECT_THAT(server.log(), HasSubstr("stopped"));
  }
  ServerProcess restarted(dir_, data_dir());
  ASSERT_TRUE(restarted.WaitUntilServing()) << restarted.log();
  auto stub = v1::LeadService::NewStub(grpc::CreateChannel(
      restarted.address(), grpc::InsecureChannelCredentials()));
  v1::GetLeadRequest get;
  get.set_name(name);
  v1::GetLeadResponse got;
  grpc::Status status = stub->GetLead(Context().get(), get, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.lead().display_name(), "Kitchen remodel");
  EXPECT_EQ(got.lead().email_normalized(), "ana@example.com");
  EXPECT_EQ(restarted.Terminate(), 0);
}

TEST_F(ServerBinaryTest, CacheSizesOutOfRangeStopTheServerNamingTheFlag) {
  for (const std::string flag :
       {"--row_cache_mb=-1", "--decoded_lead_cache_mb=65537"}) {
    CommandResult result = RunCommand({LEADLEDGERD_PATH, "--listen=127.0.0.1:0",
                                       "--data_dir=" + data_dir(), flag},
                                      dir_.Sub("server.out"));
    EXPECT_EQ(result.exit_code, 2) << flag << ": " << result.output;
    EXPECT_THAT(result.output,
                HasSubstr(flag.substr(0, flag.find('=')) + ": must be"));
  }
}

TEST_F(ServerBinaryTest, LeadctlShowsWhatTheCachesOfTheirSizeDid) {
  ServerProcess server(dir_, data_dir(),
                       {"--row_cache_mb=3", "--decoded_lead_cache_mb=5"});
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  const std::string address = server.address();
  CommandResult created =
      Leadctl(address, {"--json", "lead", "create", "--name=Roof"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const std::string min_position = MinPositionAfter(created.output);
  ASSERT_NE(min_position, "") << created.output;
  CommandResult listed = Leadctl(address, {"lead", "list", min_position});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_THAT(listed.output, HasSubstr("Roof"));
  CommandResult status = Leadctl(address, {"projections", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_THAT(status.output, HasSubstr("/3.0 MiB"));
  EXPECT_THAT(status.output,
              HasSubstr("decoded lead cache hits 0/1 (0.0%), 1 entries"));
  EXPECT_THAT(status.output, HasSubstr("/5.0 MiB"));
}

TEST_F(ServerBinaryTest, LeadctlCreatesReadsAndChecksHealth) {
  ServerProcess server(dir_, data_dir());
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();

  CommandResult health = Leadctl(server.address(), {"health"});
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_THAT(health.output, HasSubstr("status: SERVING"));

  CommandResult created = Leadctl(
      server.address(), {"--json", "lead", "create", "--name=Solar roof",
                         "--email=Bo@Example.com", "--tags=solar,b2b"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_THAT(created.output, HasSubstr("\"display_name\":\"Solar roof\""));
  EXPECT_THAT(created.output,
              HasSubstr("\"email_normalized\":\"bo@example.com\""));
  const size_t at = created.output.find("\"name\":\"leads/");
  ASSERT_NE(at, std::string::npos) << created.output;
  const size_t start = at + std::string("\"name\":\"leads/").size();
  const std::string id =
      created.output.substr(start, created.output.find('"', start) - start);

  CommandResult got = Leadctl(server.address(), {"lead", "get", id});
  ASSERT_EQ(got.exit_code, 0) << got.output;
  EXPECT_THAT(got.output, HasSubstr("display_name: Solar roof"));
  EXPECT_THAT(got.output, HasSubstr("tags: b2b, solar"));
  EXPECT_THAT(got.output, HasSubstr("kind: LEAD_KIND_LEAD"));

  CommandResult missing = Leadctl(server.address(), {"lead", "get", "nobody"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.output, HasSubstr("NOT_FOUND"));

  CommandResult invalid = Leadctl(server.address(), {"lead", "create"});
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_THAT(invalid.output, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(invalid.output, HasSubstr("lead.display_name"));

  CommandResult usage = Leadctl(server.address(), {"lead", "frobnicate"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_THAT(usage.output, HasSubstr("usage"));
}

TEST_F(ServerBinaryTest, LeadctlMutatesLeads) {
  ServerProcess server(dir_, data_dir());
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  const std::string address = server.address();
  CommandResult created = Leadctl(address, {"lead", "create", "--name=Roof"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const size_t at = created.output.find("lead.name: leads/");
  ASSERT_NE(at, std::string::npos) << created.output;
  const size_t start = at + std::string("lead.name: leads/").size();
  const std::string id =
      created.output.substr(start, created.output.find('\n', start) - start);

  auto run = [&](std::vector<std::string> args) {
    CommandResult result = Leadctl(address, std::move(args));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.output;
  };
  EXPECT_THAT(run({"lead", "update", id, "--contact=Ana", "--etag=0"}),
              HasSubstr("lead.contact_name: Ana"));
  EXPECT_THAT(run({"lead", "classify", id, "HOT_PROSPECT"}),
              HasSubstr("lead.classification: HOT_PROSPECT"));
  EXPECT_THAT(run({"lead", "probability", id, "40"}),
              HasSubstr("lead.probability: 40"));
  EXPECT_THAT(run({"lead", "probability", id, "clear"}),
              ::testing::Not(HasSubstr("probability_override")));
  EXPECT_THAT(run({"lead", "lose", id, "--reason=Too expensive"}),
              HasSubstr("lead.status: LEAD_STATUS_LOST"));
  EXPECT_THAT(run({"lead", "restore", id}),
              HasSubstr("lead.status: LEAD_STATUS_ACTIVE"));
  EXPECT_THAT(run({"lead", "unclassify", id}),
              ::testing::Not(HasSubstr("classification")));

  CommandResult won = Leadctl(address, {"lead", "win", id});
  EXPECT_EQ(won.exit_code, 1);
  EXPECT_THAT(won.output, HasSubstr("FAILED_PRECONDITION"));
  CommandResult stale =
      Leadctl(address, {"lead", "update", id, "--contact=Bo", "--etag=0"});
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_THAT(stale.output, HasSubstr("ABORTED"));
  EXPECT_EQ(Leadctl(address, {"lead", "update", id}).exit_code, 2);
  CommandResult other = Leadctl(address, {"lead", "create", "--name=Dup"});
  ASSERT_EQ(other.exit_code, 0) << other.output;
  const size_t other_at = other.output.find("lead.name: leads/") + 17;
  const std::string other_id = other.output.substr(
      other_at, other.output.find('\n', other_at) - other_at);
  EXPECT_THAT(run({"lead", "merge", id, other_id}),
              HasSubstr("merged_leads: leads/" + other_id));
  EXPECT_EQ(Leadctl(address, {"lead", "probability", id, "lots"}).exit_code, 2);
}

TEST_F(ServerBinaryTest, LeadctlWorksTheAgenda) {
  ServerProcess server(dir_, data_dir());
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  const std::string address = server.address();
  auto run = [&](std::vector<std::string> args) {
    CommandResult result = Leadctl(address, std::move(args));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.output;
  };
  const std::string created =
      run({"lead", "create", "--name=Roof", "--owner=ana"});
  const size_t at = created.find("lead.name: leads/");
  ASSERT_NE(at, std::string::npos) << created;
  const size_t start = at + std::string("lead.name: leads/").size();
  const std::string id =
      created.substr(start, created.find('\n', start) - start);

  const std::string classified = run({"lead", "classify", id, "HOT_PROSPECT"});
  const size_t position_at = classified.find("log_position: ");
  ASSERT_NE(position_at, std::string::npos) << classified;
  const std::string position = classified.substr(
      position_at + 14, classified.find('\n', position_at) - position_at - 14);
  const std::string agenda =
      run({"agenda", "ana", absl::StrCat("--min_position=", position)});
  EXPECT_THAT(agenda, HasSubstr("Follow up: "));
  EXPECT_THAT(agenda, HasSubstr("[Roof]"));

  const std::string task =
      run({"task", "create", id, "--title=Send the quote",
           "--due=2030-01-02T09:00:00Z", "--kind=contact"});
  EXPECT_THAT(task, HasSubstr("task.title: Send the quote"));
  const size_t name_at = task.find("task.name: ");
  ASSERT_NE(name_at, std::string::npos) << task;
  const std::string task_name =
      task.substr(name_at + 11, task.find('\n', name_at) - name_at - 11);
  EXPECT_THAT(run({"task", "complete", task_name, "--outcome=NOT_SURE_YET",
                   "--note=called"}),
              HasSubstr("lead.name: leads/"));
  CommandResult bad = Leadctl(address, {"task", "create", id, "--due=soon"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.output, HasSubstr("RFC 3339"));

  const std::string status = run({"projections", "status"});
  EXPECT_THAT(status, HasSubstr("agenda  v"));
  EXPECT_THAT(status, HasSubstr("scheduler  v"));
  const std::string rebuilt = run({"projections", "rebuild", "agenda"});
  EXPECT_THAT(rebuilt, HasSubstr("promoted"));
  EXPECT_THAT(run({"agenda", "ana"}), HasSubstr("[Roof]"));
  CommandResult unknown = Leadctl(address, {"projections", "rebuild", "nope"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.output, HasSubstr("names[0]"));
}

TEST_F(ServerBinaryTest, LeadctlReadsHistoryAndTheLog) {
  ServerProcess server(dir_, data_dir());
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  const std::string address = server.address();
  CommandResult created =
      Leadctl(address, {"--actor=alice", "lead", "create", "--name=Roof"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const size_t at = created.output.find("lead.name: leads/");
  ASSERT_NE(at, std::string::npos) << created.output;
  const size_t start = at + std::string("lead.name: leads/").size();
  const std::string id =
      created.output.substr(start, created.output.find('\n', start) - start);
  // Not a classification: the scheduler would append its follow-up task.
  ASSERT_EQ(Leadctl(address, {"lead", "probability", id, "40"}).exit_code, 0);

  CommandResult history = Leadctl(address, {"history", id});
  ASSERT_EQ(history.exit_code, 0) << history.output;
  EXPECT_THAT(history.output, HasSubstr("version 0  position 1  "));
  EXPECT_THAT(history.output, HasSubstr("LeadCreated  by alice"));
  EXPECT_THAT(history.output, HasSubstr("version 1  position 2  "));
  EXPECT_THAT(history.output, HasSubstr("\"value\":40"));

  CommandResult as_of = Leadctl(address, {"asof", id, "--version", "0"});
  ASSERT_EQ(as_of.exit_code, 0) << as_of.output;
  EXPECT_THAT(as_of.output, HasSubstr("lead.etag: 0"));
  EXPECT_THAT(as_of.output, ::testing::Not(HasSubstr("probability_override")));

  CommandResult log =
      Leadctl(address, {"log", "read", "--types=ProbabilityOverridden"});
  ASSERT_EQ(log.exit_code, 0) << log.output;
  EXPECT_THAT(log.output, HasSubstr("position 2  lead-" + id + " version 1  "));
  EXPECT_THAT(log.output, ::testing::Not(HasSubstr("LeadCreated")));
  EXPECT_THAT(log.output, HasSubstr("head_position: 2"));

  CommandResult followed =
      Leadctl(address, {"--json", "log", "subscribe", "--from=2", "--limit=1"});
  ASSERT_EQ(followed.exit_code, 0) << followed.output;
  EXPECT_THAT(followed.output, HasSubstr("\"type\":\"ProbabilityOverridden\""));

  CommandResult unknown = Leadctl(address, {"log", "read", "--types=Nope"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.output, HasSubstr("event_types[0]"));
}

TEST_F(ServerBinaryTest, LeadctlImportsListsFindsDuplicatesAndConverts) {
  ServerProcess server(dir_, data_dir());
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  const std::string address = server.address();
  const std::string file = dir_.Sub("leads.jsonl");
  {
    std::ofstream out(file);
    out << R"({"display_name": "Solar roof", "email": "ana@acme.com",)"
        << R"( "contact_name": "Ana Ruiz"})"
        << "\n\n"
        << R"({"display_name": "Roof again", "email": "ana@acme.com"})"
        << "\n"
        << R"({"display_name": "Heat pump", "owner_id": "bob"})"
        << "\n";
  }
  CommandResult imported = Leadctl(address, {"--json", "lead", "import", file});
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  // The log position of the import, for reads that must see it.
  const std::string min_position = MinPositionAfter(imported.output);
  ASSERT_NE(min_position, "") << imported.output;

  CommandResult listed = Leadctl(address, {"lead", "list", min_position});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  std::vector<std::string> lines =
      absl::StrSplit(listed.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << listed.output;
  EXPECT_THAT(lines[0], HasSubstr("Solar roof"));
  EXPECT_THAT(lines[2], HasSubstr("LEAD_STATUS_ACTIVE\tHeat pump"));
  const std::string first = lines[0].substr(0, lines[0].find('\t'));
  const std::string second = lines[1].substr(0, lines[1].find('\t'));

  CommandResult pump = Leadctl(
      address, {"lead", "list", "--text=PUMP", "--owner=bob", min_position});
  EXPECT_EQ(pump.exit_code, 0) << pump.output;
  EXPECT_THAT(pump.output, HasSubstr("Heat pump"));
  EXPECT_THAT(pump.output, ::testing::Not(HasSubstr("roof")));
  CommandResult paged =
      Leadctl(address, {"lead", "list", "--page_size=1", min_position});
  EXPECT_THAT(paged.output, HasSubstr("next_page_token: "));

  CommandResult duplicates =
      Leadctl(address, {"lead", "duplicates", first, min_position});
  ASSERT_EQ(duplicates.exit_code, 0) << duplicates.output;
  EXPECT_THAT(duplicates.output, HasSubstr(second + "\temail\tRoof again"));

  CommandResult converted =
      Leadctl(address, {"lead", "convert", first, "--customer_action=create"});
  ASSERT_EQ(converted.exit_code, 0) << converted.output;
  EXPECT_THAT(converted.output, HasSubstr("lead.kind: LEAD_KIND_OPPORTUNITY"));
  EXPECT_THAT(converted.output, HasSubstr("customer_created: true"));
  EXPECT_EQ(
      Leadctl(address, {"lead", "convert", second, "--customer_action=maybe"})
          .exit_code,
      2);
  EXPECT_EQ(Leadctl(address, {"lead", "list", "--kind=plant"}).exit_code, 2);

  const std::string bad = dir_.Sub("bad.jsonl");
  {
    std::ofstream out(bad);
    out << R"({"display_name": "Fine"})"
        << "\n"
        << R"({"display_name": ""})"
        << "\n";
  }
  CommandResult refused = Leadctl(address, {"lead", "import", bad});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.output, HasSubstr("bad.jsonl:2: INVALID_ARGUMENT"));
  EXPECT_THAT(refused.output, HasSubstr("requests[1].lead.display_name"));
  {
    std::ofstream out(bad);
    out << "{not json\n";
  }
  refused = Leadctl(address, {"lead", "import", bad});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.output, HasSubstr("bad.jsonl:1: not a Lead in JSON"));
  CommandResult after = Leadctl(address, {"lead", "list", min_position});
  lines = absl::StrSplit(after.output, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 3u) << after.output;
}

TEST_F(ServerBinaryTest, LeadctlSettingsLiveInTheLogAcrossARestart) {
  {
    ServerProcess server(dir_, data_dir());
    ASSERT_TRUE(server.WaitUntilServing()) << server.log();
    const std::string address = server.address();
    CommandResult defaults = Leadctl(address, {"settings", "get"});
    ASSERT_EQ(defaults.exit_code, 0) << defaults.output;
    EXPECT_THAT(defaults.output, HasSubstr("etag: 0\n"));
    EXPECT_THAT(defaults.output, HasSubstr("leads_enabled: true\n"));
    EXPECT_THAT(defaults.output, HasSubstr("catalogue[1].id: HOT_PROSPECT\n"));

    // What --json settings get prints is what --catalogue_file reads.
    CommandResult json = Leadctl(address, {"--json", "settings", "get"});
    ASSERT_EQ(json.exit_code, 0) << json.output;
    const std::string catalogue = dir_.Sub("catalogue.json");
    std::ofstream(catalogue) << json.output;

    CommandResult set =
        Leadctl(address, {"settings", "set", "--noleads_enabled",
                          "--pipeline=Open,Won", "--default_country=pt",
                          "--catalogue_file=" + catalogue, "--etag=0"});
    ASSERT_EQ(set.exit_code, 0) << set.output;
    EXPECT_THAT(set.output, HasSubstr("settings.leads_enabled: false\n"));
    EXPECT_THAT(set.output, HasSubstr("settings.pipeline: Open, Won\n"));
    EXPECT_THAT(set.output, HasSubstr("settings.default_country: PT\n"));
    // Three changes; the catalogue read back is the same one.
    EXPECT_THAT(set.output, HasSubstr("settings.etag: 3\n"));

    CommandResult stale =
        Leadctl(address, {"settings", "set", "--skip_weekends", "--etag=0"});
    EXPECT_EQ(stale.exit_code, 1);
    EXPECT_THAT(stale.output, HasSubstr("ABORTED"));
    EXPECT_EQ(Leadctl(address, {"settings", "set"}).exit_code, 2);

    CommandResult created = Leadctl(address, {"lead", "create", "--name=Roof"});
    ASSERT_EQ(created.exit_code, 0) << created.output;
    EXPECT_THAT(created.output, HasSubstr("kind: LEAD_KIND_OPPORTUNITY"));
    EXPECT_EQ(server.Terminate(), 0) << server.log();
  }
  ServerProcess restarted(dir_, data_dir());
  ASSERT_TRUE(restarted.WaitUntilServing()) << restarted.log();
  const std::string address = restarted.address();
  CommandResult got = Leadctl(address, {"settings", "get"});
  ASSERT_EQ(got.exit_code, 0) << got.output;
  EXPECT_THAT(got.output, HasSubstr("etag: 3\n"));
  EXPECT_THAT(got.output, HasSubstr("leads_enabled: false\n"));
  EXPECT_THAT(got.output, HasSubstr("pipeline: Open, Won\n"));

  CommandResult verified = Leadctl(address, {"verify"});
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_THAT(verified.output, HasSubstr("events: 4\n"));
  CommandResult backup = Leadctl(address, {"backup", "after-restart"});
  EXPECT_EQ(backup.exit_code, 0) << backup.output;
  EXPECT_THAT(backup.output, HasSubstr("event_count: 4\n"));
  EXPECT_THAT(backup.output, HasSubstr(dir_.Sub("data/backups/after-restart")));
  EXPECT_EQ(restarted.Terminate(), 0);
}

TEST_F(ServerBinaryTest, ReflectionDescribesTheApi) {
  ServerProcess server(dir_, data_dir());
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  auto stub =
      grpc::reflection::v1alpha::ServerReflection::NewStub(grpc::CreateChannel(
          server.address(), grpc::InsecureChannelCredentials()));
  auto context = Context();
  auto stream = stub->ServerReflectionInfo(context.get());

  grpc::reflection::v1alpha::ServerReflectionRequest list;
  list.set_list_services("");
  ASSERT_TRUE(stream->Write(list));
  grpc::reflection::v1alpha::ServerReflectionResponse listed;
  ASSERT_TRUE(stream->Read(&listed));
  std::vector<std::string> services;
  for (const auto& service : listed.list_services_response().service()) {
    services.push_back(service.name());
  }
  EXPECT_THAT(services, Contains("leadledger.v1.LeadService"));
  EXPECT_THAT(services, Contains("leadledger.v1.HistoryService"));
  EXPECT_THAT(services, Contains("leadledger.v1.AdminService"));
  EXPECT_THAT(services, Contains("grpc.health.v1.Health"));

  grpc::reflection::v1alpha::ServerReflectionRequest describe;
  describe.set_file_containing_symbol("leadledger.v1.LeadService");
  ASSERT_TRUE(stream->Write(describe));
  grpc::reflection::v1alpha::ServerReflectionResponse described;
  ASSERT_TRUE(stream->Read(&described));
  ASSERT_GT(described.file_descriptor_response().file_descriptor_proto_size(),
            0);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(
      described.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "leadledger/v1/lead_service.proto");
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ServerBinaryTest, SecondServerOnALockedDataDirFailsClearly) {
  ServerProcess first(dir_, data_dir());
  ASSERT_TRUE(first.WaitUntilServing()) << first.log();
  CommandResult second = RunCommand(
      {LEADLEDGERD_PATH, "--listen=127.0.0.1:0", "--data_dir=" + data_dir()},
      dir_.Sub("second.log"));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.output, HasSubstr("lock"));
}

TEST_F(ServerBinaryTest, BadFlagIsRefused) {
  CommandResult result = RunCommand(
      {LEADLEDGERD_PATH, "--shutdown_grace=forever"}, dir_.Sub("flag.log"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.output, HasSubstr("shutdown_grace"));
}

}  // namespace
}  // namespace leadledger
