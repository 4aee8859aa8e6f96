#pragma once
// CURVE keys for the link between capture nodes and the trainer (ZeroMQ's
// CurveZMQ: the trainer is the server, each capture node a client; traffic
// is encrypted and every node is authenticated by its public key).
//
// Key files are Z85 text, one key per file:
//   NAME.key  the secret key (written 0600; keep it on its machine)
//   NAME.pub  the public key (hand it to the other side)
// The trainer's allow-list is a text file, one node per line:
//   <node-id> <public key, 40 Z85 characters>     # comments and blank lines ignored
// A node's identity on the trainer is the id its key is listed under.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/core/result.h"

namespace booth {

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

Result<CurveKeyPair> generateCurveKeyPair();
// Writes `<base>.key` (0600) and `<base>.pub` (0644); refuses to overwrite
// an existing secret key.
Status writeCurveKeyPair(const std::filesystem::path& base, const CurveKeyPair& keys);
// Reads a secret key file and derives its public key. Refuses a secret key
// file that others can read.
Result<CurveKeyPair> loadCurveSecretKey(const std::filesystem::path& path);
Result<std::string> loadCurvePublicKey(const std::filesystem::path& path);
bool isZ85Key(const std::string& key);

// The trainer's allow-list: public key -> node id.
class CurveAllowList {
 public:
  static Result<CurveAllowList> load(const std::filesystem::path& path);
  // The node id listed for this public key (Z85), or empty.
  std::string nodeFor(const std::string& public_key) const;
  std::size_t size() const { return by_key_.size(); }
  void add(const std::string& public_key, const std::string& node_id) {
    by_key_[public_key] = node_id;
  }

 private:
  std::map<std::string, std::string> by_key_;
};

// "127.0.0.1", "localhost", "[::1]" and ipc:// endpoints: the only ones a
// link without keys may use.
bool isLoopbackEndpoint(const std::string& endpoint);

}  // namespace booth

namespace booth {

// The `keygen` subcommand of both binaries: `<program> keygen --out BASE`
// writes BASE.key (secret, 0600) and BASE.pub and prints what to do with
// them. `args` are the words after "keygen". Returns the exit code.
int runKeygenCommand(const std::string& program, const std::vector<std::string>& args);

}  // namespace booth
