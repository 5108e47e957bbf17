#include "agent/stream/hub.hpp"

#include <algorithm>

#include "agent/pipeline/series_match.hpp"
#include "agent/stream/messages.hpp"

namespace hostpulse {
namespace {

OutboundFrame control_frame(std::string text) {
  return OutboundFrame{std::make_shared<const std::string>(std::move(text)), false, FrameKind::control, 0};
}

OutboundFrame error_frame(const RequestId& id, std::string_view code, std::string_view message) {
  return OutboundFrame{std::make_shared<const std::string>(encode_error(id, code, message)), false, FrameKind::error, 0};
}

}  // namespace

StreamHub::StreamHub(SchemaSnapshot schema, const History& history)
    : schema_(std::move(schema)), history_(history), last_published_seq_(history.last_seq()) {}

StreamHub::Group* StreamHub::find_group(std::span<const SeriesSelector> selectors, StreamFormat format,
                                        const BatchSettings& batch, std::uint32_t every) {
  for (auto& group : groups_) {
    if (group->format == format && group->batch == batch && group->every == every &&
        std::equal(group->selectors.begin(), group->selectors.end(), selectors.begin(), selectors.end())) {
      return group.get();
    }
  }
  return nullptr;
}

std::uint32_t StreamHub::subscribe(const std::shared_ptr<StreamSubscriber>& subscriber, const SubscribeRequest& request,
                                   std::size_t max_subscriptions_per_subscriber,
                                   std::chrono::steady_clock::time_point now) {
  (void)now;
  std::vector<std::uint32_t> series;
  const Status resolved = resolve_selectors(*schema_, request.series, false, true, series);
  if (!resolved.ok()) {
    subscriber->deliver(error_frame(request.id, error_code::unknown_series, resolved.error));
    return 0;
  }
  std::size_t& count = subscription_counts_[subscriber.get()];
  Group* group = find_group(request.series, request.format, request.batch, request.every);
  if (group != nullptr) {
    for (const Member& member : group->members) {
      if (member.key == subscriber.get()) {
        subscriber->deliver(error_frame(request.id, error_code::duplicate_subscription,
                                        "already subscribed with these settings as sub " + std::to_string(group->id)));
        return 0;
      }
    }
  }
  if (count >= max_subscriptions_per_subscriber) {
    subscriber->deliver(error_frame(request.id, error_code::too_many_subscriptions,
                                    "at most " + std::to_string(max_subscriptions_per_subscriber) +
                                        " subscriptions per connection"));
    return 0;
  }
  if (group == nullptr) {
    auto created = std::make_unique<Group>();
    created->id = next_group_id_++;
    created->selectors = request.series;
    created->series = std::move(series);
    created->format = request.format;
    created->batch = request.batch;
    created->every = request.every;
    const std::size_t reserve = created->batch.max_samples;
    created->pending_seq.reserve(reserve);
    created->pending_t_ms.reserve(reserve);
    created->pending_values.reserve(reserve * created->series.size());
    group = created.get();
    groups_.push_back(std::move(created));
  }
  ++count;
  // Points up to `covered` are either in the catch-up or were published before
  // this subscription; everything after arrives in the group's frames. A
  // resume point inside the pending batch moves `covered` up to it, and this
  // member's first frame is trimmed to match.
  std::uint64_t covered = group->pending_seq.empty() ? last_published_seq_ : group->pending_seq.front() - 1;
  std::uint64_t skip_through = 0;
  if (request.resume_from && !group->pending_seq.empty() && *request.resume_from > covered) {
    skip_through = std::min(*request.resume_from, group->pending_seq.back());
    covered = skip_through;
  }
  group->members.push_back(Member{subscriber, subscriber.get(), skip_through});

  subscriber->deliver(control_frame(encode_subscribed(request.id, group->id, *schema_, group->series, group->format,
                                                      group->batch, group->every, covered)));
  if (request.resume_from && *request.resume_from < covered) {
    send_catch_up(subscriber, *group, *request.resume_from, covered);
  }
  return group->id;
}

void StreamHub::update_schema(SchemaSnapshot schema) {
  schema_ = std::move(schema);
  std::vector<std::uint32_t> series;
  for (auto& pointer : groups_) {
    Group& group = *pointer;
    // A selector that matches nothing now (its series all retired) is no error here.
    (void)resolve_selectors(*schema_, group.selectors, false, false, series);
    if (series == group.series) continue;
    if (!group.pending_seq.empty()) flush(group);
    group.series = series;
    group.pending_values.reserve(group.batch.max_samples * group.series.size());
  }
}

void StreamHub::send_catch_up(const std::shared_ptr<StreamSubscriber>& subscriber, const Group& group,
                              std::uint64_t after_seq, std::uint64_t until_seq) {
  // Every series the selectors matched at some point in the range, retired
  // ones included: a point's columns are those live at its seq, as the live
  // frames of a client that stayed connected had them.
  std::vector<std::uint32_t> candidates;
  (void)resolve_selectors(*schema_, group.selectors, true, false, candidates);
  const HistoryColumns columns = history_.since_seq(after_seq, candidates);
  if (columns.points() == 0) return;
  const auto live_at = [this](std::uint32_t id, std::uint64_t seq) {
    const SeriesInfo& info = (*schema_)[id];
    return info.first_seq <= seq && (info.retired_seq == 0 || seq < info.retired_seq);
  };
  // Keep points in (after_seq, until_seq] whose seq passes the decimation.
  std::vector<std::size_t> keep;
  for (std::size_t k = 0; k < columns.points(); ++k) {
    const std::uint64_t seq = columns.seq_first + k;
    if (seq <= until_seq && seq % group.every == 0) keep.push_back(k);
  }
  // Bounded: at most catch_up_limit_values_ values and catch_up_limit_bytes_
  // encoded bytes, the newest points kept. Runs of points with the same
  // columns are encoded newest first, so the byte bound drops the oldest,
  // then delivered in seq order.
  std::vector<OutboundFrame> frames;
  std::size_t bytes_total = 0;
  std::size_t values_left = catch_up_limit_values_;
  std::vector<std::uint32_t> series;
  std::vector<std::size_t> column_of;
  for (std::size_t end = keep.size(); end > 0 && values_left > 0 && bytes_total < catch_up_limit_bytes_;) {
    // The run of points before `end` whose columns equal those of point end-1.
    const std::uint64_t last_seq = columns.seq_first + keep[end - 1];
    series.clear();
    column_of.clear();
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (live_at(candidates[i], last_seq)) {
        series.push_back(candidates[i]);
        column_of.push_back(i);
      }
    }
    std::size_t start = end - 1;
    while (start > 0) {
      const std::uint64_t seq = columns.seq_first + keep[start - 1];
      bool same = true;
      for (std::size_t i = 0; i < candidates.size() && same; ++i) {
        same = live_at(candidates[i], seq) == live_at(candidates[i], last_seq);
      }
      if (!same) break;
      --start;
    }
    const std::size_t max_points = std::max<std::size_t>(1, values_left / std::max<std::size_t>(1, series.size()));
    if (end - start > max_points) start = end - max_points;
    const bool whole = encode_catch_up_run(group, columns, std::span(keep).subspan(start, end - start), series,
                                           column_of, bytes_total, frames);
    if (!whole) break;  // over the byte budget: older points would leave a gap
    values_left -= std::min(values_left, (end - start) * std::max<std::size_t>(1, series.size()));
    end = start;
  }
  for (auto frame = frames.rbegin(); frame != frames.rend(); ++frame) subscriber->deliver(*frame);
}

