#include "common/transport/curve_keys.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <zmq.h>

#include "common/core/safe_id.h"
#include "common/os/durable_file.h"

namespace booth {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kZ85KeyLength = 40;

std::string trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

Result<std::string> readKeyFile(const fs::path& path) {
  auto text = readFile(path, 4096);
  if (!text.ok()) return fail(text.error());
  std::string key = trim(text.value());
  if (!isZ85Key(key)) {
    return fail(path.string() + " does not hold a CURVE key (40 Z85 characters); make one with "
                                "'keygen'");
  }
  return key;
}

}  // namespace

bool isZ85Key(const std::string& key) {
  if (key.size() != kZ85KeyLength) return false;
  std::uint8_t raw[32];
  return zmq_z85_decode(raw, key.c_str()) != nullptr;
}

Result<CurveKeyPair> generateCurveKeyPair() {
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0) {
    return fail(std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()) +
                " (libzmq built without CURVE support?)");
  }
  return CurveKeyPair{pub, sec};
}

Status writeCurveKeyPair(const fs::path& base, const CurveKeyPair& keys) {
  const fs::path secret = base.string() + ".key", pub = base.string() + ".pub";
  std::error_code ec;
  if (fs::exists(secret, ec)) {
    return fail(secret.string() + " exists already; move it away first (keys are never "
                                  "overwritten)");
  }
  if (!base.parent_path().empty()) {
    if (auto st = makeDirectories(base.parent_path()); !st.ok()) return st;
  }
  if (auto st = replaceFile(secret, keys.secret_key + "\n", 0600); !st.ok()) return st;
  return replaceFile(pub, keys.public_key + "\n", 0644);
}

Result<CurveKeyPair> loadCurveSecretKey(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail("cannot read secret key " + path.string() + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    std::ostringstream mode;
    mode << std::oct << (st.st_mode & 0777);
    return fail("secret key " + path.string() + " is readable by others (mode " + mode.str() +
                "); chmod 600 it");
  }
  auto secret = readKeyFile(path);
  if (!secret.ok()) return fail(secret.error());
  char pub[41];
  if (zmq_curve_public(pub, secret->c_str()) != 0) {
    return fail("cannot derive the public key of " + path.string());
  }
  return CurveKeyPair{pub, secret.value()};
}

Result<std::string> loadCurvePublicKey(const fs::path& path) { return readKeyFile(path); }

Result<CurveAllowList> CurveAllowList::load(const fs::path& path) {
  auto text = readFile(path, 1 << 20);
  if (!text.ok()) return fail(text.error());
  CurveAllowList list;
  std::set<std::string> ids;
  std::istringstream in(text.value());
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    // '#' is also a Z85 character: a comment is a line that starts with it,
    // or whatever follows the two fields.
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string id, key, extra;
    fields >> id >> key >> extra;
    const std::string where = path.string() + ":" + std::to_string(number) + ": ";
    if (key.empty() || (!extra.empty() && extra[0] != '#')) {
      return fail(where + "expected '<node-id> <public key>'");
    }
    if (!isSafeId(id)) return fail(where + "node id '" + id + "' is not valid");
    if (!isZ85Key(key)) return fail(where + "'" + key + "' is not a CURVE public key");
    if (!list.nodeFor(key).empty()) return fail(where + "this key is listed twice");
    if (!ids.insert(id).second) return fail(where + "node id " + id + " is listed twice");
    list.add(key, id);
  }
  return list;
}

std::string CurveAllowList::nodeFor(const std::string& public_key) const {
  auto it = by_key_.find(public_key);
  return it == by_key_.end() ? std::string() : it->second;
}

bool isLoopbackEndpoint(const std::string& endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0 || endpoint.rfind("inproc://", 0) == 0) return true;
  if (endpoint.rfind("tcp://", 0) != 0) return false;
  const std::string rest = endpoint.substr(6);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos) return false;
  const std::string host = rest.substr(0, colon);
  if (host == "localhost" || host == "[::1]") return true;
  // 127.0.0.0/8, written as four numbers.
  int parts = 0, value = -1;
  for (char c : host + ".") {
    if (c == '.') {
      if (value < 0 || value > 255) return false;
      if (parts == 0 && value != 127) return false;
      ++parts;
      value = -1;
    } else if (c >= '0' && c <= '9') {
      value = (value < 0 ? 0 : value * 10) + (c - '0');
      if (value > 255) return false;
    } else {
      return false;
    }
  }
  return parts == 4;
}

}  // namespace booth

namespace booth {

int runKeygenCommand(const std::string& program, const std::vector<std::string>& args) {
  std::string out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--out" && i + 1 < args.size()) {
      out = args[++i];
    } else if (args[i] == "--help" || args[i] == "-h") {
      std::printf("%s keygen --out BASE\n  writes BASE.key (secret, mode 0600) and BASE.pub\n",
                  program.c_str());
      return 0;
    } else {
      std::fprintf(stderr, "%s keygen: error: unexpected argument '%s' (use --out BASE)\n",
                   program.c_str(), args[i].c_str());
      return 2;
    }
  }
  if (out.empty()) {
    std::fprintf(stderr, "%s keygen: error: --out BASE is required (e.g. --out keys/%s)\n",
                 program.c_str(), program == "trainer_node" ? "trainer" : "booth-1");
    return 2;
  }
  auto keys = generateCurveKeyPair();
  if (!keys.ok()) {
    std::fprintf(stderr, "%s keygen: error: %s\n", program.c_str(), keys.error().c_str());
    return 1;
  }
  if (auto st = writeCurveKeyPair(out, keys.value()); !st.ok()) {
    std::fprintf(stderr, "%s keygen: error: %s\n", program.c_str(), st.error().c_str());
    return 1;
  }
  std::printf("secret key: %s.key (keep it on this machine)\npublic key: %s.pub = %s\n",
              out.c_str(), out.c_str(), keys->public_key.c_str());
  if (program == "trainer_node") {
    std::printf("give %s.pub to every capture node (--trainer-public-key)\n", out.c_str());
  } else {
    std::printf("add this line to the trainer's --allowed-nodes file:\n  <node-id> %s\n",
                keys->public_key.c_str());
  }
  return 0;
}

}  // namespace booth
