#pragma once
// The operator page served at "/": one self-contained HTML document (no
// external assets: the booth network may have no internet). It polls the
// JSON API once a second.
#include <string>

namespace booth {
const std::string& operatorPageHtml();
}
