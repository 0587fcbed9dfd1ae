# syntax=docker/dockerfile:1
#
# One image for both halves of Warren (see docs/kubernetes.md):
#   hub:     docker run -p 7420:7420 IMAGE                      (the default command below)
#   runner:  docker run -e WARREN_HUB_URL=... -e WARREN_ENROLLMENT_TOKEN=... IMAGE runner start
#
# Warren runs its TypeScript sources directly through tsx (a runtime dependency), so there is no build
# step: the image is the production dependencies, bin/ and src/.

ARG NODE_VERSION=20

# --- deps: production node_modules, with the toolchain that builds better-sqlite3's native addon --------
FROM node:${NODE_VERSION}-bookworm-slim AS deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# why `npm install`, not `npm ci`: the lockfile lacks other platforms' optional builds of two dev tools
# (rollup, msgpackr-extract; see .ci/run), and `npm ci` refuses it as out of sync even with --omit=dev.
# `npm install` still installs exactly the locked versions; --omit=dev leaves the dev tools out.
RUN npm install --omit=dev --no-audit --no-fund \
  && npm cache clean --force

# --- runtime ---------------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG WARREN_VERSION=0.1.0
ARG WARREN_REVISION=unknown
LABEL org.opencontainers.image.title="warren" \
  org.opencontainers.image.description="Control plane for autonomous AI coding agents: hub and runner" \
  org.opencontainers.image.version="${WARREN_VERSION}" \
  org.opencontainers.image.revision="${WARREN_REVISION}" \
  org.opencontainers.image.licenses="Apache-2.0" \
  org.opencontainers.image.documentation="docs/kubernetes.md"
# git: runners clone, branch and commit in worktrees; openssh-client: git over SSH; tini: PID 1 that
# reaps the processes tasks leave behind and passes SIGTERM to Warren (which drains on it).
RUN apt-get update \
  && apt-get install -y --no-install-recommends git openssh-client ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*
# A fixed numeric UID/GID so that Kubernetes' runAsNonRoot can check it and volumes can be owned by it.
RUN groupadd --system --gid 10001 warren \
  && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/warren --shell /usr/sbin/nologin warren \
  && mkdir -p /var/lib/warren \
  && chown 10001:10001 /var/lib/warren
ENV NODE_ENV=production \
  WARREN_HOME=/var/lib/warren \
  HOME=/var/lib/warren
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY src ./src
USER 10001:10001
VOLUME ["/var/lib/warren"]
EXPOSE 7420
# No HEALTHCHECK: runners serve no HTTP, and in Kubernetes the hub's probes (/healthz, /readyz) do this.
ENTRYPOINT ["tini", "--", "node", "bin/warren.js"]
CMD ["up", "--no-runner", "--host", "0.0.0.0", "--port", "7420"]
