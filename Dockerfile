# secret-svc worker image. Multi-stage: compile with dev dependencies, ship production ones only.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json client/
# --ignore-scripts: `prepare` would build before the sources are here; we build explicitly below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY client/tsconfig.json client/
COPY client/src client/src
COPY src src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json client/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
COPY --from=build /app/client/dist client/dist
# The image's unprivileged user (uid 1000); the app files stay root-owned and read-only to it.
USER node
# node itself, not npm: npm 11 exits at once on SIGTERM without waiting for its script, so the
# worker would not drain. The worker handles SIGTERM/SIGINT (drain, then exit 0).
CMD ["node", "dist/src/main.js"]
