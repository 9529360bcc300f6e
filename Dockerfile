# secret-svc worker image. Multi-stage: compile with dev dependencies, ship production ones only.
# Node 26 is the current LTS line (Node 20 reached its end of life in April 2026).

FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY protocol/package.json protocol/
COPY client/package.json client/
# --ignore-scripts: `prepare` would build before the sources are here; we build explicitly below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY protocol/tsconfig.json protocol/
COPY protocol/src protocol/src
COPY client/tsconfig.json client/
COPY client/src client/src
COPY src src
# The build embeds src/store/scripts/*.lua into the compiled store (scripts/embed-lua.mjs).
COPY scripts/embed-lua.mjs scripts/
RUN npm run build

FROM node:26-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY protocol/package.json protocol/
COPY client/package.json client/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
COPY --from=build /app/protocol/dist protocol/dist
COPY --from=build /app/client/dist client/dist
# Used by docker-compose.yml's worker healthcheck.
COPY deploy/worker-healthcheck.mjs deploy/
# The image's unprivileged user (uid 1000); the app files stay root-owned and world-readable, so
# compose may run the worker as another uid (the owner of the key file: see docker-compose.yml).
USER node
# node itself, not npm: npm 11 exits at once on SIGTERM without waiting for its script, so the
# worker would not drain. The worker handles SIGTERM/SIGINT (drain, then exit 0).
CMD ["node", "dist/src/main.js"]
