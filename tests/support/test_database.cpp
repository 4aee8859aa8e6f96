#include "test_database.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <stdexcept>

namespace booth::testing {
namespace {

std::string readFirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

[[noreturn]] void skip(const std::string& why) {
  std::cout << "SKIPPED: " << why << std::endl;
  std::exit(77);
}

}  // namespace

std::string testDatabaseUrlOrSkip() {
  if (const char* env = std::getenv("BOOTH_TEST_DATABASE_URL"); env && *env) return env;
  if (std::string url = readFirstLine(BOOTH_TEST_DATABASE_URL_FILE); !url.empty()) return url;
  if (std::string reason = readFirstLine(BOOTH_TEST_DATABASE_SKIP_FILE); !reason.empty()) {
    skip("no PostgreSQL for this test: " + reason);
  }
  skip(std::string("no PostgreSQL for this test: ") + BOOTH_TEST_DATABASE_URL_FILE +
       " is missing (run it through ctest, whose fixture `postgres` starts the server, or set "
       "BOOTH_TEST_DATABASE_URL)");
}

std::string withOptions(const std::string& url, const std::string& options) {
  std::ostringstream encoded;
  for (unsigned char c : options) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      encoded << c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      encoded << buf;
    }
  }
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=" + encoded.str();
}

PrivatePgServer::PrivatePgServer() {
  std::random_device rd;
  std::ostringstream dir;
  dir << std::filesystem::temp_directory_path().string() << "/booth-pg-state-" << std::hex << rd()
      << rd();
  state_dir_ = dir.str();
  run("start");
  const std::string skip_file = state_dir_ + "/skip_reason";
  if (std::string reason = readFirstLine(skip_file.c_str()); !reason.empty()) {
    std::filesystem::remove_all(state_dir_);
    skip("no PostgreSQL for this test: " + reason);
  }
  const std::string url_file = state_dir_ + "/database_url";
  url_ = readFirstLine(url_file.c_str());
  if (url_.empty()) throw std::runtime_error("the private PostgreSQL server did not start");
}

PrivatePgServer::~PrivatePgServer() {
  try {
    run("stop");
  } catch (const std::exception& e) {
    std::cerr << "warning: " << e.what() << std::endl;
  }
  std::error_code ec;
  std::filesystem::remove_all(state_dir_, ec);
}

void PrivatePgServer::crash() { run("crash"); }
void PrivatePgServer::restart() { run("restart"); }

void PrivatePgServer::run(const std::string& action) {
  const std::string command =
      std::string(BOOTH_PG_SERVER_SCRIPT) + " " + action + " '" + state_dir_ + "'";
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("'" + command + "' failed");
  }
}

TestSchema::TestSchema() : server_url_(testDatabaseUrlOrSkip()) {
  std::random_device rd;
  std::ostringstream name;
  name << "test_" << std::hex << rd() << rd();
  name_ = name.str();
  try {
    pqxx::connection c(server_url_);
    pqxx::nontransaction tx(c);
    tx.exec0("CREATE SCHEMA " + tx.quote_name(name_));
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot create the test schema " + name_ + ": " + e.what());
  }
  url_ = withOptions(server_url_, "-c search_path=" + name_);
}

TestSchema::~TestSchema() {
  try {
    pqxx::connection c(server_url_);
    pqxx::nontransaction tx(c);
    tx.exec0("DROP SCHEMA IF EXISTS " + tx.quote_name(name_) + " CASCADE");
  } catch (const std::exception& e) {
    std::cerr << "warning: cannot drop the test schema " << name_ << ": " << e.what() << std::endl;
  }
}

}  // namespace booth::testing
