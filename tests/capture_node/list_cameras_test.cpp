// `capture_node --list-cameras` as a real process: it lists what /dev has
// (on a machine without cameras: says there are none) and exits 0.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support/child_process.h"

namespace booth {
namespace {

TEST(ListCameras, PrintsEveryVideoNodeOrSaysThereIsNoneAndExitsZero) {
  const std::string log =
      (std::filesystem::temp_directory_path() / ("list_cameras_" + std::to_string(::getpid())))
          .string();
  testing::ChildProcess node(BOOTH_CAPTURE_BIN, {"--list-cameras"}, log);
  ASSERT_TRUE(node.started());
  const std::optional<int> code = node.wait(std::chrono::seconds(30));
  const std::string out = node.output();
  std::filesystem::remove(log);
  ASSERT_TRUE(code.has_value()) << out;
  EXPECT_EQ(*code, 0) << out;
  bool any_node = false;
  for (const auto& entry : std::filesystem::directory_iterator("/dev")) {
    const std::string name = entry.path().filename().string();
    const std::string number = name.rfind("video", 0) == 0 ? name.substr(5) : "";
    if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) continue;
    any_node = true;
    EXPECT_NE(out.find("/dev/" + name + ":"), std::string::npos) << out;
  }
  if (!any_node) {
    EXPECT_NE(out.find("no V4L2 devices"), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace booth
