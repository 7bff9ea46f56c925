# syntax=docker/dockerfile:1
# flowpanel app image: web, worker and the CLI all run from it (docker-compose.yml picks the command). The server is
# compiled to JavaScript at build time (npm run build:server: dist/, with the workflow bundle), so the image carries
# production dependencies only: no tsx, no TypeScript, no Vite.

# The current Node.js LTS: 26 is in Active LTS from 2026-10-28 (nodejs/Release schedule.json). The code also runs on
# Node 20 and later (package.json engines).
ARG NODE_VERSION=26

# --- build: compile the server, bundle the workflows, build the Remix app, all into dist/ -------------------------
FROM node:${NODE_VERSION}-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:server && FLOWPANEL_WEB_BUILD_DIR=dist/web/build npm run build:web

# --- prod-deps: the production part of package-lock.json only ---------------------------------------------------
FROM node:${NODE_VERSION}-trixie-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ----------------------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-trixie-slim AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# uploads: the receipts (volume `uploads`, backed up); state: the first admin's password file (volume `state`, not
# backed up). A named volume mounted here takes the owner and mode of these directories.
RUN mkdir -p /app/data/uploads /app/data/state && chown -R node:node /app/data && chmod 700 /app/data/state \
 && printf '#!/bin/sh\nexec node /app/dist/bin/flowpanel.js "$@"\n' > /usr/local/bin/flowpanel \
 && chmod 755 /usr/local/bin/flowpanel
USER node
EXPOSE 3000
# The default command serves the web app on PORT; docker-compose.yml gives the worker its own check (HEALTH_PORT).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "dist/bin/start.js"]
