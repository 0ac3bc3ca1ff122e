# hallpass API image. Build and tag it with the version the manifests pin (package.json's):
#   docker build -t hallpass:0.1.0 .
# The same image runs the API (CMD) and the migration Job (node dist/scripts/migrate.js).
# NODE_VERSION is also the Node that CI runs the test suite under (.ci/run reads it here), so the
# image's runtime is the one tested. The Debian 12 (bookworm) base matches the test machines' libc.
ARG NODE_VERSION=24.21.0

# 1. build: every dependency, compile TypeScript (server, migrations, scripts, pages) into dist/
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# patches/: fixes to dependencies that upstream has not released, applied by npm ci's postinstall
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
COPY sql ./sql
RUN npm run build

# 2. deps: production dependencies only (no tsx, tap or types in the image)
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund

# 3. runtime: what the server and the migrations read at run time, owned by root and read-only to
# the unprivileged `node` user (uid 1000, the runAsUser of the manifests)
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
# dist/: the server, the migrations and their sql/ files, and the pages' compiled scripts
COPY --from=build /app/dist ./dist
# the pages' HTML and CSS, served as they are
COPY src/web/public ./src/web/public
USER node
EXPOSE 3000 9464
CMD ["node", "dist/src/server.js"]
