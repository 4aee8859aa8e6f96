#pragma once
// Test support: the private PostgreSQL server of the CTest fixture
// `postgres` (pg_server.sh), and a schema of its own for each test, so
// tests run side by side (ctest -j) in one database without seeing each
// other's tables.
//
// The server's URL comes from BOOTH_TEST_DATABASE_URL when set (a server
// of your own: tests create and drop schemas in it), else from the file
// the fixture writes. Where there is neither (PostgreSQL not installed, or
// the test run without its fixture), the test prints why and exits 77.
#include <string>

namespace booth::testing {

// The fixture's database URL, or exit(77) with the reason.
std::string testDatabaseUrlOrSkip();

// A fresh schema (random name), dropped with everything in it at the end.
// url() is the database URL with the schema first on the search_path, so
// everything the code under test creates lands in it.
class TestSchema {
 public:
  TestSchema();
  ~TestSchema();
  TestSchema(const TestSchema&) = delete;
  TestSchema& operator=(const TestSchema&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  // The server's URL without the schema.
  const std::string& serverUrl() const { return server_url_; }

 private:
  std::string server_url_;
  std::string name_;
  std::string url_;
};

// A PostgreSQL server of its own (support/pg_server.sh), for a test that
// stops and restarts it; exits 77 where none can run. Stopped and removed
// by the destructor.
class PrivatePgServer {
 public:
  PrivatePgServer();
  ~PrivatePgServer();
  PrivatePgServer(const PrivatePgServer&) = delete;
  PrivatePgServer& operator=(const PrivatePgServer&) = delete;

  const std::string& url() const { return url_; }
  // pg_ctl -m immediate: as if the server crashed.
  void crash();
  void restart();

 private:
  void run(const std::string& action);
  std::string state_dir_;
  std::string url_;
};

// `url` with `options` (a libpq option string such as
// "-c search_path=x") set, percent-encoded as a URI query parameter.
std::string withOptions(const std::string& url, const std::string& options);

}  // namespace booth::testing
