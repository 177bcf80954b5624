// Interface addresses and route lookups through rtnetlink (NETLINK_ROUTE), for Node: add and
// delete one address (RTM_NEWADDR / RTM_DELADDR, with flags and lifetimes), list addresses
// (RTM_GETADDR dump) and links (RTM_GETLINK dump), and ask which interface the kernel would
// route an address through (RTM_GETROUTE). Each call opens a socket, sends one request, reads
// the kernel's answer and closes it: the kernel answers at once, so nothing blocks. Adding and
// deleting need CAP_NET_ADMIN. LinkWatch is the one long-lived socket: it joins the kernel's
// link, address, route and rule groups and tells JavaScript when any of them changed.
// See docs/adr/0011-netlink-address-management.md.
#include "addon_util.h"

#include <napi.h>

#include <errno.h>
// net/if.h before linux/if.h: the kernel header then leaves out what libc already defines.
#include <net/if.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

using vipcast::SystemError;

constexpr size_t kBufferSize = 64 * 1024;

// A request being built: the netlink header, a fixed family header, then attributes.
class Request {
 public:
  Request(uint16_t type, uint16_t flags) : bytes_(NLMSG_HDRLEN, 0) {
    Header()->nlmsg_type = type;
    Header()->nlmsg_flags = flags;
  }

  template <typename T>
  T* AppendFixed() {
    size_t at = bytes_.size();
    bytes_.resize(at + NLMSG_ALIGN(sizeof(T)), 0);
    Header()->nlmsg_len = static_cast<uint32_t>(bytes_.size());
    return reinterpret_cast<T*>(bytes_.data() + at);
  }

  void Attribute(uint16_t type, const void* data, size_t length) {
    size_t at = bytes_.size();
    bytes_.resize(at + RTA_ALIGN(RTA_LENGTH(length)), 0);
    struct rtattr* attr = reinterpret_cast<struct rtattr*>(bytes_.data() + at);
    attr->rta_type = type;
    attr->rta_len = static_cast<unsigned short>(RTA_LENGTH(length));
    memcpy(RTA_DATA(attr), data, length);
    Header()->nlmsg_len = static_cast<uint32_t>(bytes_.size());
  }

