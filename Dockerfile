# The layerwarden agent as a container: `watch` with the engine socket mounted and its state on a volume.
#
#   docker build -t layerwarden .
#   docker run -d --name layerwarden --restart always \
#     -v /var/run/docker.sock:/var/run/docker.sock -v layerwarden:/var/lib/layerwarden layerwarden
#
# docs/deploy.md covers systemd, this image and the Swarm global service (deploy/stack.yml).

# The Node runtime: 20, 22 or 24 (the default is 22, a maintained LTS). Any image with `node` on the
# PATH will do, e.g. a mirror's copy.
ARG NODE_IMAGE=node:22-bookworm-slim
# Where the compiled agent and its production node_modules come from: the `build` stage below (needs
# the npm registry), or an image that already holds them under /app (a host without registry access;
# test/engine/image.test.ts builds this file that way, offline, on a private engine).
ARG APP_FILES=build

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --no-audit --no-fund

FROM ${APP_FILES} AS app-files

FROM ${NODE_IMAGE}
# In a container: state on the volume; serve /healthz for the HEALTHCHECK on the container's own
# loopback (its network namespace, or the host's with host networking: nothing leaves the node).
# The disk gauge and the prune's high-water gate measure the filesystem of the state volume: a named
# or anonymous volume lives under the Docker root, so it is the filesystem the cache fills. Bind the
# state elsewhere and set LAYERWARDEN_DISK_PATH to a path on the Docker root's filesystem.
# MALLOC_ARENA_MAX and the option on ENTRYPOINT: the memory settings the benchmarks measured
# (docs/benchmarks.md; the npm bin's #! line and the systemd unit set the same).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    LAYERWARDEN_STATE_FILE=/var/lib/layerwarden/state.json \
    LAYERWARDEN_DISK_PATH=/var/lib/layerwarden \
    LAYERWARDEN_LISTEN=127.0.0.1:9465
WORKDIR /app
COPY --from=app-files /app/package.json ./package.json
COPY --from=app-files /app/node_modules ./node_modules
COPY --from=app-files /app/dist/src ./dist/src
VOLUME /var/lib/layerwarden
# Runs as root: the engine socket belongs to root:docker and the docker group's id differs from host to
# host. Access to that socket is root on the host either way; `--user 0:<docker gid>` narrows nothing.
# A first probe comes only after --interval on older engines: keep it short enough for a deploy to see.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/dist/src/cli/healthcheck.js"]
# SIGTERM stops it cleanly within 10 s (the default grace of `docker stop` and Swarm).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--max-semi-space-size=1", "--max-old-space-size=96", "/app/dist/src/cli/bin.js"]
CMD ["watch"]
