#pragma once
// The camera list of `capture_node --list-cameras`: every /dev/video* node,
// and for each capture node its card, driver, bus, pixel formats, frame
// sizes and frame intervals (discrete or stepwise), as the driver
// enumerates them. Nodes that are not cameras (UVC metadata nodes, codecs)
// and nodes that cannot be opened get one line saying why.
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "capture_node/v4l2/v4l2_device.h"
#include "capture_node/v4l2/v4l2_device_info.h"

namespace booth {

using V4l2DeviceFactory = std::function<std::unique_ptr<V4l2Device>(const std::string& path)>;

// The video* nodes in `dir`, in natural order (video2 before video10).
std::vector<std::string> findVideoNodes(const std::filesystem::path& dir);

// One device, as listed (several lines, each ending in '\n').
std::string formatDeviceInfo(const V4l2DeviceInfo& info);

// Opens each of `paths` through `open_device`, queries it and prints it.
// Returns the number of capture devices found.
int listV4l2Cameras(std::ostream& out, const std::vector<std::string>& paths,
                    const V4l2DeviceFactory& open_device);

// The booth's list: the kernel's /dev/video* nodes.
int listV4l2Cameras(std::ostream& out);

}  // namespace booth
