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

TEST(TrainerOptions, DatabaseDefaultsToTheEmbeddedStores) {
  auto opt = parse({});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_EQ(opt->database_url, "");
}

TEST(TrainerOptions, DatabaseTakesAPostgresUrl) {
  auto opt = parse({"--database", "postgresql://booth:pw@db:5432/booth"});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_EQ(opt->database_url, "postgresql://booth:pw@db:5432/booth");
}

TEST(TrainerOptions, DatabaseRefusesOtherUrlsWithoutEchoingThePassword) {
  auto opt = parse({"--database", "mysql://booth:secret@db/booth"});
  ASSERT_FALSE(opt.ok());
  EXPECT_NE(opt.error().find("--database"), std::string::npos) << opt.error();
  EXPECT_EQ(opt.error().find("secret"), std::string::npos) << opt.error();
}

TEST(TrainerOptions, RolesDefaultToAllThree) {
  auto opt = parse({});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_TRUE(opt->roles.ingest && opt->roles.worker && opt->roles.http);
  EXPECT_EQ(opt->runner.lease, std::chrono::seconds(30));
}

TEST(TrainerOptions, ASetOfRolesWithTheSharedDatabase) {
  // A worker alone needs no capture-node keys (without --insecure too).
  std::vector<const char*> args = {"trainer_node", "--roles", "worker",
                                   "--database", "postgresql://booth:pw@db/booth",
                                   "--lease", "12", "--worker-id", "gpu-3"};
  auto opt = parseTrainerOptions(static_cast<int>(args.size()), args.data());
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_FALSE(opt->roles.ingest);
  EXPECT_TRUE(opt->roles.worker);
  EXPECT_FALSE(opt->roles.http);
  EXPECT_EQ(opt->runner.lease, std::chrono::seconds(12));
  EXPECT_EQ(opt->runner.worker_id, "gpu-3");
  auto roles = parseTrainerRoles("http,ingest");
  ASSERT_TRUE(roles.ok()) << roles.error();
  EXPECT_TRUE(roles->http && roles->ingest && !roles->worker);
}

