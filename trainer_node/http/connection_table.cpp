#include "trainer_node/http/connection_table.h"

#include <sys/socket.h>
#include <unistd.h>

namespace booth {

ConnectionTable::~ConnectionTable() {
  for (auto& [id, e] : entries_) ::close(e.fd);
}

bool ConnectionTable::evictOne(const std::string& address, Clock::TimePoint now) {
  Entry* oldest = nullptr;
  for (auto& [id, e] : entries_) {
    if (e.evicted || !e.waiting || (!address.empty() && e.address != address)) continue;
    if (!oldest || e.since < oldest->since) oldest = &e;
  }
  if (!oldest || now - oldest->since < limits_.evict_after) return false;
  ::shutdown(oldest->fd, SHUT_RDWR);
  oldest->evicted = true;
  --counted_;
  if (--per_address_[oldest->address] == 0) per_address_.erase(oldest->address);
  ++evicted_total_;
  return true;
}

ConnectionTable::Admission ConnectionTable::admit(int fd, const std::string& address,
                                                  Clock::TimePoint now) {
  std::lock_guard lock(mutex_);
  const auto from_address = per_address_.find(address);
  if (from_address != per_address_.end() && from_address->second >= limits_.max_per_address &&
      !evictOne(address, now)) {
    ++refused_total_;
    return {0, "too many connections from " + address + " (" +
                   std::to_string(limits_.max_per_address) + " open, all busy)"};
  }
  if (counted_ >= limits_.max_connections && !evictOne({}, now)) {
    ++refused_total_;
    return {0, "the server has " + std::to_string(limits_.max_connections) +
                   " connections open, all busy"};
  }
  const std::uint64_t id = next_id_++;
  entries_[id] = Entry{fd, address, true, false, now};
  ++per_address_[address];
  ++counted_;
  return {id, {}};
}

void ConnectionTable::waiting(std::uint64_t id, Clock::TimePoint since) {
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(id); it != entries_.end()) {
    it->second.waiting = true;
    it->second.since = since;
  }
}

void ConnectionTable::busy(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(id); it != entries_.end()) it->second.waiting = false;
}

void ConnectionTable::release(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (!e.evicted) {
    --counted_;
    if (--per_address_[e.address] == 0) per_address_.erase(e.address);
  }
  ::shutdown(e.fd, SHUT_RDWR);
  ::close(e.fd);
  entries_.erase(it);
}

void ConnectionTable::shutdownAll() {
  std::lock_guard lock(mutex_);
  for (auto& [id, e] : entries_) ::shutdown(e.fd, SHUT_RDWR);
}

std::size_t ConnectionTable::counted() const {
  std::lock_guard lock(mutex_);
  return counted_;
}

std::uint64_t ConnectionTable::evictedTotal() const {
  std::lock_guard lock(mutex_);
  return evicted_total_;
}

std::uint64_t ConnectionTable::refusedTotal() const {
  std::lock_guard lock(mutex_);
  return refused_total_;
}

}  // namespace booth
