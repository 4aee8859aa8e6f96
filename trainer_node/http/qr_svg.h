#pragma once
// QR codes as SVG (libqrencode): the visitor page's link on the operator
// page and on the visitor page itself. Empty when the text does not fit a
// QR code.
#include <string>

namespace booth {
std::string qrSvg(const std::string& text);
}
