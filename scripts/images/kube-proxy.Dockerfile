# kube-proxy's image for the cluster tier: the binary plus the packet-filter tools it runs
# (iptables or nft in their modes, conntrack to flush UDP entries, ipset and ipvsadm for IPVS).
FROM debian:bookworm-slim
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      iptables nftables conntrack ipset ipvsadm kmod \
 && rm -rf /var/lib/apt/lists/*
COPY kube-proxy /usr/local/bin/kube-proxy
LABEL io.vipcast.cluster-image=kube-proxy
