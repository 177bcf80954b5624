# vipcast image: one program (`vipcast <command>`) for the controller, the speaker and the
# control-plane VIP. Two stages: the first has the compilers, the second only the runtime.

# --- build: compile TypeScript and the native addons (N-API; node-gyp needs g++, make,
# python3, which the full node image already carries).
FROM node:24-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: nothing runs before the sources are here; the addons are built below.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY speakers ./speakers
COPY native ./native
# tsconfig.json compiles lab/ (the testbed), bench/ and test/ too; they are not copied to
# the final image, where "vipcast lab" says it needs a source checkout.
COPY lab ./lab
COPY bench ./bench
COPY test ./test
RUN npx node-gyp rebuild --directory native \
 && test -f native/build/Release/packet_socket.node \
 && test -f native/build/Release/netlink.node \
 && test -f native/build/Release/tcp_md5.node \
 && test -f native/build/Release/udp_ttl.node \
 && npx tsc -p tsconfig.json \
 && npm prune --omit=dev --ignore-scripts

# --- final: the slim Node runtime, production dependencies, compiled code and addons.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/speakers ./dist/speakers
COPY --from=build /src/native/build/Release/packet_socket.node /src/native/build/Release/netlink.node /src/native/build/Release/tcp_md5.node /src/native/build/Release/udp_ttl.node ./native/build/Release/
# An unprivileged user by default; the speaker's DaemonSet runs as UID 0 with only
# NET_RAW and NET_ADMIN (see manifests/vipcast.yaml). The controller needs no file writes,
# so the root filesystem can be read-only.
USER 65532:65532
# A small young generation keeps the controller's RSS down (docs/controller.md: ~20 MB
# less at a few percent more GC time); bench/controller.ts measures with the same flag.
ENTRYPOINT ["node", "--max-semi-space-size=2", "/app/bin/vipcast.js"]
CMD ["--help"]