  struct nlmsghdr* Header() { return reinterpret_cast<struct nlmsghdr*>(bytes_.data()); }
  const std::vector<uint8_t>& Bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// One netlink socket for one exchange; closed by the destructor.
class Socket {
 public:
  Socket() {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd_ < 0) return;
    // The kernel answers immediately; a timeout only guards against a kernel bug hanging Node.
    struct timeval timeout = {1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Sends the request and calls onMessage for every answer message until the ack (or the end of
// a dump). Returns 0, or the positive errno the kernel (or the socket) reported.
template <typename OnMessage>
int Exchange(Request& request, OnMessage onMessage) {
  Socket sock;
  if (sock.fd() < 0) return errno;
  static uint32_t sequence = 1;
  uint32_t seq = sequence++;
  request.Header()->nlmsg_seq = seq;
  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof(kernel));
  kernel.nl_family = AF_NETLINK;
  const std::vector<uint8_t>& bytes = request.Bytes();
  if (sendto(sock.fd(), bytes.data(), bytes.size(), 0, reinterpret_cast<struct sockaddr*>(&kernel), sizeof(kernel)) < 0) return errno;
  std::vector<uint8_t> buffer(kBufferSize);
  for (;;) {
    ssize_t n = recv(sock.fd(), buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    int remaining = static_cast<int>(n);
    for (struct nlmsghdr* h = reinterpret_cast<struct nlmsghdr*>(buffer.data()); NLMSG_OK(h, remaining); h = NLMSG_NEXT(h, remaining)) {
      if (h->nlmsg_seq != seq) continue;  // not ours (cannot happen on a private socket)
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr* err = static_cast<const struct nlmsgerr*>(NLMSG_DATA(h));
        return -err->error;  // 0 is the ack
      }
      onMessage(h);
    }
  }
}

struct AddressArgs {
  int ifindex = 0;
  int family = 0;
  std::vector<uint8_t> address;
  int prefixLength = 0;
};

bool ReadAddressArgs(const Napi::CallbackInfo& info, AddressArgs& out, const char* usage) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsBuffer() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return false;
  }
  out.ifindex = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<uint8_t> address = info[1].As<Napi::Buffer<uint8_t>>();
  out.address.assign(address.Data(), address.Data() + address.Length());
  out.prefixLength = info[2].As<Napi::Number>().Int32Value();
  if (out.address.size() == 4) {
    out.family = AF_INET;
  } else if (out.address.size() == 16) {
    out.family = AF_INET6;
  } else {
    Napi::TypeError::New(env, "the address must be a 4- or 16-byte Buffer").ThrowAsJavaScriptException();
    return false;
  }
  if (out.prefixLength < 0 || out.prefixLength > static_cast<int>(out.address.size() * 8)) {
    Napi::RangeError::New(env, "prefix length out of range").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

void FillAddressRequest(Request& request, const AddressArgs& args, uint32_t flags) {
  struct ifaddrmsg* ifa = request.AppendFixed<struct ifaddrmsg>();
  ifa->ifa_family = static_cast<uint8_t>(args.family);
  ifa->ifa_prefixlen = static_cast<uint8_t>(args.prefixLength);
  ifa->ifa_flags = static_cast<uint8_t>(flags & 0xff);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<uint32_t>(args.ifindex);
  // IPv4 wants IFA_LOCAL (the interface's own address); IFA_ADDRESS is the peer, equal here.
  if (args.family == AF_INET) request.Attribute(IFA_LOCAL, args.address.data(), args.address.size());
  request.Attribute(IFA_ADDRESS, args.address.data(), args.address.size());
}

// addAddress(ifindex, address: Buffer(4|16), prefixLength, flags, validSeconds, replace)
// flags: IFA_F_* (e.g. IFA_F_NODAD); validSeconds 0 means forever. replace: update an
// existing address (its lifetime) instead of failing with EEXIST.
Napi::Value AddAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddressArgs args;
  if (!ReadAddressArgs(info, args, "addAddress(ifindex, address, prefixLength, flags, validSeconds, replace)")) return env.Undefined();
  uint32_t flags = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Uint32Value() : 0;
  uint32_t valid = info.Length() > 4 && info[4].IsNumber() ? info[4].As<Napi::Number>().Uint32Value() : 0;
  bool replace = info.Length() > 5 && info[5].ToBoolean().Value();
  uint16_t nlflags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL);
  Request request(RTM_NEWADDR, nlflags);
  FillAddressRequest(request, args, flags);
  request.Attribute(IFA_FLAGS, &flags, sizeof(flags));
  if (valid > 0) {
    struct ifa_cacheinfo lifetime;
    memset(&lifetime, 0, sizeof(lifetime));
    lifetime.ifa_valid = valid;
    lifetime.ifa_prefered = valid;
    request.Attribute(IFA_CACHEINFO, &lifetime, sizeof(lifetime));
  }
  int err = Exchange(request, [](const struct nlmsghdr*) {});
  if (err != 0) SystemError(env, "RTM_NEWADDR", err).ThrowAsJavaScriptException();
  return env.Undefined();
}

// deleteAddress(ifindex, address, prefixLength) -> whether an address was removed.
Napi::Value DeleteAddress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddressArgs args;
  if (!ReadAddressArgs(info, args, "deleteAddress(ifindex, address, prefixLength)")) return env.Undefined();
  Request request(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK);
  FillAddressRequest(request, args, 0);
  int err = Exchange(request, [](const struct nlmsghdr*) {});
  if (err == EADDRNOTAVAIL || err == ENOENT || err == ENODEV) return Napi::Boolean::New(env, false);
  if (err != 0) {
    SystemError(env, "RTM_DELADDR", err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Boolean::New(env, true);
}

// listAddresses() -> [{ index, family: 4|6, address: Buffer, prefixLength, flags, validSeconds }]
// validSeconds is 0xffffffff for a permanent address.
Napi::Value ListAddresses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Request request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
  struct ifaddrmsg* ifa = request.AppendFixed<struct ifaddrmsg>();
  ifa->ifa_family = AF_UNSPEC;
  Napi::Array out = Napi::Array::New(env);
  uint32_t count = 0;
  int err = Exchange(request, [&](const struct nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWADDR) return;
    const struct ifaddrmsg* msg = static_cast<const struct ifaddrmsg*>(NLMSG_DATA(h));
    if (msg->ifa_family != AF_INET && msg->ifa_family != AF_INET6) return;
    const uint8_t* local = nullptr;
    const uint8_t* address = nullptr;
    uint32_t flags = msg->ifa_flags;
    uint32_t valid = 0xffffffffu;
    int length = static_cast<int>(IFA_PAYLOAD(h));
    for (const struct rtattr* a = IFA_RTA(msg); RTA_OK(a, length); a = RTA_NEXT(a, length)) {
      if (a->rta_type == IFA_LOCAL) local = static_cast<const uint8_t*>(RTA_DATA(a));
      if (a->rta_type == IFA_ADDRESS) address = static_cast<const uint8_t*>(RTA_DATA(a));
      if (a->rta_type == IFA_FLAGS && RTA_PAYLOAD(a) >= sizeof(uint32_t)) memcpy(&flags, RTA_DATA(a), sizeof(uint32_t));
      if (a->rta_type == IFA_CACHEINFO && RTA_PAYLOAD(a) >= sizeof(struct ifa_cacheinfo)) {
        valid = static_cast<const struct ifa_cacheinfo*>(RTA_DATA(a))->ifa_valid;
      }
    }
    const uint8_t* chosen = local != nullptr ? local : address;
    if (chosen == nullptr) return;
    size_t size = msg->ifa_family == AF_INET ? 4 : 16;
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("index", Napi::Number::New(env, msg->ifa_index));
    entry.Set("family", Napi::Number::New(env, msg->ifa_family == AF_INET ? 4 : 6));
    entry.Set("address", Napi::Buffer<uint8_t>::Copy(env, chosen, size));
    entry.Set("prefixLength", Napi::Number::New(env, msg->ifa_prefixlen));
    entry.Set("flags", Napi::Number::New(env, flags));
    entry.Set("validSeconds", Napi::Number::New(env, valid));
    out.Set(count++, entry);
  });
  if (err != 0) {
    SystemError(env, "RTM_GETADDR", err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return out;
}

// routeTo(address: Buffer(4|16)) -> { index, type } : the output interface and route type
// (RTN_UNICAST 1, RTN_LOCAL 2, ...) the kernel picks for the address.
Napi::Value RouteTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "routeTo(address: Buffer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<uint8_t> address = info[0].As<Napi::Buffer<uint8_t>>();
  if (address.Length() != 4 && address.Length() != 16) {
    Napi::TypeError::New(env, "the address must be a 4- or 16-byte Buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Request request(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_ACK);
  struct rtmsg* rt = request.AppendFixed<struct rtmsg>();
  rt->rtm_family = address.Length() == 4 ? AF_INET : AF_INET6;
  rt->rtm_dst_len = static_cast<unsigned char>(address.Length() * 8);
  request.Attribute(RTA_DST, address.Data(), address.Length());
  int index = 0;
  int type = 0;
  bool answered = false;
  int err = Exchange(request, [&](const struct nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWROUTE) return;
    const struct rtmsg* msg = static_cast<const struct rtmsg*>(NLMSG_DATA(h));
    type = msg->rtm_type;
    int length = static_cast<int>(RTM_PAYLOAD(h));
    for (const struct rtattr* a = RTM_RTA(msg); RTA_OK(a, length); a = RTA_NEXT(a, length)) {
      if (a->rta_type == RTA_OIF) memcpy(&index, RTA_DATA(a), sizeof(int));
    }
    answered = true;
  });
  if (err != 0) {
    SystemError(env, "RTM_GETROUTE", err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!answered) {
    Napi::Error::New(env, "RTM_GETROUTE: no route in the kernel's answer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("index", Napi::Number::New(env, index));
  out.Set("type", Napi::Number::New(env, type));
  return out;
}

// listLinks() -> [{ index, name, flags, operstate }]: every interface, with its IFF_* flags and
// its RFC 2863 operational state (IF_OPER_*: 6 up, 2 down, 5 dormant, 7 lower layer down, 0 unknown).
Napi::Value ListLinks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Request request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
  struct ifinfomsg* ifi = request.AppendFixed<struct ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  Napi::Array out = Napi::Array::New(env);
  uint32_t count = 0;
  int err = Exchange(request, [&](const struct nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWLINK) return;
    const struct ifinfomsg* msg = static_cast<const struct ifinfomsg*>(NLMSG_DATA(h));
    std::string name;
    int operstate = IF_OPER_UNKNOWN;
    int length = static_cast<int>(IFLA_PAYLOAD(h));
    for (const struct rtattr* a = IFLA_RTA(msg); RTA_OK(a, length); a = RTA_NEXT(a, length)) {
      if (a->rta_type == IFLA_IFNAME) name.assign(static_cast<const char*>(RTA_DATA(a)), strnlen(static_cast<const char*>(RTA_DATA(a)), RTA_PAYLOAD(a)));
      if (a->rta_type == IFLA_OPERSTATE && RTA_PAYLOAD(a) >= 1) operstate = *static_cast<const uint8_t*>(RTA_DATA(a));
    }
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("index", Napi::Number::New(env, msg->ifi_index));
    entry.Set("name", Napi::String::New(env, name));
    entry.Set("flags", Napi::Number::New(env, msg->ifi_flags));
    entry.Set("operstate", Napi::Number::New(env, operstate));
    out.Set(count++, entry);
  });
  if (err != 0) {
    SystemError(env, "RTM_GETLINK", err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return out;
}

// new LinkWatch(onChange(messages, overflowed)): a socket in the rtnetlink multicast groups of
// links, addresses, routes and rules (IPv4 and IPv6). Whenever the kernel reports changes it
// reads all that is queued and calls onChange once with how many messages came, and whether
// the socket overflowed (ENOBUFS: changes were lost, so the caller must look afresh anyway).
class LinkWatch : public Napi::ObjectWrap<LinkWatch> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "LinkWatch", {InstanceMethod("close", &LinkWatch::Close)});
  }

  explicit LinkWatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LinkWatch>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) {
      Napi::TypeError::New(env, "new LinkWatch(onChange)").ThrowAsJavaScriptException();
      return;
    }
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd_ < 0) {
      SystemError(env, "socket(AF_NETLINK)", errno).ThrowAsJavaScriptException();
      return;
    }
    struct sockaddr_nl local;
    memset(&local, 0, sizeof(local));
    local.nl_family = AF_NETLINK;
    if (bind(fd_, reinterpret_cast<struct sockaddr*>(&local), sizeof(local)) < 0) {
      Fail(env, "bind(AF_NETLINK)");
      return;
    }
    const int groups[] = {RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
                          RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE};
    for (int group : groups) {
      if (setsockopt(fd_, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
        Fail(env, "setsockopt(NETLINK_ADD_MEMBERSHIP " + std::to_string(group) + ")");
        return;
      }
    }
    int size = 1 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));  // best effort: overflow is reported anyway
    on_change_ = Napi::Persistent(info[0].As<Napi::Function>());
    context_ = new Napi::AsyncContext(env, "LinkWatch");
    poll_ = vipcast::StartPolling(env, fd_, this, &LinkWatch::OnReadable);
    Ref();  // kept alive while open; released in Close
  }

  ~LinkWatch() override { CloseFd(); }

 private:
  void Fail(Napi::Env env, const std::string& what) {
    int err = errno;
    CloseFd();
    SystemError(env, what, err).ThrowAsJavaScriptException();
  }

  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    LinkWatch* self = static_cast<LinkWatch*>(handle->data);
    if (status < 0 || self->fd_ < 0) return;
    std::vector<uint8_t> buffer(kBufferSize);
    uint32_t messages = 0;
    bool overflowed = false;
    // Bounded, so a storm of changes cannot starve the loop; what is left wakes us again.
    for (int i = 0; i < 1024; i++) {
      ssize_t n = recv(self->fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {
          overflowed = true;
          continue;
        }
        break;
      }
      int remaining = static_cast<int>(n);
      for (struct nlmsghdr* h = reinterpret_cast<struct nlmsghdr*>(buffer.data()); NLMSG_OK(h, remaining); h = NLMSG_NEXT(h, remaining)) messages++;
    }
    if (messages == 0 && !overflowed) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    self->on_change_.MakeCallback(self->Value(), {Napi::Number::New(env, messages), Napi::Boolean::New(env, overflowed)}, *self->context_);
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
  Napi::FunctionReference on_change_;
};

// interfaceIndex(name) -> index (0 when there is no such interface).
Napi::Value InterfaceIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "interfaceIndex(name: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, if_nametoindex(info[0].As<Napi::String>().Utf8Value().c_str()));
}

// interfaceName(index) -> name, or undefined when there is no such interface.
Napi::Value InterfaceName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "interfaceName(index: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  char name[IF_NAMESIZE] = {0};
  if (if_indextoname(info[0].As<Napi::Number>().Uint32Value(), name) == nullptr) return env.Undefined();
  return Napi::String::New(env, name);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("addAddress", Napi::Function::New(env, AddAddress));
  exports.Set("deleteAddress", Napi::Function::New(env, DeleteAddress));
  exports.Set("listAddresses", Napi::Function::New(env, ListAddresses));
  exports.Set("routeTo", Napi::Function::New(env, RouteTo));
  exports.Set("interfaceIndex", Napi::Function::New(env, InterfaceIndex));
  exports.Set("interfaceName", Napi::Function::New(env, InterfaceName));
  exports.Set("listLinks", Napi::Function::New(env, ListLinks));
  exports.Set("LinkWatch", LinkWatch::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(netlink, Init)
