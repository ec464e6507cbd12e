# Multi-stage build: compile with dev dependencies, ship dist/ with production dependencies only.
# Build with Docker (`docker build -t aopay-graphql .`) or with podman/buildah; these two need `--format docker`,
# because the OCI image format has no HEALTHCHECK and they drop it otherwise (docs/deploying.md "Docker").

# The base image: Node 24 LTS (.nvmrc). Where Docker Hub is not reachable, pass a mirror's copy of the same image
# (`--build-arg NODE_IMAGE=registry.example.com/library/node:24-alpine`); nothing below depends on Alpine. No
# `# syntax=` line: with one, BuildKit pulls that frontend image from Docker Hub before reading this file, whatever
# NODE_IMAGE says; nothing here needs more than the frontend built into Docker.
ARG NODE_IMAGE=node:24-alpine

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm run build`'s compile, called directly: that script (scripts/build-if-stale.js) takes the checkout's build lock
# against a start or `npm run dev` beside it, and nothing else writes dist/ in this stage.
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json
# The self-hosted explorer (GraphiQL at /graphiql, served in development only, e.g. compose.yaml's local run, which
# advertises it); Vite and GraphiQL are dev dependencies, so it is built here. 7 MB in the image. The command is
# scripts/build-if-stale.js's explorer step, called directly: that script skips the explorer when Vite is missing,
# and an image must fail to build rather than ship without it.
COPY explorer ./explorer
RUN node node_modules/vite/bin/vite.js build explorer --logLevel warn

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# Every name here is a setting of src/config.ts; test/unit/container.test.ts checks them against the schema.
# METRICS_HOST=0.0.0.0: inside a container, loopback is the container itself, so a Prometheus outside it could not
# scrape. The metrics port reaches the container network (pod, compose network), never the public API port; publish
# it no further than your scraper, and set METRICS_TOKEN where that network is shared with workloads you do not trust.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9464
WORKDIR /app
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/explorer/dist ./explorer/dist
COPY --chown=node:node package.json ./
# Support's `node scripts/customer-ref.js` (docs/operations.md "Finding a customer's requests"): run where HMAC_SECRET
# is, in this container; it needs only dist/, the production dependencies and scripts/cli.js (its flags, Node's own
# util.parseArgs).
COPY --chown=node:node scripts/customer-ref.js scripts/cli.js ./scripts/
# The image's unprivileged user; the app needs no write access anywhere.
USER node
# 4000: GraphQL, /healthz, /readyz. 9464: Prometheus /metrics (its own listener).
EXPOSE 4000 9464
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
# node runs as PID 1 and handles SIGTERM itself (src/index.ts drains, then exits 0).
# --max-semi-space-size=32: V8's young generation at most 2 x 32 MB instead of the 2 x 64 MB Node 24 grows to on a
# machine with a large heap limit. 64 MB: peak RSS at saturation 305 MB; 16 MB: 219 MB, but with 400 overload clients
# refused at 54,000/s a scavenge every 25 ms promoted 0.3-0.6 MB, mostly refused requests' IncomingMessage and
# ServerResponse, and peak RSS was 250-307 MB over 6 runs; 32 MB: 225-241 MB there, saturation CPU per request level
# (docs/performance-runs.md, "The young generation's size").
# --heap-growing-percent=50: after each major GC, V8 lets the old generation grow to 1.5x what survived it (plus the
# young generation's capacity) instead of its own factor, up to 4x on a machine with a large heap limit (V8's
# src/heap/heap-controller.cc, GrowingFactor and BoundAllocationLimit). Served requests live about a second under
# overload and are promoted: in a sustained overload (40 s) peak RSS was 362-364 MB at 400 clients and 391-392 MB at
# 1,500 with V8's factor, 239-245 and 260-268 MB with this (docs/performance-runs.md, "Sustained overload", with what it
# costs at saturation).
# --no-allocation-site-pretenuring: V8 allocates the objects of a site straight into the old generation once most of
# them survived scavenges. After a burst at saturation (the bench's warm-up, or any peak), where requests in flight
# survive, request-path sites stayed pretenured at a moderate load: the old generation grew about 1.6 kB per CIBIL
# request and a mark-compact came every few seconds (GC 38 µs per request at 600 req/s, 21 µs without pretenuring;
# docs/performance-runs.md, "Pretenuring after a burst"). The same flags as `npm start` (test/unit/container.test.ts);
# cluster workers inherit them (cluster.fork passes process.execArgv).
CMD ["node", "--max-semi-space-size=32", "--heap-growing-percent=50", "--no-allocation-site-pretenuring", \
     "dist/index.js"]
