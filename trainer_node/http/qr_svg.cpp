#include "trainer_node/http/qr_svg.h"

#include <qrencode.h>

#include <memory>
#include <sstream>

namespace booth {

std::string qrSvg(const std::string& text) {
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
      QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!qr) return {};
  const int margin = 4, n = qr->width, size = n + 2 * margin;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << size << " " << size
      << "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
      << "<path fill=\"#000\" d=\"";
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      if (qr->data[y * n + x] & 1) svg << "M" << x + margin << " " << y + margin << "h1v1h-1z";
    }
  }
  svg << "\"/></svg>";
  return svg.str();
}

}  // namespace booth
