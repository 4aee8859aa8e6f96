// HttpApi on loopback (port 0) with a fake capture side: who may do what,
// what hostile requests get, visitor pages, clips with ranges, live events.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "job_fixtures.h"
#include "trainer_node/http/http_api.h"
#include "trainer_node/store/local_blob_store.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/render/mp4_writer.h"

namespace booth {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kToken = "test-operator-token-0123";

// The capture side, faked: records what the API asked.
class FakeBooth : public BoothControl {
 public:
  explicit FakeBooth(JobStore& jobs) : jobs_(jobs) {}
  Result<JobRecord> startSession(const SessionRequest& r) override {
    std::lock_guard lock(mutex_);
    last_request_ = r;
    if (nodes_.empty()) return fail("no capture node is connected; start capture_node --trainer X");
    JobRecord j;
    j.session_id = "s-" + std::to_string(++sessions_);
    j.id = "job-" + j.session_id;
    j.capture_seconds_requested = r.capture_seconds;
    j.train_budget_seconds = r.train_budget_seconds;
    j.choreography = r.choreography;
    j.may_improve_booth = r.may_improve_booth;
    if (auto st = jobs_.insert(j); !st.ok()) return fail(st.error());
    return j;
  }
  std::vector<NodeInfo> nodes() override {
    std::lock_guard lock(mutex_);
    return nodes_;
  }
  bool cancelSession(const std::string& session_id, const std::string& reason) override {
    std::lock_guard lock(mutex_);
    cancelled_.push_back(session_id);
    auto j = jobs_.bySession(session_id);
    if (!j || j->state != JobState::kReceiving) return false;
    return jobs_.transition(*j, JobEvent::kCancel, reason).ok();
  }
  IngestStats stats() override { return {123, 4}; }

  void setNodes(std::vector<NodeInfo> n) {
    std::lock_guard lock(mutex_);
    nodes_ = std::move(n);
  }
  SessionRequest lastRequest() {
    std::lock_guard lock(mutex_);
    return last_request_;
  }
  std::vector<std::string> cancelled() {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }

 private:
  JobStore& jobs_;
  std::mutex mutex_;
  std::vector<NodeInfo> nodes_;
  SessionRequest last_request_;
  std::vector<std::string> cancelled_;
  int sessions_ = 0;
};

// A plain TCP connection, for requests no polite client would send.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Reads until `needle` shows up, the peer closes, or the timeout.
  std::string readUntil(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (received_.find(needle) == std::string::npos && std::chrono::steady_clock::now() < end) {
      if (!readSome(end)) break;
    }
    return received_;
  }
  // true once the server has closed the connection (EOF or reset).
  bool closedByPeer(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (!readSome(end)) return peer_closed_;
    }
    return peer_closed_;
  }

 private:
  bool readSome(std::chrono::steady_clock::time_point end) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long>(0, left.count()))) <= 0) return false;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      peer_closed_ = true;
      return false;
    }
    received_.append(buf, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  bool peer_closed_ = false;
  std::string received_;
};

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_http_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "clips");
    auto s = JobStore::open((dir_ / "jobs.sqlite").string());
    ASSERT_TRUE(s.ok()) << s.error();
    store_ = std::move(s.value());
    sessions_ = std::make_unique<SessionStore>(dir_, false);
    booth_ = std::make_unique<FakeBooth>(*store_);
    config_.host = "127.0.0.1";
    config_.port = 0;
    config_.operator_token = kToken;
    config_.choreographies = {"disco", "robot"};
    config_.default_train_budget_seconds = 60;
    config_.max_train_budget_seconds = 300;
    config_.limits.threads = 16;
    config_.max_downloads = 4;
    config_.max_event_streams = 2;
    config_.clip_bytes_per_second = 0;
  }
  void TearDown() override {
    api_.reset();
    hub_.reset();
    retention_.reset();
    booth_.reset();
    queue_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  // Starts the API with config_ (tests adjust config_ first).
  void start() {
    EventHubConfig hub_config;
    hub_config.max_subscribers = config_.max_event_streams;
    hub_config.node_poll = 100ms;
    if (!queue_) queue_ = std::make_unique<EmbeddedJobQueue>(*store_);
    hub_ = std::make_unique<EventHub>(hub_config, *queue_, [this] { return booth_->nodes(); });
    hub_->start();
    retention_ = std::make_unique<RetentionSweeper>(RetentionConfig{}, *queue_, blobs(), *sessions_);
    api_ = std::make_unique<HttpApi>(config_, *queue_, *booth_, *hub_, blobs(), *retention_);
    auto st = api_->start();
    ASSERT_TRUE(st.ok()) << st.error();
  }
  httplib::Client client(bool operator_token = true) {
    httplib::Client c("127.0.0.1", api_->port());
    c.set_read_timeout(30, 0);
    if (operator_token) c.set_bearer_token_auth(kToken);
    return c;
  }
  JobRecord addJob(const std::string& id, JobState state,
                   const std::string& clip_token = std::string(32, 'c'), bool consent = false) {
    JobRecord j;
    j.id = id;
    j.session_id = "s-" + id;
    j.state = state;
    j.may_improve_booth = consent;
    if (state == JobState::kDone) j.clip_token = clip_token;
    EXPECT_TRUE(test::insertInState(*store_, j).ok());
    return *store_->get(id);
  }
  // A done job whose clip is a real 20-frame MP4.
  JobRecord addDoneJob(const std::string& id, const std::string& token, bool consent = false) {
    JobRecord j = addJob(id, JobState::kDone, token, consent);
    j.clip_path = (dir_ / "clips" / (token + ".mp4")).string();
    j.clip_width = 96;
    j.clip_height = 64;
    Mp4Writer w;
    EXPECT_TRUE(w.open(j.clip_path, 96, 64, 10).ok());
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE(w.write(cv::Mat(64, 96, CV_8UC3, cv::Scalar(i * 10, 90, 200))).ok());
    }
    EXPECT_TRUE(w.close().ok());
    j.clip_bytes = static_cast<std::int64_t>(fs::file_size(j.clip_path));
    EXPECT_TRUE(store_->update(j).ok());
    return j;
  }
  static std::string fileBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  fs::path dir_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<EmbeddedJobQueue> queue_;  // over store_, made by the first start()
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<FakeBooth> booth_;
  std::unique_ptr<EventHub> hub_;
  std::unique_ptr<RetentionSweeper> retention_;
  std::unique_ptr<HttpApi> api_;
  HttpConfig config_;
  // The clips' store: the data folder, where addDoneJob writes them.
  LocalBlobStore& blobs() {
    if (!blobs_) blobs_ = std::make_unique<LocalBlobStore>(dir_, false);
    return *blobs_;
  }
  std::unique_ptr<LocalBlobStore> blobs_;
};

