// Helpers every vipcast addon shares: a JS Error for a failed system call, parsing an
// address literal into a sockaddr, and watching a socket for reads on Node's event loop.
#pragma once

#include <napi.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#include <string>

namespace vipcast {

// An Error "what: strerror(err)" whose `errno` property is err.
inline Napi::Error SystemError(Napi::Env env, const std::string& what, int err) {
  Napi::Error error = Napi::Error::New(env, what + ": " + strerror(err));
  error.Set("errno", Napi::Number::New(env, err));
  return error;
}

// Parses an IPv4 or IPv6 literal and a port into `out`; returns the address length, or 0.
inline socklen_t ParseAddress(const std::string& text, int port, struct sockaddr_storage* out) {
  memset(out, 0, sizeof(*out));
  auto* v4 = reinterpret_cast<struct sockaddr_in*>(out);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    return sizeof(*v4);
  }
  auto* v6 = reinterpret_cast<struct sockaddr_in6*>(out);
  if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    return sizeof(*v6);
  }
  return 0;
}

// Starts watching `fd` for reads on Node's loop; `data` is the callback's handle->data.
inline uv_poll_t* StartPolling(Napi::Env env, int fd, void* data, uv_poll_cb onReadable) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_t* poll = new uv_poll_t;
  uv_poll_init_socket(loop, poll, fd);
  poll->data = data;
  uv_poll_start(poll, UV_READABLE, onReadable);
  return poll;
}

// Stops a watch from StartPolling and frees it once libuv lets go of it; nullptr is fine.
inline void StopPolling(uv_poll_t* poll) {
  if (poll == nullptr) return;
  uv_poll_stop(poll);
  uv_close(reinterpret_cast<uv_handle_t*>(poll), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
}

}  // namespace vipcast
