// An HTTP front-end serves clips and posters from the blob store, not from
// a path in the job: a clip put only into the store (the local folder, or
// PostgreSQL in the fixture's server: exit 77 where it cannot run) is
// downloaded whole and by ranges, its poster made once and stored beside
// it. And a front-end without the ingest refuses sessions, saying where
// they start. With the shared stores (PostgreSQL) the operator deletes a
// visitor's data and the visitor withdraws their consent as with the
// embedded ones.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <httplib.h>
#include <opencv2/core.hpp>

#include "job_fixtures.h"
#include "support/test_database.h"
#include "trainer_node/http/front_end_booth_control.h"
#include "trainer_node/http/http_api.h"
#include "trainer_node/render/mp4_writer.h"
#include "trainer_node/store/blob_files.h"
#include "trainer_node/store/clip_names.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/local_blob_store.h"
#include "trainer_node/store/pg/pg_blob_store.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_job_queue.h"

namespace booth {
namespace {

namespace fs = std::filesystem;
const std::string kToken = "0123456789abcdef0123456789abcdef";
const std::string kOperator = "operator-token-for-the-test-0123";

class ClipStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("booth_clip_store_" + std::to_string(getpid()) + "_" +
                                        std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    auto s = JobStore::open((dir_ / "jobs.sqlite").string());
    ASSERT_TRUE(s.ok()) << s.error();
    store_ = std::move(s.value());
    queue_ = std::make_unique<EmbeddedJobQueue>(*store_);
  }
  void TearDown() override {
    api_.reset();
    retention_.reset();
    hub_.reset();
    queue_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void start(BlobStore& blobs) { start(blobs, *queue_); }
  void start(BlobStore& blobs, JobQueue& queue) {
    hub_ = std::make_unique<EventHub>(EventHubConfig{}, queue, [] { return std::vector<NodeInfo>{}; });
    hub_->start();
    sessions_ = std::make_unique<SessionStore>(dir_, false);
    retention_ = std::make_unique<RetentionSweeper>(RetentionConfig{}, queue, blobs, *sessions_);
    HttpConfig config;
    config.port = 0;
    config.operator_token = kOperator;
    config.clip_bytes_per_second = 0;
    config.scratch_dir = dir_ / "scratch";
    api_ = std::make_unique<HttpApi>(config, queue, booth_, *hub_, blobs, *retention_);
    auto st = api_->start();
    ASSERT_TRUE(st.ok()) << st.error();
  }
  // A done job whose 20-frame clip is only in `blobs`; returns its bytes.
  std::string putDoneClip(BlobStore& blobs) {
    const fs::path file = dir_ / "made.mp4";
    Mp4Writer w;
    EXPECT_TRUE(w.open(file.string(), 96, 64, 10).ok());
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE(w.write(cv::Mat(64, 96, CV_8UC3, cv::Scalar(i * 10, 90, 200))).ok());
    }
    EXPECT_TRUE(w.close().ok());
    auto st = storeFileAsBlob(blobs, file, clipBlobKey(kToken));
    EXPECT_TRUE(st.ok()) << st.error();
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    fs::remove(file);
    JobRecord j;
    j.id = "j1";
    j.session_id = "s-j1";
    j.state = JobState::kDone;
    j.clip_token = kToken;
    EXPECT_TRUE(test::insertInState(*store_, j).ok());
    JobRecord done = *store_->get("j1");
    done.clip_path = clipBlobKey(kToken);  // what a worker on PostgreSQL records
    done.clip_bytes = static_cast<std::int64_t>(bytes.size());
    EXPECT_TRUE(store_->update(done).ok());
    return bytes;
  }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", api_->port());
    c.set_read_timeout(30, 0);
    return c;
  }
  void expectServedFrom(BlobStore& blobs) {
    const std::string file = putDoneClip(blobs);
    start(blobs);
    auto c = client();
    const std::string path = "/clips/" + kToken + ".mp4";
    auto whole = c.Get(path);
    ASSERT_TRUE(whole);
    EXPECT_EQ(whole->status, 200);
    EXPECT_EQ(whole->body, file);

    auto one = c.Get(path, {{"Range", "bytes=1000-"}});
    ASSERT_TRUE(one);
    EXPECT_EQ(one->status, 206);
    EXPECT_EQ(one->body, file.substr(1000));
    EXPECT_EQ(one->get_header_value("Content-Range"),
              "bytes 1000-" + std::to_string(file.size() - 1) + "/" + std::to_string(file.size()));

    auto two = c.Get(path, {{"Range", "bytes=0-9,-5"}});
    ASSERT_TRUE(two);
    EXPECT_EQ(two->status, 206);
    EXPECT_NE(two->body.find(file.substr(0, 10)), std::string::npos);
    EXPECT_NE(two->body.find(file.substr(file.size() - 5)), std::string::npos);

    auto poster = c.Get("/c/" + kToken + "/poster.jpg");
    ASSERT_TRUE(poster);
    ASSERT_EQ(poster->status, 200) << poster->body;
    EXPECT_EQ(poster->body.substr(0, 2), "\xff\xd8");
    auto stored = blobs.read(posterBlobKey(kToken));
    ASSERT_TRUE(stored.ok()) << stored.error();
    EXPECT_EQ(stored.value(), poster->body) << "made once, kept beside the clip";
    EXPECT_TRUE(fs::is_empty(dir_ / "scratch")) << "no fetched clip or poster left behind";

    ASSERT_TRUE(blobs.remove(clipBlobKey(kToken)).ok());
    auto gone = c.Get(path);
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->status, 410);
  }

  fs::path dir_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<EmbeddedJobQueue> queue_;
  FrontEndBoothControl booth_;
  std::unique_ptr<EventHub> hub_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<RetentionSweeper> retention_;
  std::unique_ptr<HttpApi> api_;
};

