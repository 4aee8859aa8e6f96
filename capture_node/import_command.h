#pragma once
// `capture_node import-choreography`: imports a dance video as a reference
// choreography (capture_node/pose/choreography_importer.h) and writes the
// file the trainer renders from:
//
//   capture_node import-choreography --video salsa.mp4 --name salsa-1
//       --pose-model capture_node/pose/models/tfpose_mobilenet_v2_small.json
//       --out salsa-1.json
//
// Options are parsed once into ImportCommandOptions (also from --config);
// every bad value is one Error line naming the option.
#include <filesystem>
#include <string>

#include "capture_node/pose/choreography_importer.h"
#include "common/core/result.h"

namespace booth {

struct ImportCommandOptions {
  bool help = false;
  std::string help_text;
  ImportConfig import;
  std::filesystem::path out;
  std::string log_level = "info";
};

// argv[0] is the subcommand's name ("import-choreography").
Result<ImportCommandOptions> parseImportCommand(int argc, const char* const* argv);

// Runs the import and writes the file; prints progress and a summary.
// Returns the process exit code (0 done, 1 the import failed).
int runImportCommand(const ImportCommandOptions& options);

}  // namespace booth
