#include "trainer_node/store/session_sink.h"

#include "common/core/safe_id.h"

namespace booth {

Status checkSessionIds(const std::string& session, const std::string& node,
                       const std::string& camera) {
  if (isSafeId(session) && isSafeId(node) && isSafeId(camera)) return okStatus();
  return fail("refusing unsafe ids (session '" + session.substr(0, 80) + "', node '" +
              node.substr(0, 80) + "', camera '" + camera.substr(0, 80) + "')");
}

}  // namespace booth
