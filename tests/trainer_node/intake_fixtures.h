#pragma once
// Test support for the session intake without sockets: a messenger that
// records what the intake sent to each node, one node with one camera, and
// a raw frame of a session.
#include <map>
#include <string>
#include <vector>

#include "trainer_node/ingest/session_intake.h"

namespace booth::test {

// What the intake sent to nodes.
class RecordingMessenger : public NodeMessenger {
 public:
  void toNode(const std::string& node_id, const v2::Envelope& env) override {
    sent[node_id].push_back(env);
  }
  std::map<std::string, std::vector<v2::Envelope>> sent;
};

inline std::vector<NodeInfo> oneNode() {
  NodeInfo n;
  n.node_id = "booth-1";
  CameraStatus cam;
  cam.camera_id = "cam0";
  n.cameras.push_back(cam);
  return {n};
}
inline v2::Frame rawFrame(const std::string& session, std::uint64_t sequence) {
  v2::Frame f;
  f.set_session_id(session);
  f.set_camera_id("cam0");
  f.set_sequence(sequence);
  f.set_encoding(v2::ENCODING_RAW_BGR);
  f.set_width(4);
  f.set_height(2);
  f.set_data(std::string(4 * 2 * 3, static_cast<char>(sequence)));
  return f;
}

}  // namespace booth::test