const std::string kClipToken = "0123456789abcdef0123456789abcdef";

// --- who may do what ---

TEST_F(HttpApiTest, OperatorRoutesNeedTheToken) {
  start();
  auto anonymous = client(false);
  for (const char* path : {"/api/jobs", "/api/nodes", "/api/config", "/api/events", "/api/jobs/x",
                           "/api/jobs/x/qr.svg"}) {
    auto res = anonymous.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_NE(res->body.find("operator token"), std::string::npos) << res->body;
  }
  auto res = anonymous.Post("/api/sessions", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  auto del = anonymous.Delete("/api/jobs/x");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 401);

  httplib::Client wrong("127.0.0.1", api_->port());
  wrong.set_bearer_token_auth("test-operator-token-0124");
  auto refused = wrong.Get("/api/jobs");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);

  auto jobs = client().Get("/api/jobs");
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->status, 200);
  EXPECT_EQ(json::parse(jobs->body), json::array());
}

TEST_F(HttpApiTest, SignInSetsAnHttpOnlyStrictCookieThatAuthorizes) {
  start();
  auto c = client(false);
  auto bad = c.Post("/api/login", R"({"token":"nope-nope-nope-nope"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  EXPECT_FALSE(bad->has_header("Set-Cookie"));

  auto good = c.Post("/api/login", json{{"token", kToken}}.dump(), "application/json");
  ASSERT_TRUE(good);
  ASSERT_EQ(good->status, 200) << good->body;
  const std::string cookie = good->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("booth_operator="), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;

  auto jobs = c.Get("/api/jobs", {{"Cookie", cookie.substr(0, cookie.find(';'))}});
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->status, 200);
}

TEST_F(HttpApiTest, TheCookieIsASessionIdThatSignOutRevokes) {
  start();
  auto c = client(false);
  auto login = c.Post("/api/login", json{{"token", kToken}}.dump(), "application/json");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200) << login->body;
  const std::string set_cookie = login->get_header_value("Set-Cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  EXPECT_EQ(cookie.find(kToken), std::string::npos) << "the token itself is in the cookie";
  EXPECT_NE(set_cookie.find("Max-Age=43200"), std::string::npos) << set_cookie;  // 12 h
  auto before = c.Get("/api/jobs", {{"Cookie", cookie}});
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 200);
  auto logout = c.Post("/api/logout", {{"Cookie", cookie}}, "{}", "application/json");
  ASSERT_TRUE(logout);
  EXPECT_EQ(logout->status, 200);
  auto after = c.Get("/api/jobs", {{"Cookie", cookie}});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 401) << "the session outlived sign-out";
}

TEST_F(HttpApiTest, ACookieHoldingTheTokenItselfIsNotASession) {
  start();
  auto jobs = client(false).Get("/api/jobs", {{"Cookie", std::string("booth_operator=") + kToken}});
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->status, 401);
}

TEST_F(HttpApiTest, SessionsEndWhenTheTrainerRestartsWithANewToken) {
  start();
  auto login = client(false).Post("/api/login", json{{"token", kToken}}.dump(), "application/json");
  ASSERT_TRUE(login && login->status == 200);
  const std::string set_cookie = login->get_header_value("Set-Cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  api_.reset();
  config_.operator_token = "rotated-operator-token-456";
  start();
  auto jobs = client(false).Get("/api/jobs", {{"Cookie", cookie}});
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->status, 401);
}

