# Local stand-in for the official node:24-bookworm-slim, built by scripts/base-images where
# no container registry is reachable. The build context holds usr/local/ as the official
# image lays it out: bin/node and include/node from the npm registry's node-linux-<arch>
# package, lib/node_modules/npm from the npm package.
FROM debian:bookworm-slim
ARG NODE_VERSION
ARG NPM_VERSION
LABEL io.vipcast.stand-in=node:24-bookworm-slim io.vipcast.node-version=$NODE_VERSION io.vipcast.npm-version=$NPM_VERSION
ENV NODE_VERSION=$NODE_VERSION
COPY usr/local/ /usr/local/
# The official image's `node` user (UID and GID 1000), and npm/npx where it puts them.
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && test "$(node --version)" = "v$NODE_VERSION" \
 && test "$(npm --version)" = "$NPM_VERSION" \
 && npx --version >/dev/null
CMD ["node"]
