#pragma once
// Visitor routes: what a visitor's phone opens from the QR code. No token:
// a clip's 128-bit random token in its link is the only key, and only a
// done, unexpired job answers (through JobQueue::byClipToken).
//   GET /c/{token}               the visitor page: video, download, poster, QR of itself
//   GET /c/{token}/poster.jpg    a frame of the clip (made once, then cached)
//   GET /c/{token}/qr.svg        QR code of the visitor page
//   GET /clips/{token}.mp4       the clip: Range (bounded count, merged), ?download=1
//                                attachment, at most max_downloads at once (503 beyond),
//                                all downloads within one bandwidth budget
//   unknown or expired tokens get the friendly 404 page
//
// Threading: HTTP worker threads; a download's body is written by the
// worker that serves it, in chunks, and ends early when the API stops or
// the file goes (retention).
#include "trainer_node/http/http_context.h"

namespace booth {

void installVisitorRoutes(HttpServer& server, HttpContext& context);

}  // namespace booth