TEST_F(HttpApiTest, RepeatedFailedSignInsAreToldToWait) {
  config_.login_throttle.free_failures = 3;
  start();
  auto c = client(false);
  for (int i = 0; i < 3; ++i) {
    auto bad = c.Post("/api/login", R"({"token":"guess-guess-guess-guess"})", "application/json");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 401) << "attempt " << i;
  }
  // Even the right token waits now: the throttle answers before the check.
  auto next = c.Post("/api/login", json{{"token", kToken}}.dump(), "application/json");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 429) << next->body;
  EXPECT_EQ(next->get_header_value("Retry-After"), "1");
  EXPECT_FALSE(next->has_header("Set-Cookie"));
}

TEST_F(HttpApiTest, VisitorsNeedNoTokenButNoClipIsListedToThem) {
  addDoneJob("job-a", kClipToken);
  start();
  auto c = client(false);
  auto page = c.Get("/c/" + kClipToken);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  auto clip = c.Get("/clips/" + kClipToken + ".mp4");
  ASSERT_TRUE(clip);
  EXPECT_EQ(clip->status, 200);
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->body.find(kClipToken), std::string::npos);
  auto home = c.Get("/");
  ASSERT_TRUE(home);
  EXPECT_EQ(home->body.find(kClipToken), std::string::npos);
}

// --- hostile requests ---

TEST_F(HttpApiTest, PostsMustBeJson) {
  start();
  auto c = client();
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded",
                           "multipart/form-data; boundary=x", "application/jsonx"}) {
    auto res = c.Post("/api/sessions", R"({"seconds": 2})", type);
    ASSERT_TRUE(res) << type;
    EXPECT_EQ(res->status, 415) << type;
  }
  auto login = client(false).Post("/api/login", json{{"token", kToken}}.dump(), "text/plain");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 415);
  EXPECT_FALSE(login->has_header("Set-Cookie"));
  auto with_charset = c.Post("/api/sessions", "{}", "Application/JSON; charset=utf-8");
  ASSERT_TRUE(with_charset);
  EXPECT_EQ(with_charset->status, 409) << with_charset->body;  // accepted; no node connected
}

TEST_F(HttpApiTest, BodiesAreBounded) {
  config_.limits.max_body_bytes = 1024;
  start();
  auto big = client().Post("/api/sessions", std::string(4096, ' ') + "{}", "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);

  // The same with chunked transfer encoding, which carries no length up
  // front, and to a path nobody serves.
  for (const std::string path : {"/api/sessions", "/nowhere"}) {
    RawConnection raw(api_->port());
    ASSERT_TRUE(raw.connected());
    std::string request =
        "POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken +
        "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 64; ++i) request += "400\r\n" + std::string(1024, ' ') + "\r\n";
    raw.send(request);
    const std::string answer = raw.readUntil("\r\n\r\n", 10s);
    EXPECT_TRUE(answer.rfind("HTTP/1.1 413", 0) == 0 || answer.rfind("HTTP/1.1 404", 0) == 0)
        << path << ": " << answer.substr(0, 200);
  }
}

TEST_F(HttpApiTest, SessionValuesAreCheckedAndTheBudgetIsCapped) {
  booth_->setNodes({NodeInfo{"n1", {}, "synthetic", 0}});
  start();
  auto c = client();
  struct Case {
    std::string body;
    std::string needle;
  };
  for (const Case& k : std::vector<Case>{{R"({"budget_seconds": 301})", "[0, 300]"},
                                         {R"({"budget_seconds": -1})", "budget_seconds"},
                                         {R"({"seconds": 0})", "seconds"},
                                         {R"({"seconds": "ten"})", "seconds must be a number"},
                                         {R"({"choreography": "tango"})", "unknown choreography"},
                                         {R"({"choreography": 5})", "choreography must be"},
                                         {R"([1, 2])", "JSON object"},
                                         {R"({"seconds": )", "JSON object"}}) {
    auto res = c.Post("/api/sessions", k.body, "application/json");
    ASSERT_TRUE(res) << k.body;
    EXPECT_EQ(res->status, 400) << k.body;
    EXPECT_NE(res->body.find(k.needle), std::string::npos) << k.body << " -> " << res->body;
  }
  auto ok =
      c.Post("/api/sessions", R"({"seconds": 3, "budget_seconds": 300, "choreography": "robot"})",
             "application/json");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 201) << ok->body;
  EXPECT_DOUBLE_EQ(booth_->lastRequest().capture_seconds, 3);
  EXPECT_DOUBLE_EQ(booth_->lastRequest().train_budget_seconds, 300);
  EXPECT_EQ(booth_->lastRequest().choreography, "robot");
  EXPECT_EQ(json::parse(ok->body)["state"], "receiving");
}

