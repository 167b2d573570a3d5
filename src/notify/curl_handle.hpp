#pragma once

#include <curl/curl.h>

#include <string>

#include "common/status.hpp"

namespace sluice::notify {

/// One libcurl easy handle (global init done once), with an error buffer; notify/ owns libcurl use.
class CurlHandle {
 public:
  CurlHandle();
  ~CurlHandle();
  CurlHandle(const CurlHandle&) = delete;
  CurlHandle& operator=(const CurlHandle&) = delete;

  CURL* get() const { return curl_; }
  /// Runs the transfer; failures become Unavailable (retryable) naming `what`, never a credential.
  Status Perform(const std::string& what);

 private:
  CURL* curl_;
  char error_[CURL_ERROR_SIZE] = {0};
};

}  // namespace sluice::notify