bool StreamHub::encode_catch_up_run(const Group& group, const HistoryColumns& columns, std::span<const std::size_t> keep,
                                    std::span<const std::uint32_t> series, std::span<const std::size_t> column_of,
                                    std::size_t& bytes_total, std::vector<OutboundFrame>& frames) const {
  std::size_t chunk_points = kCatchUpChunkPoints;
  for (std::size_t end = keep.size(); end > 0;) {
    const std::size_t start = end > chunk_points ? end - chunk_points : 0;
    const std::size_t points = end - start;
    std::vector<std::int64_t> t_ms(points);
    std::vector<double> values(points * series.size());
    for (std::size_t p = 0; p < points; ++p) {
      const std::size_t k = keep[start + p];
      t_ms[p] = columns.t_ms[k];
      for (std::size_t i = 0; i < series.size(); ++i) values[i * points + p] = columns.values[column_of[i]][k];
    }
    const SamplesBatch batch{group.id, columns.seq_first + keep[start], columns.seq_first + keep[end - 1], t_ms,
                             series, values};
    std::string bytes;
    encode_samples(batch, group.format, bytes);
    if (bytes_total + bytes.size() > catch_up_limit_bytes_) {
      // Wide points (hundreds of CPUs): the newest chunk alone is over the
      // budget, so cut it smaller; one point always goes.
      if (frames.empty() && points > 1) {
        chunk_points = points / 2;
        continue;
      }
      if (!frames.empty()) return false;
    }
    bytes_total += bytes.size();
    frames.push_back(OutboundFrame{.bytes = std::make_shared<const std::string>(std::move(bytes)),
                                   .binary = group.format == StreamFormat::msgpack,
                                   .kind = FrameKind::catch_up,
                                   .subscription = group.id});
    end = start;
  }
  return true;
}

void StreamHub::unsubscribe(const std::shared_ptr<StreamSubscriber>& subscriber, const UnsubscribeRequest& request) {
  for (auto& group : groups_) {
    if (group->id != request.subscription) continue;
    auto& members = group->members;
    const auto it = std::find_if(members.begin(), members.end(),
                                 [&](const Member& m) { return m.key == subscriber.get(); });
    if (it == members.end()) break;
    members.erase(it);
    --subscription_counts_[subscriber.get()];
    erase_empty_groups();
    subscriber->deliver(control_frame(encode_unsubscribed(request.id, request.subscription)));
    return;
  }
  subscriber->deliver(error_frame(request.id, error_code::unknown_subscription,
                                  "no subscription " + std::to_string(request.subscription) + " on this connection"));
}

