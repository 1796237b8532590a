#include "services/arena_messages.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "leadledger/v1/lead_service.pb.h"

namespace leadledger::services {
namespace {

TEST(ArenaMessagesTest, EachCallsMessagesShareAnArenaOfTheirOwn) {
  ArenaMessages<v1::ListLeadsRequest, v1::ListLeadsResponse> messages;
  auto* first = messages.AllocateMessages();
  auto* second = messages.AllocateMessages();
  ASSERT_NE(first->request()->GetArena(), nullptr);
  EXPECT_EQ(first->response()->GetArena(), first->request()->GetArena());
  EXPECT_NE(second->request()->GetArena(), first->request()->GetArena());

  // A page far larger than the arena's first block.
  for (int i = 0; i < 200; ++i) {
    v1::Lead* lead = first->response()->add_leads();
    lead->set_name(absl::StrCat("leads/lead-", i));
    lead->set_display_name(std::string(100, 'x'));
    lead->add_tags(absl::StrCat("tag-", i));
  }
  first->request()->set_owner_id("owner-1");
  EXPECT_EQ(first->response()->leads_size(), 200);
  EXPECT_EQ(first->response()->leads(199).name(), "leads/lead-199");
  EXPECT_EQ(first->response()->leads(199).GetArena(),
            first->request()->GetArena());
  const std::string wire = first->response()->SerializeAsString();
  v1::ListLeadsResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  EXPECT_EQ(parsed.leads_size(), 200);
  EXPECT_EQ(parsed.leads(0).display_name(), std::string(100, 'x'));

  // Frees everything; AddressSanitizer runs of this test catch a leak or a
  // double free.
  first->Release();
  second->Release();
}

}  // namespace
}  // namespace leadledger::services
