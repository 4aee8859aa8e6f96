#include "trainer_node/store/pg/shared_stores.h"

namespace booth {

Result<SharedStores> openSharedStores(const std::string& url, const PgJobQueueOptions& queue) {
  if (!isPostgresUrl(url)) {
    return fail("not a postgresql:// URL: '" + redactDatabaseUrl(url).substr(0, 200) + "'");
  }
  PgOptions options;
  options.url = url;
  auto db = PgDatabase::open(options);
  if (!db.ok()) return fail(db.error());
  SharedStores stores;
  stores.database = db.value();
  stores.queue = std::make_unique<PgJobQueue>(stores.database, queue);
  stores.blobs = std::make_unique<PgBlobStore>(stores.database);
  return stores;
}

}  // namespace booth