void StreamHub::remove(const StreamSubscriber* subscriber) {
  for (auto& group : groups_) {
    std::erase_if(group->members, [&](const Member& m) { return m.key == subscriber; });
  }
  subscription_counts_.erase(subscriber);
  erase_empty_groups();
}

void StreamHub::erase_empty_groups() {
  std::erase_if(groups_, [](const std::unique_ptr<Group>& group) { return group->members.empty(); });
}

void StreamHub::publish(std::uint64_t seq, std::int64_t t_ms, std::span<const double> values,
                        std::chrono::steady_clock::time_point now) {
  last_published_seq_ = seq;
  for (auto& pointer : groups_) {
    Group& group = *pointer;
    if (seq % group.every != 0) continue;
    if (group.pending_seq.empty()) group.deadline = now + group.batch.max_delay;
    group.pending_seq.push_back(seq);
    group.pending_t_ms.push_back(t_ms);
    for (std::uint32_t id : group.series) group.pending_values.push_back(id < values.size() ? values[id] : 0.0);
    if (group.pending_seq.size() >= group.batch.max_samples) flush(group);
  }
}

void StreamHub::flush_due(std::chrono::steady_clock::time_point now) {
  for (auto& group : groups_) {
    // max_delay 0 means "no time limit": such batches go out on count alone.
    if (!group->pending_seq.empty() && group->batch.max_delay.count() > 0 && group->deadline <= now) flush(*group);
  }
}

void StreamHub::flush_all() {
  for (auto& group : groups_) {
    if (!group->pending_seq.empty()) flush(*group);
  }
}

std::optional<std::chrono::steady_clock::time_point> StreamHub::next_deadline() const {
  std::optional<std::chrono::steady_clock::time_point> earliest;
  for (const auto& group : groups_) {
    if (group->pending_seq.empty() || group->batch.max_delay.count() == 0) continue;
    if (!earliest || group->deadline < *earliest) earliest = group->deadline;
  }
  return earliest;
}

void StreamHub::flush(Group& group) {
  const std::size_t points = group.pending_seq.size();
  const std::size_t width = group.series.size();
  // Pending is point-major (cheap to append); frames are series-major.
  column_buffer_.resize(points * width);
  for (std::size_t k = 0; k < points; ++k) {
    for (std::size_t i = 0; i < width; ++i) column_buffer_[i * points + k] = group.pending_values[k * width + i];
  }
  const SamplesBatch batch{group.id, group.pending_seq.front(), group.pending_seq.back(), group.pending_t_ms,
                           group.series, column_buffer_};
  encode_samples(batch, group.format, encode_buffer_);
  ++stats_.frames_encoded;
  stats_.bytes_encoded += encode_buffer_.size();
  const OutboundFrame frame{std::make_shared<const std::string>(encode_buffer_), group.format == StreamFormat::msgpack,
                            FrameKind::samples, group.id};
  deliver_to_members(group, frame);
  group.pending_seq.clear();
  group.pending_t_ms.clear();
  group.pending_values.clear();
}

void StreamHub::deliver_to_members(Group& group, const OutboundFrame& frame) {
  const std::size_t points = group.pending_seq.size();
  for (Member& member : group.members) {
    if (member.skip_through_seq != 0) {
      deliver_trimmed(group, member, points);
      member.skip_through_seq = 0;
      continue;
    }
    if (auto subscriber = member.subscriber.lock()) {
      subscriber->deliver(frame);
      ++stats_.deliveries;
    }
  }
}

void StreamHub::deliver_trimmed(Group& group, Member& member, std::size_t points) {
  auto subscriber = member.subscriber.lock();
  if (!subscriber) return;
  std::size_t first = 0;
  while (first < points && group.pending_seq[first] <= member.skip_through_seq) ++first;
  if (first == points) return;  // everything in this batch was already sent as catch-up
  const std::size_t kept = points - first;
  const std::size_t width = group.series.size();
  std::vector<double> values(kept * width);
  for (std::size_t i = 0; i < width; ++i) {
    for (std::size_t k = 0; k < kept; ++k) values[i * kept + k] = column_buffer_[i * points + first + k];
  }
  const SamplesBatch batch{group.id, group.pending_seq[first], group.pending_seq.back(),
                           std::span(group.pending_t_ms).subspan(first), group.series, values};
  std::string bytes;
  encode_samples(batch, group.format, bytes);
  subscriber->deliver(OutboundFrame{std::make_shared<const std::string>(std::move(bytes)),
                                    group.format == StreamFormat::msgpack, FrameKind::samples, group.id});
  ++stats_.deliveries;
}

HubStats StreamHub::stats() const {
  HubStats s = stats_;
  s.groups = groups_.size();
  s.subscriptions = 0;
  for (const auto& group : groups_) s.subscriptions += group->members.size();
  return s;
}

}  // namespace hostpulse
