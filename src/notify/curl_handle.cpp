#include "notify/curl_handle.hpp"

#include <mutex>

namespace sluice::notify {

CurlHandle::CurlHandle() {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
}

CurlHandle::~CurlHandle() { curl_easy_cleanup(curl_); }

Status CurlHandle::Perform(const std::string& what) {
  if (curl_ == nullptr) return Status::Internal("{}: libcurl could not create a handle", what);
  CURLcode rc = curl_easy_perform(curl_);
  if (rc == CURLE_OK) return Status::OK();
  std::string detail = error_[0] != '\0' ? error_ : curl_easy_strerror(rc);
  return Status::Unavailable("{}: {}", what, detail);
}

}  // namespace sluice::notify
