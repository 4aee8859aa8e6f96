#include "trainer_node/train/face_gan.h"

namespace booth {

GeneratorOptions faceGeneratorOptions(const ModelConfig& c) {
  GeneratorOptions o;
  o.in_channels = 6;  // stick crop, generated crop
  o.out_channels = 3;
  o.ngf = c.face_ngf;
  // Two downsamples: a 16-pixel crop still has a 4-pixel bottleneck.
  o.downsamples = 2;
  o.blocks = c.face_blocks;
  o.zero_tail = true;
  return o;
}

DiscriminatorOptions faceDiscriminatorOptions(const ModelConfig& c) {
  DiscriminatorOptions o;
  o.in_channels = 6;  // stick crop, face crop
  o.ndf = c.face_ndf;
  o.layers = c.face_d_layers;
  o.scales = 1;  // the crop is small: one scale sees all of it
  return o;
}

torch::Tensor cropBoxes(const torch::Tensor& images, std::span<const cv::Rect> boxes) {
  std::vector<torch::Tensor> crops;
  crops.reserve(boxes.size());
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    const cv::Rect& b = boxes[i];
    crops.push_back(images[static_cast<std::int64_t>(i)]
                        .narrow(1, b.y, b.height)
                        .narrow(2, b.x, b.width));
  }
  return torch::stack(crops);
}

torch::Tensor refineFace(const torch::Tensor& raw_crop, const torch::Tensor& residual) {
  return (raw_crop + residual).clamp(-1.0, 1.0);
}

void pasteBox(torch::Tensor& image, const torch::Tensor& crop, const cv::Rect& box) {
  image.narrow(2, box.y, box.height).narrow(3, box.x, box.width).copy_(crop);
}

}  // namespace booth
