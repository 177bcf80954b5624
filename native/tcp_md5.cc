// Outbound TCP for a BGP session that Node's net module cannot open itself: a socket with an
// RFC 2385 TCP MD5 signature key for the peer (TCP_MD5SIG), optionally bound to a source
// address and with a chosen IP TTL / IPv6 hop limit (eBGP multihop, RFC 4271 has TTL 1 for
// direct peers by convention). The connect is non-blocking; a libuv poll reports when it has
// finished, and the caller then adopts the descriptor with `new net.Socket({ fd })`.
// See docs/adr/0009-tcp-md5.md.
#include "addon_util.h"

#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

namespace {

using vipcast::ParseAddress;
using vipcast::SystemError;

// One connect in progress. Shared by the poll handle and the JS cancel function.
struct Attempt {
  int fd = -1;
  uv_poll_t* poll = nullptr;
  bool finished = false;
  Napi::FunctionReference callback;
  std::unique_ptr<Napi::AsyncContext> context;
  std::shared_ptr<Attempt> self;  // keeps the attempt alive until the poll handle is closed
};

void ClosePoll(Attempt* attempt) {
  if (attempt->poll == nullptr) return;
  uv_poll_stop(attempt->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(attempt->poll), [](uv_handle_t* h) {
    auto* a = static_cast<Attempt*>(h->data);
    delete reinterpret_cast<uv_poll_t*>(h);
    a->poll = nullptr;
    // Report only once the poll handle is gone, so the descriptor has no other libuv owner
    // when JavaScript adopts it.
    if (!a->callback.IsEmpty()) {
      Napi::Env env = a->callback.Env();
      Napi::HandleScope scope(env);
      int err = a->fd < 0 ? ECANCELED : 0;
      int so_error = 0;
      socklen_t len = sizeof(so_error);
      if (err == 0 && getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0) so_error = errno;
      Napi::Value arg = so_error == 0 && err == 0 ? env.Null() : SystemError(env, "connect", so_error != 0 ? so_error : err).Value();
      if (so_error != 0) {
        close(a->fd);
        a->fd = -1;
      }
      Napi::FunctionReference cb = std::move(a->callback);
      cb.MakeCallback(env.Global(), {arg, Napi::Number::New(env, a->fd)}, *a->context);
    }
    a->self.reset();
  });
}

void OnWritable(uv_poll_t* handle, int /*status*/, int /*events*/) {
  auto* attempt = static_cast<Attempt*>(handle->data);
  if (attempt->finished) return;
  attempt->finished = true;
  ClosePoll(attempt);
}

// connect({ peer, port, password?, localAddress?, ttl? }, callback(error | null, fd)) -> cancel()
// Starts a non-blocking TCP connect with the options set before the SYN; callback runs once.
Napi::Value Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "connect(options, callback)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object opts = info[0].As<Napi::Object>();
  std::string peer = opts.Get("peer").ToString().Utf8Value();
  int port = opts.Get("port").ToNumber().Int32Value();
  struct sockaddr_storage peer_addr;
  socklen_t peer_len = ParseAddress(peer, port, &peer_addr);
  if (peer_len == 0 || port < 1 || port > 65535) {
    Napi::TypeError::New(env, "peer must be an IP address and port 1..65535").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int family = peer_addr.ss_family;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    SystemError(env, "socket", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto fail = [&](const std::string& what, int err) {
    close(fd);
    SystemError(env, what, err).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  Napi::Value password = opts.Get("password");
  if (password.IsString()) {
    std::string key = password.As<Napi::String>().Utf8Value();
    if (key.size() > TCP_MD5SIG_MAXKEYLEN) return fail("TCP MD5 password longer than 80 octets", EINVAL);
    struct tcp_md5sig sig;
    memset(&sig, 0, sizeof(sig));
    memcpy(&sig.tcpm_addr, &peer_addr, peer_len);
    sig.tcpm_keylen = static_cast<uint16_t>(key.size());
    memcpy(sig.tcpm_key, key.data(), key.size());
    if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) < 0) return fail("setsockopt(TCP_MD5SIG)", errno);
  }
  Napi::Value ttl = opts.Get("ttl");
  if (ttl.IsNumber()) {
    int value = ttl.As<Napi::Number>().Int32Value();
    int rc = family == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_TTL, &value, sizeof(value))
                               : setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &value, sizeof(value));
    if (rc < 0) return fail("setsockopt(TTL)", errno);
  }
  Napi::Value local = opts.Get("localAddress");
  if (local.IsString()) {
    struct sockaddr_storage local_addr;
    socklen_t local_len = ParseAddress(local.As<Napi::String>().Utf8Value(), 0, &local_addr);
    if (local_len == 0 || local_addr.ss_family != family) return fail("localAddress is not an address of the peer's family", EINVAL);
    if (bind(fd, reinterpret_cast<struct sockaddr*>(&local_addr), local_len) < 0) return fail("bind", errno);
  }
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&peer_addr), peer_len) < 0 && errno != EINPROGRESS) return fail("connect", errno);

  auto attempt = std::make_shared<Attempt>();
  attempt->fd = fd;
  attempt->self = attempt;
  attempt->callback = Napi::Persistent(info[1].As<Napi::Function>());
  attempt->context = std::make_unique<Napi::AsyncContext>(env, "TcpMd5Connect");
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  attempt->poll = new uv_poll_t;
  uv_poll_init_socket(loop, attempt->poll, fd);
  attempt->poll->data = attempt.get();
  uv_poll_start(attempt->poll, UV_WRITABLE, OnWritable);

  std::weak_ptr<Attempt> weak = attempt;
  return Napi::Function::New(env, [weak](const Napi::CallbackInfo& ci) -> Napi::Value {
    auto a = weak.lock();
    if (!a || a->finished) return ci.Env().Undefined();
    // Cancelled before the connect finished: close the descriptor, report ECANCELED.
    a->finished = true;
    uv_poll_stop(a->poll);
    close(a->fd);
    a->fd = -1;
    ClosePoll(a.get());
    return ci.Env().Undefined();
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("connect", Napi::Function::New(env, Connect));
  return exports;
}

}  // namespace

NODE_API_MODULE(tcp_md5, Init)
