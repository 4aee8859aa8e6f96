#include "support/mp4_probe.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
}

namespace booth::testing {

Mp4Probe probeMp4(const std::string& path) {
  Mp4Probe out;
  AVFormatContext* fmt = nullptr;
  if (avformat_open_input(&fmt, path.c_str(), nullptr, nullptr) < 0) {
    out.error = "cannot open " + path;
    return out;
  }
  if (avformat_find_stream_info(fmt, nullptr) < 0) {
    out.error = "no stream info";
    avformat_close_input(&fmt);
    return out;
  }
  out.container = fmt->iformat->name;
  const int idx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (idx < 0) {
    out.error = "no video stream";
    avformat_close_input(&fmt);
    return out;
  }
  const AVCodecParameters* par = fmt->streams[idx]->codecpar;
  out.codec = avcodec_get_name(par->codec_id);
  out.width = par->width;
  out.height = par->height;
  if (const char* pf = av_get_pix_fmt_name(static_cast<AVPixelFormat>(par->format)))
    out.pixel_format = pf;
  const AVCodec* dec = avcodec_find_decoder(par->codec_id);
  AVCodecContext* ctx = dec ? avcodec_alloc_context3(dec) : nullptr;
  if (!ctx || avcodec_parameters_to_context(ctx, par) < 0 || avcodec_open2(ctx, dec, nullptr) < 0) {
    out.error = "cannot open decoder for " + out.codec;
    avcodec_free_context(&ctx);
    avformat_close_input(&fmt);
    return out;
  }
  AVPacket* pkt = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  auto drain = [&] {
    while (avcodec_receive_frame(ctx, frame) == 0) ++out.frames;
  };
  while (av_read_frame(fmt, pkt) >= 0) {
    if (pkt->stream_index == idx && avcodec_send_packet(ctx, pkt) == 0) drain();
    av_packet_unref(pkt);
  }
  avcodec_send_packet(ctx, nullptr);
  drain();
  av_frame_free(&frame);
  av_packet_free(&pkt);
  avcodec_free_context(&ctx);
  avformat_close_input(&fmt);
  out.ok = true;
  return out;
}

}  // namespace booth::testing
