# Local stand-in for the official node:24-bookworm (the Dockerfile's build stage), built by
# scripts/base-images where no container registry is reachable: the slim stand-in plus what
# the official image's buildpack-deps base gives node-gyp (g++, make, python3).
FROM node:24-bookworm-slim
LABEL io.vipcast.stand-in=node:24-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
# npm's HTTPS is re-signed by a proxy the host trusts, so containers get the host's CA bundle.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
# node-gyp builds against the headers in /usr/local/include/node instead of downloading them.
# node-gyp reads this variable as --nodedir; npm_config_nodedir would work too, but npm 11
# warns about it on every command ("Unknown env config").
ENV npm_package_config_node_gyp_nodedir=/usr/local
