// A UDP receive socket that reports each datagram's IP TTL / IPv6 hop limit, which Node's
// dgram module never shows: single-hop BFD must discard Control packets whose TTL is not 255
// (RFC 5881 section 5). The kernel's IP_MINTTL / IPV6_MINHOPCOUNT are accepted on UDP sockets
// but filter only TCP, so the value is read per datagram with IP_RECVTTL / IPV6_RECVHOPLIMIT
// and the caller decides (and counts) the discard. Receiving is driven by a libuv poll on
// Node's own loop. See docs/adr/0018-bfd-ttl-check.md.
#include "addon_util.h"

#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace {

using vipcast::ParseAddress;
using vipcast::SystemError;

// The sender's address as text; an IPv4 sender on an IPv6 socket comes as ::ffff:a.b.c.d.
std::string AddressText(const struct sockaddr_storage& from) {
  char text[INET6_ADDRSTRLEN] = "";
  if (from.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const struct sockaddr_in*>(&from)->sin_addr, text, sizeof(text));
  } else if (from.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const struct sockaddr_in6*>(&from)->sin6_addr, text, sizeof(text));
  }
  return text;
}

// The TTL (IPv4) or hop limit (IPv6) from a received message's control data, or -1.
int ReceivedTtl(struct msghdr* message) {
  for (struct cmsghdr* c = CMSG_FIRSTHDR(message); c != nullptr; c = CMSG_NXTHDR(message, c)) {
    bool ttl = (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) || (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT);
    if (!ttl || c->cmsg_len < CMSG_LEN(sizeof(int))) continue;
    int value = 0;
    memcpy(&value, CMSG_DATA(c), sizeof(value));
    return value;
  }
  return -1;
}

class UdpReceiver : public Napi::ObjectWrap<UdpReceiver> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "UdpReceiver", {InstanceMethod("close", &UdpReceiver::Close)});
  }

  // new UdpReceiver({ address, port, reuseAddr? }, onMessage(datagram, fromAddress, ttl))
  // Binds at once (throws with errno on failure); ttl is -1 if the kernel gave none.
  explicit UdpReceiver(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpReceiver>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "new UdpReceiver(options, onMessage)").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object opts = info[0].As<Napi::Object>();
    std::string address = opts.Get("address").ToString().Utf8Value();
    int port = opts.Get("port").ToNumber().Int32Value();
    struct sockaddr_storage local;
    socklen_t local_len = ParseAddress(address, port, &local);
    if (local_len == 0 || port < 0 || port > 65535) {
      Napi::TypeError::New(env, "address must be an IP address and port 0..65535").ThrowAsJavaScriptException();
      return;
    }
    fd_ = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      SystemError(env, "socket", errno).ThrowAsJavaScriptException();
      return;
    }
    int on = 1;
    auto fail = [&](const std::string& what) {
      int err = errno;
      CloseFd();
      SystemError(env, what, err).ThrowAsJavaScriptException();
    };
    if (opts.Get("reuseAddr").ToBoolean().Value() && setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0) {
      fail("setsockopt(SO_REUSEADDR)");
      return;
    }
    // An IPv6 socket also receives IPv4 (as mapped addresses) unless V6ONLY, so ask for both.
    if (setsockopt(fd_, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on)) < 0) {
      fail("setsockopt(IP_RECVTTL)");
      return;
    }
    if (local.ss_family == AF_INET6 && setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)) < 0) {
      fail("setsockopt(IPV6_RECVHOPLIMIT)");
      return;
    }
    if (bind(fd_, reinterpret_cast<struct sockaddr*>(&local), local_len) < 0) {
      fail("bind " + address + ":" + std::to_string(port));
      return;
    }
    on_message_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = new Napi::AsyncContext(env, "UdpReceiver");
    poll_ = vipcast::StartPolling(env, fd_, this, &UdpReceiver::OnReadable);
    Ref();  // kept alive while open; released in Close
  }

  ~UdpReceiver() override { CloseFd(); }

 private:
  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    UdpReceiver* self = static_cast<UdpReceiver*>(handle->data);
    if (status < 0 || self->fd_ < 0) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    uint8_t datagram[65536];
    alignas(struct cmsghdr) uint8_t control[CMSG_SPACE(sizeof(int)) * 2];
    // Drain what is queued, a bounded number at a time so one flood cannot starve the loop.
    for (int i = 0; i < 256 && self->fd_ >= 0; i++) {
      struct sockaddr_storage from;
      struct iovec vector = {datagram, sizeof(datagram)};
      struct msghdr message;
      memset(&message, 0, sizeof(message));
      message.msg_name = &from;
      message.msg_namelen = sizeof(from);
      message.msg_iov = &vector;
      message.msg_iovlen = 1;
      message.msg_control = control;
      message.msg_controllen = sizeof(control);
      ssize_t n = recvmsg(self->fd_, &message, MSG_DONTWAIT);
      if (n < 0) break;
      Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::Copy(env, datagram, static_cast<size_t>(n));
      Napi::String sender = Napi::String::New(env, AddressText(from));
      self->on_message_.MakeCallback(self->Value(), {buffer, sender, Napi::Number::New(env, ReceivedTtl(&message))}, *self->context_);
    }
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (fd_ >= 0) {
      CloseFd();
      Unref();
    }
    return info.Env().Undefined();
  }

  void CloseFd() {
    vipcast::StopPolling(poll_);
    poll_ = nullptr;
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
    delete context_;
    context_ = nullptr;
  }

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  Napi::AsyncContext* context_ = nullptr;
  Napi::FunctionReference on_message_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("UdpReceiver", UdpReceiver::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(udp_ttl, Init)