TEST(TrainerOptions, BadRolesAreRefusedNamingTheWord) {
  for (const char* bad : {"worker,cook", "", "worker,,http", "http,http"}) {
    auto roles = parseTrainerRoles(bad);
    ASSERT_FALSE(roles.ok()) << bad;
    EXPECT_NE(roles.error().find("--roles"), std::string::npos) << roles.error();
  }
  EXPECT_NE(parseTrainerRoles("worker,cook").error().find("'cook'"), std::string::npos);
  // Without the shared database one process runs every role.
  auto alone = parse({"--roles", "worker"});
  ASSERT_FALSE(alone.ok());
  EXPECT_NE(alone.error().find("needs --database"), std::string::npos) << alone.error();
  auto bad_id = parse({"--worker-id", "../x"});
  ASSERT_FALSE(bad_id.ok());
  EXPECT_NE(bad_id.error().find("--worker-id"), std::string::npos) << bad_id.error();
  auto bad_lease = parse({"--lease", "1"});
  ASSERT_FALSE(bad_lease.ok());
  EXPECT_NE(bad_lease.error().find("--lease"), std::string::npos) << bad_lease.error();
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


// --- HTTP hardening and retention options ---

TEST(TrainerOptions, HttpAndRetentionDefaultsAreSafe) {
  auto opt = parse({"--data-dir", "/var/lib/booth"});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_EQ(opt->http.operator_token_file, "/var/lib/booth/operator_token");
  EXPECT_TRUE(opt->http.create_operator_token);
  EXPECT_LE(opt->runner.train.budget_seconds, opt->http.max_train_budget_seconds);
  EXPECT_DOUBLE_EQ(opt->http.default_train_budget_seconds, opt->runner.train.budget_seconds);
  EXPECT_GT(opt->http.limits.threads, opt->http.max_downloads + opt->http.max_event_streams);
  EXPECT_GT(opt->http.limits.max_body_bytes, 0u);
  EXPECT_GT(opt->http.clip_bytes_per_second, 0);
  EXPECT_EQ(opt->retention.keep_done, std::chrono::hours(72));
  EXPECT_EQ(opt->retention.keep_consented, std::chrono::hours(24 * 90));
}

TEST(TrainerOptions, ReadsHttpAndRetentionOptions) {
  auto opt = parse({"--operator-token-file", "/etc/booth/operator.token", "--max-train-budget",
                    "600", "--http-threads", "64", "--http-max-downloads", "32", "--http-timeout", "20",
                    "--http-max-body", "4096",
                    "--clip-bandwidth", "0", "--retention-hours", "0",
                    "--failed-retention-minutes", "5", "--consented-retention-days", "30"});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_EQ(opt->http.operator_token_file, "/etc/booth/operator.token");
  EXPECT_FALSE(opt->http.create_operator_token);
  EXPECT_DOUBLE_EQ(opt->http.max_train_budget_seconds, 600);
  EXPECT_EQ(opt->http.limits.threads, 64u);
  EXPECT_EQ(opt->http.limits.request_deadline, std::chrono::seconds(20));
  EXPECT_EQ(opt->http.limits.max_body_bytes, 4096u);
  EXPECT_DOUBLE_EQ(opt->http.clip_bytes_per_second, 0);
  EXPECT_EQ(opt->retention.keep_done, std::chrono::seconds(0));
  EXPECT_EQ(opt->retention.keep_failed, std::chrono::minutes(5));
  EXPECT_EQ(opt->retention.keep_consented, std::chrono::hours(24 * 30));
}

TEST(TrainerOptions, ReadsConnectionLimitsAndTheOperatorSessionLifetime) {
  auto defaults = parse({});
  ASSERT_TRUE(defaults.ok()) << defaults.error();
  EXPECT_EQ(defaults->http.operator_session_lifetime, std::chrono::hours(12));
  auto opt = parse({"--http-max-connections", "300", "--http-max-connections-per-address", "20",
                    "--operator-session-hours", "0.5"});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_EQ(opt->http.limits.max_connections, 300u);
  EXPECT_EQ(opt->http.limits.max_connections_per_address, 20u);
  EXPECT_EQ(opt->http.operator_session_lifetime, std::chrono::minutes(30));
}

TEST(TrainerOptions, RejectsBadHttpAndRetentionValues) {
  for (const auto& args : std::vector<std::vector<const char*>>{
           {"--train-budget", "1000", "--max-train-budget", "900"},
           {"--max-train-budget", "0"},
           {"--http-threads", "2"},
           {"--http-threads", "16", "--http-max-downloads", "12", "--http-max-streams", "4"},
           {"--http-timeout", "0"},
           {"--http-max-body", "10"},
           {"--http-nice", "20"},
           {"--clip-bandwidth", "-1"},
           {"--retention-hours", "-1"},
           {"--failed-retention-minutes", "0"},
           {"--consented-retention-days", "-1"},
           {"--http-max-connections", "8"},
           {"--http-max-connections", "100", "--http-max-connections-per-address", "200"},
           {"--operator-session-hours", "0"}}) {
    auto opt = parse(args);
    ASSERT_FALSE(opt.ok()) << args[0];
    EXPECT_NE(opt.error().find(args[args.size() - 2]), std::string::npos) << opt.error();
  }
}

TEST(TrainerOptions, MissingBaseCheckpointNamesThePath) {
  auto opt = parse({"--base-checkpoint", "/nonexistent/base.pt"});
  ASSERT_FALSE(opt.ok());
  EXPECT_NE(opt.error().find("/nonexistent/base.pt"), std::string::npos);
  EXPECT_NE(opt.error().find("trainer_node pretrain"), std::string::npos);
}

TEST(TrainerOptions, ModelAndTrainingOptionsReachTheRunner) {
  auto opt = parse({"--d-scales", "3", "--lambda-feat", "5", "--face-gan", "false", "--precision",
                    "bf16", "--threads", "1", "--generator", "warp", "--d-lr-scale", "0.5",
                    "--instance-noise", "0.1"});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_EQ(opt->runner.model.generator, GeneratorKind::kWarp);
  EXPECT_FLOAT_EQ(opt->runner.train.d_learning_rate_scale, 0.5f);
  EXPECT_FLOAT_EQ(opt->runner.train.instance_noise, 0.1f);
  EXPECT_EQ(opt->runner.model.d_scales, 3);
  EXPECT_FLOAT_EQ(opt->runner.train.lambda_feat, 5.f);
  EXPECT_FALSE(opt->runner.train.face_gan);
  EXPECT_FALSE(opt->runner.render.face_gan);
  EXPECT_EQ(opt->runner.train.precision, Precision::kBfloat16);
  EXPECT_EQ(opt->threads, 1);
}

TEST(TrainerOptions, RejectsBadModelValuesOnce) {
  for (const auto& [flag, value] : std::vector<std::pair<const char*, const char*>>{
           {"--precision", "fp8"}, {"--device", "tpu"}, {"--cuda-graph", "true"},
           {"--resolution", "20"}, {"--generator", "gan"}, {"--d-lr-scale", "0"},
           {"--instance-noise", "-1"}}) {
    auto opt = parse({flag, value});
    ASSERT_FALSE(opt.ok()) << flag;
    EXPECT_NE(opt.error().find(flag), std::string::npos) << opt.error();
  }
}

Result<PretrainOptions> parsePretrain(std::vector<const char*> args) {
  args.insert(args.begin(), "pretrain");
  args.insert(args.begin(), "trainer_node");
  return parsePretrainOptions(static_cast<int>(args.size()), args.data());
}

TEST(PretrainOptions, HeldOutNamesLeaveTheCorpus) {
  auto opt = parsePretrain({"--hold-out-performers", "ada", "--hold-out-choreographies",
                            "warmup,disco", "--iterations", "100", "--out", "/tmp/b.pt"});
  ASSERT_TRUE(opt.ok()) << opt.error();
  const auto& c = opt->pretrain.corpus;
  EXPECT_EQ(c.performers, (std::vector<std::string>{"ben", "cleo", "dev"}));
  EXPECT_EQ(c.choreographies, (std::vector<std::string>{"robot", "wave"}));
  EXPECT_EQ(opt->pretrain.train.max_iterations, 100);
  EXPECT_EQ(opt->pretrain.out, "/tmp/b.pt");
}

TEST(PretrainOptions, RejectsBadValuesNamingTheOption) {
  for (const auto& [flag, value] : std::vector<std::pair<const char*, const char*>>{
           {"--iterations", "0"},
           {"--hold-out-performers", "zed"},
           {"--choreographies", "tango"},
           {"--progress", "sometimes"}}) {
    auto opt = parsePretrain({flag, value});
    ASSERT_FALSE(opt.ok()) << flag;
    EXPECT_NE(opt.error().find(flag), std::string::npos) << opt.error();
  }
}

TEST(PretrainOptions, HoldingOutEveryChoreographyIsAnError) {
  auto opt = parsePretrain({"--choreographies", "disco", "--hold-out-choreographies", "disco"});
  ASSERT_FALSE(opt.ok());
  EXPECT_NE(opt.error().find("no choreography"), std::string::npos) << opt.error();
}

}  // namespace
}  // namespace booth
