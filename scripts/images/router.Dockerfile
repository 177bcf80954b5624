# A router for the real-cluster tier's BGP scenarios: Debian's BIRD 2 on the nodes' network,
# peering with every speaker, installing what they announce as ECMP routes in its kernel.
FROM debian:bookworm-slim
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bird2 iproute2 tcpdump \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /run/bird
LABEL io.vipcast.cluster-image=router
CMD ["bird", "-f", "-c", "/etc/bird/bird.conf", "-s", "/run/bird/bird.ctl"]