TEST_F(HttpApiTest, OtherMethodsAreRefused) {
  start();
  for (const std::string method : {"PUT", "PATCH", "PRI", "TRACE"}) {
    RawConnection raw(api_->port());
    raw.send(method + " /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(raw.readUntil("\r\n", 10s).substr(0, 12), "HTTP/1.1 405") << method;
  }
}

TEST_F(HttpApiTest, OversizedHeadersAreRefusedAndTheServerGoesOn) {
  config_.limits.max_head_bytes = 8 * 1024;
  start();
  RawConnection raw(api_->port());
  std::string request = "GET /api/health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 2000; ++i) request += "X-Filler-" + std::to_string(i) + ": abcdefgh\r\n";
  raw.send(request + "\r\n");
  const std::string answer = raw.readUntil("\r\n", 10s);
  EXPECT_EQ(answer.find("HTTP/1.1 200"), std::string::npos) << answer.substr(0, 100);
  EXPECT_TRUE(raw.closedByPeer(10s));
  auto health = client().Get("/api/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(HttpApiTest, SlowClientsCannotStarveTheOthers) {
  // Fewer workers than slow clients. Each slow client trickles its request
  // a byte at a time, well within the read timeout: only the whole-request
  // deadline frees its worker.
  config_.limits.threads = 8;
  config_.limits.request_deadline = 1000ms;
  config_.max_downloads = 2;
  config_.max_event_streams = 2;
  start();
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 24; ++i) {
    slow.push_back(std::make_unique<RawConnection>(api_->port()));
    slow.back()->send("GET /api/health HTTP/1.1\r\n");
  }
  std::atomic<bool> trickling{true};
  std::thread trickle([&] {
    while (trickling) {
      for (auto& s : slow) s->send("X");
      std::this_thread::sleep_for(100ms);
    }
  });
  auto c = client();
  auto health = c.Get("/api/health");
  trickling = false;
  trickle.join();
  ASSERT_TRUE(health) << "the API did not answer while slow clients were connected";
  EXPECT_EQ(health->status, 200);
  for (auto& s : slow) EXPECT_TRUE(s->closedByPeer(30s));
}

TEST_F(HttpApiTest, AnUnfinishedRequestGets408AndIsClosed) {
  config_.limits.request_deadline = 500ms;
  start();
  RawConnection raw(api_->port());
  raw.send("GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n");
  const std::string answer = raw.readUntil("\r\n", 10s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer.substr(0, 100);
  EXPECT_TRUE(raw.closedByPeer(10s));
}

TEST_F(HttpApiTest, AtTheAddressLimitAWaitingConnectionMakesRoom) {
  config_.limits.max_connections_per_address = 2;
  config_.limits.evict_after = 200ms;
  start();
  RawConnection idle_a(api_->port()), idle_b(api_->port());  // connected, say nothing
  std::this_thread::sleep_for(400ms);
  auto health = client().Get("/api/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_TRUE(idle_a.closedByPeer(5s));  // the one that waited longest
}

TEST_F(HttpApiTest, AtTheAddressLimitWithEveryConnectionBusyTheNewcomerGets503) {
  config_.limits.max_connections_per_address = 2;
  start();
  std::vector<std::unique_ptr<RawConnection>> streams;
  for (int i = 0; i < 2; ++i) {  // event streams keep their workers
    streams.push_back(std::make_unique<RawConnection>(api_->port()));
    streams.back()->send(std::string("GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
                         kToken + "\r\n\r\n");
    ASSERT_NE(streams.back()->readUntil("event: snapshot", 10s).find("event: snapshot"),
              std::string::npos);
  }
  RawConnection third(api_->port());
  third.send("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string answer = third.readUntil("}", 10s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer.substr(0, 200);
  EXPECT_NE(answer.find("too many connections from 127.0.0.1"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Retry-After"), std::string::npos) << answer;
}

TEST_F(HttpApiTest, RangeHeadersOnOtherPagesAreIgnored) {
  start();
  auto res = client().Get("/api/health", {{"Range", "bytes=100000-200000"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["ok"], true);
}

TEST_F(HttpApiTest, AJobReportsGeneratorAndFaceStepsApartAndNoSum) {
  JobRecord j = addJob("t", JobState::kTraining);
  j.generator_steps = 900;
  j.face_steps = 2350;
  j.generator_steps_per_second = 4.5;
  j.face_steps_per_second = 100;
  ASSERT_TRUE(store_->update(j).ok());
  start();
  auto res = client().Get("/api/jobs/t");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  EXPECT_EQ(body["generator_steps"], 900);
  EXPECT_EQ(body["face_steps"], 2350);
  EXPECT_DOUBLE_EQ(body["generator_steps_per_second"].get<double>(), 4.5);
  EXPECT_DOUBLE_EQ(body["face_steps_per_second"].get<double>(), 100);
  EXPECT_FALSE(body.contains("iterations"));
  EXPECT_FALSE(body.contains("iterations_per_second"));
}

// --- cancel and delete ---

TEST_F(HttpApiTest, CancellingAQueuedJobFailsItAtOnce) {
  addJob("q", JobState::kQueued);
  start();
  auto res = client().Delete("/api/jobs/q");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["state"], "cancelled");
  EXPECT_EQ(store_->get("q")->state, JobState::kCancelled);
  EXPECT_EQ(store_->get("q")->detail, "cancelled by the operator");
  EXPECT_TRUE(store_->cancelRequested("q"));
}

TEST_F(HttpApiTest, CancellingAReceivingJobStopsItsSession) {
  addJob("r", JobState::kReceiving);
  start();
  auto res = client().Delete("/api/jobs/r");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(booth_->cancelled(), std::vector<std::string>{"s-r"});
  EXPECT_EQ(json::parse(res->body)["state"], "cancelled");
  EXPECT_EQ(store_->get("r")->state, JobState::kCancelled);
}

// JobQueue::cancel ends a running job at once; its worker's next write is
// refused (kNotRunning), so it stops without publishing: 202, it stops soon.
TEST_F(HttpApiTest, CancellingATrainingJobCancelsItAndItsWorkerStops) {
  addJob("t", JobState::kTraining);
  start();
  auto res = client().Delete("/api/jobs/t");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202) << res->body;
  EXPECT_TRUE(store_->cancelRequested("t"));
  EXPECT_EQ(store_->get("t")->state, JobState::kCancelled);
  EXPECT_EQ(json::parse(res->body)["state"], "cancelled");
}

// A queued job's wait is counted over the live workers (JobQueue::liveWorkers,
// queueWaitSeconds) with its own budget as a job's length.
TEST_F(HttpApiTest, AQueuedJobsWaitCountsTheLiveWorkers) {
  for (int i = 1; i <= 3; ++i) {
    JobRecord j;
    j.id = "q" + std::to_string(i);
    j.session_id = "s-" + j.id;
    j.state = JobState::kQueued;
    j.train_budget_seconds = 100;
    j.created_ms = 1000 * i;
    ASSERT_TRUE(test::insertInState(*store_, j).ok());
  }
  start();
  auto third = [&] {
    auto res = client().Get("/api/jobs/q3");
    EXPECT_TRUE(res && res->status == 200);
    return res ? json::parse(res->body) : json();
  };
  const json none = third();
  EXPECT_EQ(none["queue_position"], 3);
  EXPECT_EQ(none["live_workers"], 0);
  EXPECT_FALSE(none.contains("queue_wait_seconds")) << "no worker: no estimate";

  ASSERT_TRUE(queue_->workerHeartbeat("w1", 60s).ok());
  const json one = third();
  EXPECT_EQ(one["live_workers"], 1);
  EXPECT_DOUBLE_EQ(one["queue_wait_seconds"].get<double>(), 250.0);  // 2 ahead + half of one

  ASSERT_TRUE(queue_->workerHeartbeat("w2", 60s).ok());
  const json two = third();
  EXPECT_EQ(two["live_workers"], 2);
  EXPECT_DOUBLE_EQ(two["queue_wait_seconds"].get<double>(), 150.0);  // the 2 ahead side by side

  auto listed = client().Get("/api/jobs");
  ASSERT_TRUE(listed);
  bool seen = false;
  for (const json& j : json::parse(listed->body)) {
    if (j["id"] != "q1") continue;
    seen = true;
    EXPECT_EQ(j["queue_position"], 1);
    EXPECT_DOUBLE_EQ(j["queue_wait_seconds"].get<double>(), 50.0);
  }
  EXPECT_TRUE(seen);
}

TEST_F(HttpApiTest, FinishedOrUnknownJobsCannotBeCancelled) {
  addJob("d", JobState::kDone);
  start();
  auto done = client().Delete("/api/jobs/d");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 409);
  EXPECT_NE(done->body.find("/data"), std::string::npos);
  auto unknown = client().Delete("/api/jobs/nope");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
}

TEST_F(HttpApiTest, DeletingAVisitorsDataRemovesItAndTheLinkExpires) {
  const JobRecord job = addDoneJob("d", kClipToken);
  fs::create_directories(sessions_->sessionDir(job.session_id));
  std::ofstream(sessions_->sessionDir(job.session_id) / "generator.pt") << "model";
  start();
  auto res = client().Delete("/api/jobs/d/data");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["expired"], true);
  EXPECT_EQ(json::parse(res->body)["state"], "expired");
  EXPECT_FALSE(json::parse(res->body).contains("clip_url"));
  EXPECT_FALSE(fs::exists(job.clip_path));
  EXPECT_FALSE(fs::exists(sessions_->sessionDir(job.session_id)));
  auto clip = client(false).Get("/clips/" + kClipToken + ".mp4");
  ASSERT_TRUE(clip);
  EXPECT_EQ(clip->status, 404);
  auto page = client(false).Get("/c/" + kClipToken);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 404);

  addJob("busy", JobState::kTraining);
  auto busy = client().Delete("/api/jobs/busy/data");
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 409);
}

// --- the visitor's consent to improve the booth ---

TEST_F(HttpApiTest, StartingASessionCarriesTheVisitorsConsentWhichIsOffByDefault) {
  booth_->setNodes({NodeInfo{}});
  start();
  auto plain = client().Post("/api/sessions", R"({"seconds": 3})", "application/json");
  ASSERT_TRUE(plain);
  ASSERT_EQ(plain->status, 201) << plain->body;
  EXPECT_FALSE(booth_->lastRequest().may_improve_booth);
  EXPECT_EQ(json::parse(plain->body)["may_improve_booth"], false);

  auto agreed = client().Post("/api/sessions", R"({"seconds": 3, "may_improve_booth": true})",
                              "application/json");
  ASSERT_TRUE(agreed);
  ASSERT_EQ(agreed->status, 201) << agreed->body;
  EXPECT_TRUE(booth_->lastRequest().may_improve_booth);
  EXPECT_EQ(json::parse(agreed->body)["may_improve_booth"], true);

  auto bad = client().Post("/api/sessions", R"({"may_improve_booth": "yes"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("may_improve_booth"), std::string::npos) << bad->body;
}

TEST_F(HttpApiTest, TheVisitorWithdrawsTheirConsentWithTheClipsToken) {
  const JobRecord job = addDoneJob("w", kClipToken, /*consent=*/true);
  start();
  auto c = client(false);
  const std::string path = "/c/" + kClipToken + "/consent";
  auto shown = c.Get(path);
  ASSERT_TRUE(shown);
  ASSERT_EQ(shown->status, 200) << shown->body;
  EXPECT_EQ(json::parse(shown->body)["may_improve_booth"], true);
  EXPECT_TRUE(json::parse(shown->body).contains("kept_until_ms"));
  auto page = c.Get("/c/" + kClipToken);
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("id=\"withdraw\""), std::string::npos);

  auto form = c.Post(path, "may_improve_booth=false", "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 415) << "a cross-site form cannot withdraw it";
  auto grant = c.Post(path, R"({"may_improve_booth": true})", "application/json");
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->status, 400) << "consent is given at the booth only";
  auto wrong = c.Post("/c/" + std::string(32, 'e') + "/consent", R"({"may_improve_booth": false})",
                      "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 404);
  EXPECT_TRUE(store_->get("w")->may_improve_booth);

  auto withdrawn = c.Post(path, R"({"may_improve_booth": false})", "application/json");
  ASSERT_TRUE(withdrawn);
  ASSERT_EQ(withdrawn->status, 200) << withdrawn->body;
  EXPECT_EQ(json::parse(withdrawn->body)["may_improve_booth"], false);
  EXPECT_EQ(json::parse(withdrawn->body)["withdrawn"], true);
  const JobRecord after = *store_->get("w");
  EXPECT_FALSE(after.may_improve_booth);
  EXPECT_NE(after.consent_withdrawn_ms, 0);
  EXPECT_TRUE(fs::exists(job.clip_path)) << "the clip stays until its own time";
  auto operator_view = client().Get("/api/jobs/w");
  ASSERT_TRUE(operator_view);
  EXPECT_EQ(json::parse(operator_view->body)["consent_withdrawn"], true);
}

TEST_F(HttpApiTest, FramesKeptByConsentHaveAPageToWithdrawAndTheOperatorDeletesThem) {
  const JobRecord job = addDoneJob("k", kClipToken, /*consent=*/true);
  fs::create_directories(sessions_->sessionDir(job.session_id) / "node" / "cam0");
  std::ofstream(sessions_->sessionDir(job.session_id) / "node" / "cam0" / "frames.dat") << "x";
  fs::remove(job.clip_path);
  ASSERT_TRUE(store_->expire("k", nowMillis(), /*frames_kept=*/true).ok());
  start();
  auto c = client(false);
  auto page = c.Get("/c/" + kClipToken);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("Your clip has expired"), std::string::npos) << page->body;
  EXPECT_NE(page->body.find("id=\"withdraw\""), std::string::npos);
  auto clip = c.Get("/clips/" + kClipToken + ".mp4");
  ASSERT_TRUE(clip);
  EXPECT_EQ(clip->status, 404);
  auto shown = c.Get("/c/" + kClipToken + "/consent");
  ASSERT_TRUE(shown);
  EXPECT_EQ(json::parse(shown->body)["frames_kept"], true);

  auto listed = client().Get("/api/jobs/k");
  ASSERT_TRUE(listed);
  EXPECT_EQ(json::parse(listed->body)["frames_kept"], true);
  auto del = client().Delete("/api/jobs/k/data");
  ASSERT_TRUE(del);
  ASSERT_EQ(del->status, 200) << del->body;
  EXPECT_EQ(json::parse(del->body)["frames_kept"], false);
  EXPECT_FALSE(fs::exists(sessions_->sessionDir(job.session_id)));
  auto gone = c.Get("/c/" + kClipToken);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  auto again = client().Delete("/api/jobs/k/data");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409);
}

// --- the visitor's page and clip ---

TEST_F(HttpApiTest, VisitorPageHasTheVideoDownloadPosterAndQrCode) {
  addDoneJob("v", kClipToken);
  config_.public_url = "https://booth.example";
  start();
  auto c = client(false);
  auto page = c.Get("/c/" + kClipToken);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  const std::string& html = page->body;
  EXPECT_NE(html.find("<video id=\"clip\" src=\"/clips/" + kClipToken + ".mp4\""),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("poster=\"/c/" + kClipToken + "/poster.jpg\""), std::string::npos);
  EXPECT_NE(html.find("href=\"/clips/" + kClipToken + ".mp4?download=1\""), std::string::npos);
  EXPECT_NE(html.find("src=\"/c/" + kClipToken + "/qr.svg\""), std::string::npos);
  EXPECT_NE(html.find("content=\"https://booth.example/c/" + kClipToken + "\""), std::string::npos);
  EXPECT_EQ(html.find("{{"), std::string::npos) << "every placeholder is filled";

  auto poster = c.Get("/c/" + kClipToken + "/poster.jpg");
  ASSERT_TRUE(poster);
  EXPECT_EQ(poster->status, 200);
  EXPECT_EQ(poster->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_EQ(poster->body.substr(0, 2), "\xff\xd8");
  auto qr = c.Get("/c/" + kClipToken + "/qr.svg");
  ASSERT_TRUE(qr);
  EXPECT_EQ(qr->status, 200);
  EXPECT_NE(qr->body.find("<svg"), std::string::npos);
  auto download = c.Get("/clips/" + kClipToken + ".mp4?download=1");
  ASSERT_TRUE(download);
  EXPECT_EQ(download->get_header_value("Content-Disposition").rfind("attachment", 0), 0u);
}

TEST_F(HttpApiTest, UnknownOrExpiredClipsGetAFriendlyPage) {
  start();
  auto c = client(false);
  for (const std::string& path :
       std::vector<std::string>{"/c/" + kClipToken, "/c/not-a-token", "/c/"}) {
    auto page = c.Get(path);
    ASSERT_TRUE(page) << path;
    EXPECT_EQ(page->status, 404) << path;
    EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8") << path;
    EXPECT_NE(page->body.find("This dance is not here"), std::string::npos) << path;
  }
}

TEST_F(HttpApiTest, ClipRangesAreServedMergedAndBounded) {
  const JobRecord job = addDoneJob("r", kClipToken);
  const std::string file = fileBytes(job.clip_path);
  const auto size = file.size();
  start();
  auto c = client(false);
  const std::string path = "/clips/" + kClipToken + ".mp4";

  auto whole = c.Get(path);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body, file);
  EXPECT_EQ(whole->get_header_value("Accept-Ranges"), "bytes");

  auto one = c.Get(path, {{"Range", "bytes=10-109"}});
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 206);
  EXPECT_EQ(one->body, file.substr(10, 100));
  EXPECT_EQ(one->get_header_value("Content-Range"), "bytes 10-109/" + std::to_string(size));

  auto merged = c.Get(path, {{"Range", "bytes=0-99,50-149,-10"}});
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->status, 206);
  const std::string type = merged->get_header_value("Content-Type");
  ASSERT_EQ(type.rfind("multipart/byteranges; boundary=", 0), 0u) << type;
  const std::string boundary = type.substr(type.find('=') + 1);
  const std::string expected =
      "\r\n--" + boundary + "\r\nContent-Type: video/mp4\r\nContent-Range: bytes 0-149/" +
      std::to_string(size) + "\r\n\r\n" + file.substr(0, 150) + "\r\n--" + boundary +
      "\r\nContent-Type: video/mp4\r\nContent-Range: bytes " + std::to_string(size - 10) + "-" +
      std::to_string(size - 1) + "/" + std::to_string(size) + "\r\n\r\n" + file.substr(size - 10) +
      "\r\n--" + boundary + "--\r\n";
  EXPECT_EQ(merged->body, expected);

  // 2,600 ranges in one 8 KB header (the attack the library fell for).
  std::string many = "bytes=0-";
  for (int i = 0; i < 2599; ++i) many += ",0-";
  auto refused = c.Get(path, {{"Range", many}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 416);
  EXPECT_LT(refused->body.size(), 200u);

  auto outside = c.Get(path, {{"Range", "bytes=" + std::to_string(size) + "-"}});
  ASSERT_TRUE(outside);
  EXPECT_EQ(outside->status, 416);
  EXPECT_EQ(outside->get_header_value("Content-Range"), "bytes */" + std::to_string(size));
}

