// s3_transfer put|get ENDPOINT BUCKET KEY FILE [PART_SIZE_MB [UPLOAD_CONCURRENCY]]
// One upload (PutFile, multipart above the part size) or one download (GetToFile) through sluice's
// S3 object store; credentials from the AWS environment variables. Used by bench/s3_throughput.py.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "storage/s3/s3_object_store.hpp"

int main(int argc, char** argv) {
  using namespace sluice::storage;
  if (argc < 6) {
    std::fprintf(stderr, "usage: s3_transfer put|get ENDPOINT BUCKET KEY FILE [PART_SIZE_MB [UPLOAD_CONCURRENCY]]\n");
    return 2;
  }
  std::string mode = argv[1];
  s3::S3Options options;
  options.endpoint = argv[2];
  options.path_style = true;
  if (argc > 6) {
    options.part_size = std::strtoull(argv[6], nullptr, 10) << 20;
    options.multipart_threshold = options.part_size;
    options.read_chunk_size = options.part_size;
  }
  if (argc > 7) options.upload_concurrency = std::atoi(argv[7]);
  auto complete = s3::CompleteS3Options(options, s3::ProcessEnvironment());
  if (!complete.ok()) {
    std::fprintf(stderr, "%s\n", complete.status().ToString().c_str());
    return 1;
  }
  auto store = s3::MakeS3ObjectStore(argv[3], "", *complete);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  sluice::Status st = mode == "put" ? (*store)->PutFile(argv[4], argv[5], false) : (*store)->GetToFile(argv[4], argv[5]);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
