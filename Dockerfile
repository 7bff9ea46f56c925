# syntax=docker/dockerfile:1
# flowpanel app image: web, worker and the CLI all run from it (docker-compose.yml picks the command).

ARG NODE_VERSION=20

# --- deps: the exact dependency tree of package-lock.json -----------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# --- build: the Remix client assets and server bundle (web/build) ----------------------------------
FROM deps AS build
COPY . .
RUN npm run build:web

# --- runtime ----------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
# Server code is TypeScript run through tsx, so the runtime keeps the full dependency tree from the
# build stage (tsx included) rather than a production-only install.
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/web/build ./web/build
COPY --chown=node:node . .
RUN mkdir -p /app/data/uploads && chown -R node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.HEALTH_PORT || process.env.PORT || 3000) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "--import", "tsx", "bin/start.ts"]