TEST_F(HttpApiTest, ClipDownloadsBeyondTheCapAreToldToRetry) {
  const JobRecord job = addDoneJob("cap", kClipToken);
  std::ofstream(job.clip_path, std::ios::trunc) << std::string(4 << 20, 'x');
  config_.max_downloads = 1;
  config_.clip_bytes_per_second = 1000;  // past the first burst, the download lasts an hour
  start();
  RawConnection first(api_->port());
  first.send("GET /clips/" + kClipToken + ".mp4 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_NE(first.readUntil("\r\n\r\n", 10s).find("200 OK"), std::string::npos);
  auto second = client(false).Get("/clips/" + kClipToken + ".mp4");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 503);
  EXPECT_EQ(second->get_header_value("Retry-After"), "2");
}

// --- live events ---

TEST_F(HttpApiTest, EventsStartWithASnapshotThenFollowEveryJob) {
  addJob("before", JobState::kQueued);
  booth_->setNodes({NodeInfo{"booth-1", {}, "synthetic", 0}});
  start();
  RawConnection events(api_->port());
  events.send(std::string("GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n") +
              "Accept-Encoding: gzip, deflate\r\nAuthorization: Bearer " + kToken + "\r\n\r\n");
  const std::string head = events.readUntil("event: snapshot", 10s);
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Encoding"), std::string::npos) << "events must not be buffered";
  EXPECT_NE(events.readUntil("\"id\":\"before\"", 10s).find("\"id\":\"before\""),
            std::string::npos);

  JobRecord later = addJob("later", JobState::kClaimed);
  later.progress = 0.5;
  ASSERT_TRUE(store_->transition(later, JobEvent::kStartTraining).ok());
  const std::string text = events.readUntil("\"state\":\"training\"", 10s);
  const auto at = text.find("event: job");
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_NE(text.find("\"id\":\"later\"", at), std::string::npos) << text;
  EXPECT_NE(text.find("\"state\":\"training\"", at), std::string::npos) << text;

  booth_->setNodes({NodeInfo{"booth-2", {}, "synthetic", 0}});
  EXPECT_NE(events.readUntil("booth-2", 10s).find("event: nodes"), std::string::npos);
}