TEST_F(ClipStoreTest, AClipInTheLocalBlobStoreIsServedByRangesWithItsPoster) {
  LocalBlobStore blobs(dir_ / "blobs", false);
  expectServedFrom(blobs);
}

TEST_F(ClipStoreTest, AClipInPostgresqlIsServedByRangesWithItsPoster) {
  testing::TestSchema schema;
  PgOptions options;
  options.url = schema.url();
  auto db = PgDatabase::open(options);
  ASSERT_TRUE(db.ok()) << db.error();
  PgBlobStore blobs(db.value(), /*chunk_bytes=*/1000);  // every range crosses chunks
  expectServedFrom(blobs);
  api_.reset();
}

TEST_F(ClipStoreTest, AFrontEndWithoutTheIngestRefusesSessionsSayingWhereTheyStart) {
  LocalBlobStore blobs(dir_ / "blobs", false);
  start(blobs);
  auto c = client();
  c.set_bearer_token_auth(kOperator);
  auto res = c.Post("/api/sessions", R"({"seconds": 5})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
  EXPECT_NE(res->body.find("--roles ingest,http"), std::string::npos) << res->body;
  auto nodes = c.Get("/api/nodes");
  ASSERT_TRUE(nodes);
  EXPECT_EQ(nodes->body, "[]");
}

// A done job in the shared queue, as a worker leaves it: its clip and model
// in the shared blob store.
JobRecord addDoneJob(JobQueue& queue, BlobStore& blobs, const std::string& id,
                     const std::string& token, bool consent) {
  JobRecord j;
  j.id = id;
  j.session_id = "s-" + id;
  j.state = JobState::kReceiving;
  j.may_improve_booth = consent;
  EXPECT_TRUE(queue.add(j).ok());
  EXPECT_TRUE(queue.enqueue(j).ok());
  auto claimed = queue.claim("w1", std::chrono::seconds(30));
  EXPECT_TRUE(claimed.ok() && claimed.value());
  const Claim c = claimed.value()->claim;
  EXPECT_TRUE(queue.advance(c, JobEvent::kStartRendering, "").ok());
  JobClip clip;
  clip.clip_token = token;
  clip.clip_path = clipBlobKey(token);
  EXPECT_TRUE(queue.finish(c, clip).ok());
  EXPECT_TRUE(blobs.put(clipBlobKey(token), "an mp4").ok());
  EXPECT_TRUE(blobs.put("sessions/" + j.session_id + "/generator.pt", "a model").ok());
  return *queue.get(id);
}

TEST_F(ClipStoreTest, WithADatabaseTheOperatorDeletesAVisitorsDataAndTheVisitorWithdraws) {
  testing::TestSchema schema;
  PgOptions options;
  options.url = schema.url();
  auto db = PgDatabase::open(options);
  ASSERT_TRUE(db.ok()) << db.error();
  PgJobQueue queue(db.value());
  PgBlobStore blobs(db.value());
  const std::string agreed_token(32, 'a');
  addDoneJob(queue, blobs, "agreed", agreed_token, /*consent=*/true);
  addDoneJob(queue, blobs, "erase", kToken, /*consent=*/false);
  start(blobs, queue);
  auto c = client();

  auto withdrawn = c.Post("/c/" + agreed_token + "/consent", R"({"may_improve_booth": false})",
                          "application/json");
  ASSERT_TRUE(withdrawn);
  ASSERT_EQ(withdrawn->status, 200) << withdrawn->body;
  EXPECT_NE(withdrawn->body.find("\"withdrawn\":true"), std::string::npos) << withdrawn->body;
  EXPECT_FALSE(queue.get("agreed")->may_improve_booth);
  EXPECT_NE(queue.get("agreed")->consent_withdrawn_ms, 0);

  c.set_bearer_token_auth(kOperator);
  auto res = c.Delete("/api/jobs/erase/data");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(queue.get("erase")->state, JobState::kExpired);
  EXPECT_FALSE(blobs.size(clipBlobKey(kToken)).value().has_value());
  EXPECT_FALSE(blobs.size("sessions/s-erase/generator.pt").value().has_value());
  EXPECT_TRUE(blobs.size(clipBlobKey(agreed_token)).value().has_value()) << "only that job's";
  auto clip = client().Get("/clips/" + kToken + ".mp4");
  ASSERT_TRUE(clip);
  EXPECT_EQ(clip->status, 404);
  api_.reset();
  retention_.reset();
  hub_.reset();
}

}  // namespace
}  // namespace booth
