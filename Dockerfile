# Vigil container image: multi-stage on the official Node 24 LTS image.
# Build:  docker build -t vigil .
# Run:    docker run -e VIGIL_TOKEN="$(head -c 32 /dev/urandom | base64)" \
#           -p 4317:4317 -p 4318:4318 -v vigil-data:/var/lib/vigil vigil
# The receivers and the metrics/status server require that bearer token (see
# config/vigil.container.yaml and docs/container.md for opening them differently).
# .dockerignore keeps node_modules, keys, data, .git, bench/, src/fuzz and tests out of the context.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY proto ./proto
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="vigil" \
      org.opencontainers.image.description="OpenTelemetry Collector-compatible sidecar: audit-ready access logs, real-time anomaly flags, a tamper-evident archive" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="docker.io/library/node:24-bookworm-slim"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json LICENSE ./
COPY bin ./bin
COPY proto ./proto
COPY config ./config
COPY config/vigil.container.yaml /etc/vigil/vigil.yaml
RUN mkdir -p /var/lib/vigil && chown node:node /var/lib/vigil
USER node
WORKDIR /var/lib/vigil
VOLUME ["/var/lib/vigil"]
# OTLP/gRPC, OTLP/HTTP, metrics + status page, health check
EXPOSE 4317 4318 8888 13133
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "require('http').get('http://127.0.0.1:13133/',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
ENTRYPOINT ["node", "/app/bin/vigil.js"]
CMD ["run", "--config", "/etc/vigil/vigil.yaml"]