// The id of the last event in an SSE text ("id: ..." of the last block).
std::string lastEventId(const std::string& text) {
  const auto at = text.rfind("\nid: ");
  if (at == std::string::npos) return {};
  const auto start = at + 5;
  return text.substr(start, text.find('\n', start) - start);
}

TEST_F(HttpApiTest, AReconnectWithLastEventIdGetsWhatItMissedWithoutASnapshot) {
  addJob("before", JobState::kQueued);
  start();
  std::string seen;
  {
    RawConnection events(api_->port());
    events.send(std::string("GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
                kToken + "\r\n\r\n");
    const std::string text = events.readUntil("\"id\":\"before\"", 10s);
    seen = lastEventId(text);
    ASSERT_FALSE(seen.empty()) << "the snapshot carries an id: " << text;
  }
  // While the page is away: a job changes.
  JobRecord missed = addJob("missed", JobState::kClaimed);
  ASSERT_TRUE(store_->transition(missed, JobEvent::kStartTraining).ok());
  for (int i = 0; i < 200 && hub_->published() < 2; ++i) std::this_thread::sleep_for(10ms);
  RawConnection again(api_->port());
  again.send(std::string("GET /api/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ") + seen +
             "\r\nAuthorization: Bearer " + kToken + "\r\n\r\n");
  const std::string text = again.readUntil("\"state\":\"training\"", 10s);
  EXPECT_NE(text.find("event: job"), std::string::npos) << text;
  EXPECT_NE(text.find("\"id\":\"missed\""), std::string::npos) << text;
  EXPECT_EQ(text.find("event: snapshot"), std::string::npos) << "resumed, not restarted: " << text;
}

TEST_F(HttpApiTest, AnUnknownLastEventIdStartsFromASnapshot) {
  start();
  RawConnection events(api_->port());
  events.send(std::string("GET /api/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 0000-7\r\n") +
              "Authorization: Bearer " + kToken + "\r\n\r\n");
  const std::string text = events.readUntil("event: snapshot", 10s);
  EXPECT_NE(text.find("event: snapshot"), std::string::npos) << text;
  EXPECT_NE(text.find("\"database\":{\"available\":true}"), std::string::npos) << text;
}

TEST_F(HttpApiTest, HealthAndTheEventsSayWhenTheJobDatabaseIsUnavailable) {
  addJob("a", JobState::kQueued);
  start();
  RawConnection events(api_->port());
  events.send(std::string("GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
              kToken + "\r\n\r\n");
  ASSERT_NE(events.readUntil("event: snapshot", 10s).find("event: snapshot"), std::string::npos);
  store_->simulateFullDiskForTest(true);
  JobRecord a = *store_->get("a");
  ASSERT_TRUE(store_->transition(a, JobEvent::kCancel, "x").ok());  // held in memory
  auto health = client(false).Get("/api/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  EXPECT_EQ(json::parse(health->body)["database"], "unavailable") << health->body;
  const std::string text = events.readUntil("\"available\":false", 10s);
  EXPECT_NE(text.find("event: database"), std::string::npos) << text;
  store_->simulateFullDiskForTest(false);
  store_->retryPending();
  auto healthy = client(false).Get("/api/health");
  ASSERT_TRUE(healthy);
  EXPECT_EQ(healthy->status, 200) << healthy->body;
}

TEST_F(HttpApiTest, EventStreamsAreCapped) {
  config_.max_event_streams = 1;
  start();
  RawConnection first(api_->port());
  first.send(std::string("GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") + kToken +
             "\r\n\r\n");
  ASSERT_NE(first.readUntil("event: snapshot", 10s).find("event: snapshot"), std::string::npos);
  auto second = client().Get("/api/events");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 503);
}

TEST_F(HttpApiTest, StopEndsOpenEventStreamsAtOnce) {
  start();
  RawConnection events(api_->port());
  events.send(std::string("GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") +
              kToken + "\r\n\r\n");
  ASSERT_NE(events.readUntil("event: snapshot", 10s).find("event: snapshot"), std::string::npos);
  api_->stop();  // returns although the stream waits for events
  EXPECT_TRUE(events.closedByPeer(10s));
}

// --- metrics ---

TEST_F(HttpApiTest, MetricsAreOpenAndCountServedClipBytes) {
  const JobRecord job = addDoneJob("m", kClipToken);
  addJob("q1", JobState::kQueued);
  start();
  auto c = client(false);
  ASSERT_TRUE(c.Get("/clips/" + kClipToken + ".mp4"));
  // The server counts a chunk once its write returned, which can be just
  // after the client has the last byte: ask until the count is in.
  const std::string served =
      "booth_clip_bytes_served_total " + std::to_string(job.clip_bytes) + "\n";
  auto res = c.Get("/metrics");
  for (int i = 0; i < 100 && res && res->body.find(served) == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
    res = c.Get("/metrics");
  }
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res->body.find("booth_queue_length 1\n"), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("booth_jobs{state=\"done\"} 1\n"), std::string::npos);
  EXPECT_NE(res->body.find("booth_frames_received_total 123\n"), std::string::npos);
  EXPECT_NE(res->body.find("booth_frames_rejected_total 4\n"), std::string::npos);
  EXPECT_NE(res->body.find(served), std::string::npos) << res->body;
}

}  // namespace
}  // namespace booth
