# One image for every MedAxis service: the server, the worker and one-off CLI commands
# (migrate, seed, simulate), chosen by the command. See docker-compose.yml.
FROM node:24-bookworm-slim

WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    TURBO_TELEMETRY_DISABLED=1

# The whole tree before `npm ci`: the root postinstall applies patches/ (patch-package) and
# every workspace's manifest must be present. .dockerignore keeps local state out.
COPY . .
RUN npm ci && npm run build:web && npm cache clean --force

# The server listens on all interfaces inside the container; docker-compose.yml publishes it on
# the host's loopback only, since the API has no sessions yet.
ENV HOST=0.0.0.0 \
    PORT=4000
EXPOSE 4000

USER node
CMD ["node", "--import", "tsx", "apps/server/src/main.ts"]
