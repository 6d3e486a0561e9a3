# Archway container image. The build stage compiles TypeScript; the runtime stage carries only what runs, as a
# non-root user. The code stays compatible with Node 20 (the tests run on it); the image uses the maintained LTS.
#   docker build -t archway .
#   docker run --rm -p 127.0.0.1:8080:8080 archway        # embedded default: demo users, in-memory store
# Without a config of its own the image starts in demo mode on the container's loopback only, with keys made
# at start; mount a real config at /etc/archway/archway.yaml (or set ARCHWAY_CONFIG) for anything else.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: the lock omits other platforms' optional binaries (see README), ci refuses that.
RUN npm install --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:22-bookworm-slim
ENV NODE_ENV=production ARCHWAY_CONFIG=/etc/archway/archway.yaml
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json LICENSE ./
COPY deploy/container/archway.yaml /etc/archway/archway.yaml
COPY deploy/container/entrypoint.sh /usr/local/bin/archway-entrypoint
# No policies in the image: a policy must name clouds, and the default config has none. Mount yours here.
RUN mkdir -p /etc/archway/policies
# The node image's unprivileged user (uid 1000); nothing under /app or /etc/archway is writable by it.
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/local/bin/archway-entrypoint"]
CMD ["serve"]
