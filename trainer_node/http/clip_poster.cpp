#include "trainer_node/http/clip_poster.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include "trainer_node/store/blob_files.h"
#include "trainer_node/store/clip_names.h"

namespace booth {
namespace fs = std::filesystem;
namespace {

struct FormatCloser {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct CodecFreer {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameFreer {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsFreer {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameFreer>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFreer>;

std::string avError(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

// Decodes frames of the video stream until the `target`-th (0-based) or
// the last one, whichever comes first.
Result<FramePtr> decodeFrame(const fs::path& clip, double fraction) {
  AVFormatContext* raw = nullptr;
  if (int rc = avformat_open_input(&raw, clip.c_str(), nullptr, nullptr); rc < 0) {
    return fail("cannot open clip " + clip.string() + ": " + avError(rc));
  }
  std::unique_ptr<AVFormatContext, FormatCloser> fmt(raw);
  if (int rc = avformat_find_stream_info(fmt.get(), nullptr); rc < 0) {
    return fail("clip " + clip.string() + " has no readable streams: " + avError(rc));
  }
  const int idx = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (idx < 0) return fail("clip " + clip.string() + " has no video stream");
  const AVStream* stream = fmt->streams[idx];
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (!codec) return fail("no decoder for the clip's codec");
  std::unique_ptr<AVCodecContext, CodecFreer> dec(avcodec_alloc_context3(codec));
  if (!dec || avcodec_parameters_to_context(dec.get(), stream->codecpar) < 0 ||
      avcodec_open2(dec.get(), codec, nullptr) < 0) {
    return fail("cannot open the decoder for " + clip.string());
  }
  const std::int64_t total = stream->nb_frames > 0 ? stream->nb_frames : 1;
  const std::int64_t target =
      std::clamp<std::int64_t>(static_cast<std::int64_t>(fraction * total), 0, total - 1);

  PacketPtr pkt(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  FramePtr kept;
  std::int64_t decoded = 0;
  auto drain = [&]() -> bool {  // true once the target frame is kept
    while (avcodec_receive_frame(dec.get(), frame.get()) == 0) {
      kept.reset(av_frame_clone(frame.get()));
      av_frame_unref(frame.get());
      if (decoded++ >= target) return true;
    }
    return false;
  };
  bool found = false;
  while (!found && av_read_frame(fmt.get(), pkt.get()) >= 0) {
    if (pkt->stream_index == idx && avcodec_send_packet(dec.get(), pkt.get()) == 0) found = drain();
    av_packet_unref(pkt.get());
  }
  if (!found) {
    avcodec_send_packet(dec.get(), nullptr);
    drain();
  }
  if (!kept) return fail("clip " + clip.string() + " has no decodable frame");
  return kept;
}

}  // namespace

fs::path posterPath(const fs::path& clip_path) {
  fs::path p = clip_path;
  p.replace_extension(".jpg");
  return p;
}

Status makePoster(const fs::path& clip, const fs::path& out, double fraction, int max_width) {
  auto decoded = decodeFrame(clip, fraction);
  if (!decoded.ok()) return fail(decoded.error());
  const AVFrame& src = *decoded.value();
  int width = src.width, height = src.height;
  if (width > max_width) {
    height = std::max(2, static_cast<int>(static_cast<double>(height) * max_width / width) & ~1);
    width = max_width & ~1;
  }

  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (!codec) return fail("FFmpeg has no MJPEG encoder");
  std::unique_ptr<AVCodecContext, CodecFreer> enc(avcodec_alloc_context3(codec));
  enc->width = width;
  enc->height = height;
  enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
  enc->time_base = AVRational{1, 25};
  enc->flags |= AV_CODEC_FLAG_QSCALE;
  enc->global_quality = FF_QP2LAMBDA * 4;  // good quality, small file
  if (int rc = avcodec_open2(enc.get(), codec, nullptr); rc < 0) {
    return fail("cannot open the MJPEG encoder: " + avError(rc));
  }
  FramePtr dst(av_frame_alloc());
  dst->format = enc->pix_fmt;
  dst->width = width;
  dst->height = height;
  dst->quality = enc->global_quality;
  if (av_frame_get_buffer(dst.get(), 0) < 0) return fail("out of memory for the poster");
  std::unique_ptr<SwsContext, SwsFreer> sws(
      sws_getContext(src.width, src.height, static_cast<AVPixelFormat>(src.format), width, height,
                     enc->pix_fmt, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!sws) return fail("cannot convert the clip's pixel format for the poster");
  sws_scale(sws.get(), src.data, src.linesize, 0, src.height, dst->data, dst->linesize);

  PacketPtr pkt(av_packet_alloc());
  if (avcodec_send_frame(enc.get(), dst.get()) < 0 || avcodec_send_frame(enc.get(), nullptr) < 0 ||
      avcodec_receive_packet(enc.get(), pkt.get()) < 0) {
    return fail("MJPEG encoding of the poster failed");
  }
  const fs::path tmp = out.string() + ".tmp";
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(pkt->data), pkt->size);
    if (!file.flush()) return fail("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, ec);
  fs::rename(tmp, out, ec);
  if (ec) return fail("cannot write poster " + out.string() + ": " + ec.message());
  return okStatus();
}

ClipPosters::ClipPosters(fs::path scratch) : scratch_(std::move(scratch)) {}

Result<std::string> ClipPosters::ensureBlob(BlobStore& blobs, const std::string& token) {
  constexpr std::size_t kMaxPosterBytes = 8u << 20;
  const std::string poster_key = posterBlobKey(token);
  const std::string clip_key = clipBlobKey(token);
  std::lock_guard lock(mutex_);
  auto stored = blobs.size(poster_key);
  if (!stored.ok()) return fail(stored.error());
  if (stored.value()) return blobs.read(poster_key, {}, kMaxPosterBytes);

  std::error_code ec;
  const fs::path dir = scratch_.empty() ? fs::temp_directory_path(ec) : scratch_;
  fs::create_directories(dir, ec);
  if (ec) return fail("cannot create the poster scratch folder " + dir.string() + ": " + ec.message());
  const fs::path fetched = dir / (token + ".mp4");
  const fs::path made = dir / (token + ".jpg");
  struct Cleanup {
    std::vector<fs::path> files;
    ~Cleanup() {
      std::error_code ignored;
      for (const auto& f : files) fs::remove(f, ignored);
    }
  } cleanup{{made}};
  // A clip in a local folder is read where it is; any other is fetched.
  fs::path clip = blobLocation(blobs, clip_key);
  if (clip.string() == clip_key) {
    cleanup.files.push_back(fetched);
    if (auto st = fetchBlobToFile(blobs, clip_key, fetched); !st.ok()) return fail(st.error());
    clip = fetched;
  }
  if (auto st = makePoster(clip, made); !st.ok()) return fail(st.error());
  if (auto st = storeFileAsBlob(blobs, made, poster_key); !st.ok()) return fail(st.error());
  return blobs.read(poster_key, {}, kMaxPosterBytes);
}

Result<fs::path> ClipPosters::ensure(const fs::path& clip) {
  const fs::path poster = posterPath(clip);
  std::lock_guard lock(mutex_);
  std::error_code ec;
  if (fs::exists(poster, ec)) return poster;
  if (auto st = makePoster(clip, poster); !st.ok()) return fail(st.error());
  return poster;
}

}  // namespace booth
