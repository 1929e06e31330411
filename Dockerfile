# syntax=docker/dockerfile:1
# cutover container image.
#
#   docker build -t cutover .
#   docker run --rm -p 8080:8080 -p 9901:9901 \
#     -v "$PWD/my-cutover.yaml:/etc/cutover/cutover.yaml:ro" \
#     -v cutover-state:/var/lib/cutover \
#     -e CUTOVER_ADMIN_TOKEN="$(openssl rand -hex 32)" cutover
#
# The image ships no config at /etc/cutover: a usable one names your real upstreams, so it is
# always mounted (a ConfigMap in k8s/). In a container both listeners must bind 0.0.0.0, and a
# non-loopback admin listener needs the token (CUTOVER_ADMIN_TOKEN or admin.tokenFile).
#
# Node 22 and 24 are the maintained LTS lines (20 is end-of-life; the code still runs on it
# because CI does). Pin the base by digest (node:24-bookworm-slim@sha256:...) in your registry
# mirror for reproducible builds.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: all dependencies, TypeScript compiled to dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (tsc) needs src/, which is copied after this layer so that a
# source change does not reinstall every dependency. No dependency has an install script.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies, dist/ and config/ only ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    CUTOVER_CONFIG=/etc/cutover/cutover.yaml
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc, which is a dev dependency and is not installed.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts
COPY --from=build /app/dist ./dist
# The example configs and the JSON Schema, for `cutover validate` and editors; not read at start.
COPY config ./config
# The dashboard's page (GET /dashboard); uPlot comes with the production dependencies.
COPY dashboard ./dashboard
# The state directory must belong to the runtime user before VOLUME: a new volume is seeded
# with the image's ownership, so cutover can write its state file there.
RUN mkdir -p /etc/cutover /var/lib/cutover && chown node:node /var/lib/cutover
VOLUME ["/var/lib/cutover"]

# The application files stay root-owned (read-only to cutover). 1000 is the image's `node`
# user; numeric so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 1000:1000

# 8080: the proxy (listen.port); 9901: admin API, /healthz, /readyz, /metrics (admin.port).
EXPOSE 8080 9901

# Node's own fetch, because the slim image has no curl. Kubernetes ignores HEALTHCHECK and uses
# the probes in k8s/; this serves `docker run` and compose.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9901/healthz', { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Node runs as PID 1: cutover handles SIGTERM and SIGINT itself (graceful drain) and starts no
# child processes, so no init is needed to forward signals or reap zombies.
CMD ["node", "dist/cli.js", "start"]
