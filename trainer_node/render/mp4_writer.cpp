#include "trainer_node/render/mp4_writer.h"

#include <cmath>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

namespace booth {
namespace {

std::string avError(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

}  // namespace

struct Mp4Writer::Impl {
  std::string path;
  AVFormatContext* format = nullptr;
  AVCodecContext* codec = nullptr;
  AVStream* stream = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  SwsContext* sws = nullptr;
  int width = 0, height = 0;
  int64_t next_pts = 0;
  bool open = false;

  ~Impl() { release(); }

  void release() {
    sws_freeContext(sws);
    sws = nullptr;
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&codec);
    if (format) {
      if (format->pb) avio_closep(&format->pb);
      avformat_free_context(format);
      format = nullptr;
    }
    open = false;
  }

  // Sends a frame (nullptr flushes) and writes every packet that comes out.
  Status encode(AVFrame* f) {
    int rc = avcodec_send_frame(codec, f);
    if (rc < 0) return fail("encoding " + path + ": " + avError(rc));
    while (true) {
      rc = avcodec_receive_packet(codec, packet);
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return okStatus();
      if (rc < 0) return fail("encoding " + path + ": " + avError(rc));
      av_packet_rescale_ts(packet, codec->time_base, stream->time_base);
      packet->stream_index = stream->index;
      rc = av_interleaved_write_frame(format, packet);
      if (rc < 0) return fail("writing " + path + ": " + avError(rc));
    }
  }
};

Mp4Writer::Mp4Writer() : impl_(std::make_unique<Impl>()) {}
Mp4Writer::~Mp4Writer() {
  if (impl_->open) (void)close();
}

int Mp4Writer::framesWritten() const { return static_cast<int>(impl_->next_pts); }

Status Mp4Writer::open(const std::string& path, int width, int height, double fps, int crf) {
  Impl& m = *impl_;
  if (m.open) return fail("Mp4Writer already open on " + m.path);
  if (width <= 0 || height <= 0 || width % 2 || height % 2) {
    return fail("clip size " + std::to_string(width) + "x" + std::to_string(height) +
                " must be positive and even for H.264 yuv420p");
  }
  if (!(fps > 0 && fps <= 240)) return fail("clip fps " + std::to_string(fps) + " out of range");
  m.path = path;
  m.width = width;
  m.height = height;
  m.next_pts = 0;

  // x264 prints statistics at info level on every close; keep the logs for
  // problems.
  av_log_set_level(AV_LOG_ERROR);
  const AVCodec* encoder = avcodec_find_encoder_by_name("libx264");
  if (!encoder) encoder = avcodec_find_encoder(AV_CODEC_ID_H264);
  if (!encoder)
    return fail("no H.264 encoder in this FFmpeg build (install libavcodec59 with libx264)");

  int rc = avformat_alloc_output_context2(&m.format, nullptr, "mp4", path.c_str());
  if (rc < 0 || !m.format)
    return fail("cannot create MP4 container for " + path + ": " + avError(rc));
  m.stream = avformat_new_stream(m.format, nullptr);
  m.codec = avcodec_alloc_context3(encoder);
  m.frame = av_frame_alloc();
  m.packet = av_packet_alloc();
  if (!m.stream || !m.codec || !m.frame || !m.packet) {
    m.release();
    return fail("out of memory opening " + path);
  }
  const int fps_num = static_cast<int>(std::lround(fps * 1000));
  m.codec->width = width;
  m.codec->height = height;
  m.codec->pix_fmt = AV_PIX_FMT_YUV420P;
  m.codec->time_base = AVRational{1000, fps_num};
  m.codec->framerate = AVRational{fps_num, 1000};
  m.codec->gop_size = static_cast<int>(fps * 2);
  if (m.format->oformat->flags & AVFMT_GLOBALHEADER) m.codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set(m.codec->priv_data, "preset", "veryfast", 0);
  av_opt_set(m.codec->priv_data, "crf", std::to_string(crf).c_str(), 0);
  av_opt_set(m.codec->priv_data, "profile", "high", 0);
  rc = avcodec_open2(m.codec, encoder, nullptr);
  if (rc < 0) {
    m.release();
    return fail("cannot open H.264 encoder: " + avError(rc));
  }
  avcodec_parameters_from_context(m.stream->codecpar, m.codec);
  m.stream->time_base = m.codec->time_base;
  m.stream->avg_frame_rate = m.codec->framerate;

  rc = avio_open(&m.format->pb, path.c_str(), AVIO_FLAG_WRITE);
  if (rc < 0) {
    m.release();
    return fail("cannot write " + path + ": " + avError(rc));
  }
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "movflags", "+faststart", 0);
  rc = avformat_write_header(m.format, &opts);
  av_dict_free(&opts);
  if (rc < 0) {
    m.release();
    return fail("cannot write MP4 header to " + path + ": " + avError(rc));
  }
  m.frame->format = AV_PIX_FMT_YUV420P;
  m.frame->width = width;
  m.frame->height = height;
  if (av_frame_get_buffer(m.frame, 0) < 0) {
    m.release();
    return fail("out of memory for frames of " + path);
  }
  m.sws = sws_getContext(width, height, AV_PIX_FMT_BGR24, width, height, AV_PIX_FMT_YUV420P,
                         SWS_BILINEAR, nullptr, nullptr, nullptr);
  if (!m.sws) {
    m.release();
    return fail("cannot create BGR->YUV converter");
  }
  m.open = true;
  return okStatus();
}

Status Mp4Writer::write(const cv::Mat& bgr) {
  Impl& m = *impl_;
  if (!m.open) return fail("Mp4Writer is not open");
  if (bgr.type() != CV_8UC3 || bgr.cols != m.width || bgr.rows != m.height) {
    return fail("clip frame must be 8-bit BGR " + std::to_string(m.width) + "x" +
                std::to_string(m.height) + ", got " + std::to_string(bgr.cols) + "x" +
                std::to_string(bgr.rows) + " type " + std::to_string(bgr.type()));
  }
  if (av_frame_make_writable(m.frame) < 0) return fail("frame buffer not writable");
  const uint8_t* src[1] = {bgr.data};
  const int stride[1] = {static_cast<int>(bgr.step[0])};
  sws_scale(m.sws, src, stride, 0, m.height, m.frame->data, m.frame->linesize);
  m.frame->pts = m.next_pts++;
  return m.encode(m.frame);
}

Status Mp4Writer::close() {
  Impl& m = *impl_;
  if (!m.open) return fail("Mp4Writer is not open");
  Status flushed = m.encode(nullptr);
  int rc = av_write_trailer(m.format);
  m.release();
  if (!flushed.ok()) return flushed;
  if (rc < 0) return fail("cannot finish " + m.path + ": " + avError(rc));
  return okStatus();
}

}  // namespace booth
