# customer-segments: the `segments` CLI, run as a Temporal worker by default.
#
#   docker build -t customer-segments .
#   docker run --rm --init -e TEMPORAL_ADDRESS=temporal.example:7233 -v segments-data:/data customer-segments
#
# Stages: `build` compiles the TypeScript (devDependencies: typescript, @types/*) and bundles the workflow
# code once (worker/bundle.ts); `prod-deps` installs the production dependencies only; the runtime image
# gets those, the compiled code, the bundle and data/, and runs as the unprivileged `node` user.
# @duckdb/node-api and @temporalio/core-bridge ship prebuilt native binaries for linux x64 and arm64
# (glibc), which is why the base image is Debian (bookworm) rather than Alpine.
#
# Node 20 is what package.json targets; it left upstream support in April 2026 — build with
# `--build-arg NODE_VERSION=22` once the test suite has passed on 22.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Type-checks and compiles (a type error fails the image build), then writes dist/workflow-bundle.js.
RUN npm run build \
 && node dist/worker/bundle.js dist/workflow-bundle.js

FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# The image has no .git: the commit recorded in each model's lineage.json comes from this build argument
# (docker build --build-arg GIT_COMMIT=$(git rev-parse HEAD) .); empty means "unknown".
ARG GIT_COMMIT=
# MALLOC_ARENA_MAX: glibc gives each thread that allocates (DuckDB's, the worker threads') an arena of its own
# and keeps what they freed; a long-lived worker then carried one run's DuckDB memory into the next (VmHWM of the
# 2nd run in one process at 300k rows: 0.99 GiB, 0.74 GiB with 2 arenas; the 1st run 0.62 / 0.60 GiB).
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    MALLOC_ARENA_MAX=2 \
    SEGMENTS_GIT_COMMIT=${GIT_COMMIT}
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY data ./data
# /data: inputs, outputs and the checkpoint store (mount a volume there). /app/.tmp: where DuckDB spills
# when a step outgrows its memory limit (its default temp directory is .tmp under the working directory).
# The code itself stays root-owned and read-only for the worker.
RUN mkdir -p /data /app/.tmp \
 && chown node:node /data /app/.tmp
USER node
ENTRYPOINT ["node", "bin/segments.js"]
CMD ["worker"]
