#include "server/api_token.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/hash.hpp"
#include "common/strings.hpp"

namespace sluice::server {
namespace {

constexpr size_t kTokenBytes = 32;

Result<std::string> ReadTokenFile(const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0)
    return Status::IoError("cannot read {}: {}", file.string(), std::strerror(errno));
  if ((info.st_mode & 077) != 0) {
    return Status::Invalid(
        "{} can be read by other users (mode {:o}); run `chmod 600 {}` or delete it to get a new token", file.string(),
        info.st_mode & 0777, file.string());
  }
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::string token = Trim(text.str());
  if (!in || token.empty()) {
    return Status::Invalid("{} holds no token; delete it and start sluice serve again to get a new one", file.string());
  }
  return token;
}

}  // namespace

Result<ApiToken> ResolveApiToken(const Secret& configured, const std::filesystem::path& state_dir) {
  if (!configured.empty()) return ApiToken{configured, {}, false};
  std::filesystem::path file = state_dir / "api_token";
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return Status::IoError("cannot create {}: {}", state_dir.string(), ec.message());
  unsigned char bytes[kTokenBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::Internal("cannot generate an API token: no randomness");
  std::string token = HexEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  // O_EXCL: a token another start wrote first is read, never overwritten.
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno != EEXIST) return Status::IoError("cannot create {}: {}", file.string(), std::strerror(errno));
    SLUICE_ASSIGN_OR_RETURN(std::string existing, ReadTokenFile(file));
    return ApiToken{Secret(existing), file, false};
  }
  std::string line = token + "\n";
  bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!written) {
    std::filesystem::remove(file, ec);
    return Status::IoError("cannot write {}: {}", file.string(), std::strerror(saved));
  }
  return ApiToken{Secret(token), file, true};
}

}  // namespace sluice::server
