// A Linux AF_PACKET socket for Node: send and receive whole Ethernet frames of one
// EtherType on one interface. Needs CAP_NET_RAW only. Never sets promiscuous mode; it
// joins link-layer multicast groups on request (PACKET_ADD_MEMBERSHIP) so that frames to
// solicited-node addresses reach it. Receiving is driven by a libuv poll on the socket,
// so no thread is parked waiting. See docs/adr/0006-layer2-packet-io.md.
#include "addon_util.h"

#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using vipcast::SystemError;

// interfaceInfo(name) -> { index, mac: Buffer(6), up: boolean }
Napi::Value InterfaceInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "interfaceInfo(name: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name.size() >= IFNAMSIZ) {
    Napi::Error::New(env, "interface name too long: " + name).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    SystemError(env, "socket", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct ifreq req;
  memset(&req, 0, sizeof(req));
  strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  Napi::Object out = Napi::Object::New(env);
  if (ioctl(fd, SIOCGIFINDEX, &req) < 0) {
    int err = errno;
    close(fd);
    SystemError(env, ("interface " + name).c_str(), err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  out.Set("index", Napi::Number::New(env, req.ifr_ifindex));
  if (ioctl(fd, SIOCGIFHWADDR, &req) < 0) {
    int err = errno;
    close(fd);
    SystemError(env, "SIOCGIFHWADDR", err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  out.Set("mac", Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(req.ifr_hwaddr.sa_data), 6));
  if (ioctl(fd, SIOCGIFFLAGS, &req) < 0) {
    int err = errno;
    close(fd);
    SystemError(env, "SIOCGIFFLAGS", err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  out.Set("up", Napi::Boolean::New(env, (req.ifr_flags & IFF_UP) && (req.ifr_flags & IFF_RUNNING)));
  close(fd);
  return out;
}

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {InstanceMethod("send", &PacketSocket::Send),
                        InstanceMethod("addMulticast", &PacketSocket::AddMulticast),
                        InstanceMethod("dropMulticast", &PacketSocket::DropMulticast),
                        InstanceMethod("close", &PacketSocket::Close)});
  }

  // new PacketSocket(ifindex, etherType, filter: Buffer | null, onFrame(frame, packetType))
  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[3].IsFunction()) {
      Napi::TypeError::New(env, "new PacketSocket(ifindex, etherType, filter, onFrame)").ThrowAsJavaScriptException();
      return;
    }
    ifindex_ = info[0].As<Napi::Number>().Int32Value();
    uint16_t ether_type = static_cast<uint16_t>(info[1].As<Napi::Number>().Uint32Value());
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ether_type));
    if (fd_ < 0) {
      SystemError(env, "socket(AF_PACKET)", errno).ThrowAsJavaScriptException();
      return;
    }
    if (info[2].IsBuffer()) {
      // A classic BPF program: an array of struct sock_filter (8 bytes each).
      Napi::Buffer<uint8_t> program = info[2].As<Napi::Buffer<uint8_t>>();
      struct sock_fprog prog;
      prog.len = static_cast<unsigned short>(program.Length() / sizeof(struct sock_filter));
      prog.filter = reinterpret_cast<struct sock_filter*>(program.Data());
      if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
        int err = errno;
        CloseFd();
        SystemError(env, "SO_ATTACH_FILTER", err).ThrowAsJavaScriptException();
        return;
      }
    }
    struct sockaddr_ll address;
    memset(&address, 0, sizeof(address));
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ether_type);
    address.sll_ifindex = ifindex_;
    if (bind(fd_, reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) < 0) {
      int err = errno;
      CloseFd();
      SystemError(env, "bind(AF_PACKET)", err).ThrowAsJavaScriptException();
      return;
    }
    on_frame_ = Napi::Persistent(info[3].As<Napi::Function>());
    context_ = new Napi::AsyncContext(env, "PacketSocket");
    poll_ = vipcast::StartPolling(env, fd_, this, &PacketSocket::OnReadable);
    Ref();  // kept alive while open; released in Close
  }

  ~PacketSocket() override { CloseFd(); }

 private:
  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    PacketSocket* self = static_cast<PacketSocket*>(handle->data);
    if (status < 0 || self->fd_ < 0) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    uint8_t frame[65536];
    // Drain what is queued, a bounded number at a time so one flood cannot starve the loop.
    for (int i = 0; i < 256 && self->fd_ >= 0; i++) {
      struct sockaddr_ll from;
      socklen_t from_len = sizeof(from);
      ssize_t n = recvfrom(self->fd_, frame, sizeof(frame), MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&from), &from_len);
      if (n < 0) break;
      if (from.sll_pkttype == PACKET_OUTGOING) continue;  // our own transmissions
      Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::Copy(env, frame, static_cast<size_t>(n));
      self->on_frame_.MakeCallback(self->Value(), {buffer, Napi::Number::New(env, from.sll_pkttype)}, *self->context_);
    }
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) {
      Napi::Error::New(env, "socket is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsBuffer()) {
      Napi::TypeError::New(env, "send(frame: Buffer)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Buffer<uint8_t> frame = info[0].As<Napi::Buffer<uint8_t>>();
    ssize_t n = send(fd_, frame.Data(), frame.Length(), MSG_DONTWAIT);
    if (n < 0) {
      SystemError(env, "send", errno).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Membership(const Napi::CallbackInfo& info, int option) {
    Napi::Env env = info.Env();
    if (fd_ < 0 || info.Length() < 1 || !info[0].IsBuffer() || info[0].As<Napi::Buffer<uint8_t>>().Length() != 6) {
      Napi::TypeError::New(env, "addMulticast/dropMulticast(mac: 6-byte Buffer) on an open socket").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    struct packet_mreq request;
    memset(&request, 0, sizeof(request));
    request.mr_ifindex = ifindex_;
    request.mr_type = PACKET_MR_MULTICAST;
    request.mr_alen = 6;
    memcpy(request.mr_address, info[0].As<Napi::Buffer<uint8_t>>().Data(), 6);
    if (setsockopt(fd_, SOL_PACKET, option, &request, sizeof(request)) < 0) {
      SystemError(env, "PACKET_*_MEMBERSHIP", errno).ThrowAsJavaScriptException();
    }
    return env.Undefined();
  }

  Napi::Value AddMulticast(const Napi::CallbackInfo& info) { return Membership(info, PACKET_ADD_MEMBERSHIP); }
  Napi::Value DropMulticast(const Napi::CallbackInfo& info) { return Membership(info, PACKET_DROP_MEMBERSHIP); }

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
      close(fd_);  // the kernel drops this socket's multicast memberships with it
      fd_ = -1;
    }
    delete context_;
    context_ = nullptr;
  }

  int fd_ = -1;
  int ifindex_ = 0;
  uv_poll_t* poll_ = nullptr;
  Napi::AsyncContext* context_ = nullptr;
  Napi::FunctionReference on_frame_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", PacketSocket::Define(env));
  exports.Set("interfaceInfo", Napi::Function::New(env, InterfaceInfo));
  return exports;
}

}  // namespace

NODE_API_MODULE(packet_socket, Init)
