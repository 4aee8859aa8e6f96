// trainer_node options: typed parsing and one clear error per bad value.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "trainer_node/trainer_options.h"

namespace booth {
namespace {

Result<TrainerOptions> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "trainer_node");
  args.push_back("--insecure");  // the tests here are about other options
  return parseTrainerOptions(static_cast<int>(args.size()), args.data());
}

TEST(TrainerOptions, DefaultsAreValid) {
  auto opt = parse({});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_EQ(opt->runner.device, "cpu");
  EXPECT_FALSE(opt->http.choreographies.empty());
}

TEST(TrainerOptions, ReadsAConfigFile) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("booth_trainer_" + std::to_string(getpid()) + ".conf");
  {
    std::ofstream out(path);
    out << "train-budget=33\nhttp-port=9099\nchoreography=robot\n";
  }
  const std::string arg = path.string();
  auto opt = parse({"--config", arg.c_str()});
  std::filesystem::remove(path);
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_DOUBLE_EQ(opt->runner.train.budget_seconds, 33);
  EXPECT_EQ(opt->http.port, 9099);
  EXPECT_EQ(opt->runner.render.choreography, "robot");
}

TEST(TrainerOptions, RejectsBadValuesNamingTheOption) {
  for (const auto& [flag, value] :
       std::vector<std::pair<const char*, const char*>>{{"--train-budget", "0"},
                                                        {"--http-port", "70000"},
                                                        {"--panel-size", "33"},
                                                        {"--choreography", "tango"},
                                                        {"--clip-fps", "0"}}) {
    auto opt = parse({flag, value});
    ASSERT_FALSE(opt.ok()) << flag;
    EXPECT_NE(opt.error().find(flag), std::string::npos) << opt.error();
  }
}

TEST(TrainerOptions, MissingWarmStartNamesThePath) {
  auto opt = parse({"--warm-start", "/nonexistent/g.pt"});
  ASSERT_FALSE(opt.ok());
  EXPECT_NE(opt.error().find("/nonexistent/g.pt"), std::string::npos);
}

}  // namespace
}  // namespace booth
