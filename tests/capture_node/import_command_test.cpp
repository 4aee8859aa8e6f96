#include "capture_node/import_command.h"

#include <gtest/gtest.h>

namespace booth {
namespace {

Result<ImportCommandOptions> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "import-choreography");
  return parseImportCommand(static_cast<int>(args.size()), args.data());
}

TEST(ImportCommand, ParsesEveryOption) {
  auto opt = parse({"--video", "salsa.mp4", "--pose-model", "m.json", "--name", "salsa-1", "--out",
                    "salsa.json", "--pose-input", "320x240"});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_EQ(opt->import.video, "salsa.mp4");
  EXPECT_EQ(opt->import.pose.model_path, "m.json");
  EXPECT_EQ(opt->import.name, "salsa-1");
  EXPECT_EQ(opt->out, "salsa.json");
  EXPECT_EQ(opt->import.pose.input_width, 320);
  EXPECT_EQ(opt->import.pose.input_height, 240);
}

TEST(ImportCommand, AutoInputLeavesTheSizeToTheVideo) {
  auto opt = parse({"--video", "v.mp4", "--pose-model", "m.json", "--name", "n", "--out", "o.json"});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_EQ(opt->import.pose.input_width, 0);
}

TEST(ImportCommand, EachMissingOrBadValueNamesItsOption) {
  const std::vector<std::pair<std::vector<const char*>, std::string>> cases = {
      {{"--pose-model", "m.json", "--name", "n", "--out", "o"}, "--video"},
      {{"--video", "v", "--name", "n", "--out", "o"}, "--pose-model"},
      {{"--video", "v", "--pose-model", "m", "--out", "o"}, "--name"},
      {{"--video", "v", "--pose-model", "m", "--name", "n"}, "--out"},
      {{"--video", "v", "--pose-model", "m", "--name", "a b", "--out", "o"}, "--name 'a b'"},
      {{"--video", "v", "--pose-model", "m", "--name", "n", "--out", "o", "--pose-input", "big"},
       "--pose-input 'big'"},
  };
  for (const auto& [args, expect] : cases) {
    auto opt = parse(args);
    ASSERT_FALSE(opt.ok()) << expect;
    EXPECT_NE(opt.error().find(expect), std::string::npos) << opt.error();
  }
}

TEST(ImportCommand, HelpListsTheOptions) {
  auto opt = parse({"--help"});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_TRUE(opt->help);
  EXPECT_NE(opt->help_text.find("--video"), std::string::npos);
}

}  // namespace
}  // namespace booth
