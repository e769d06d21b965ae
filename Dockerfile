# Courier: the server and the built web client in one small image.
#   docker build -t courier .
# Stage 1 builds with the same command developers use, `cargo xtask dist`:
# cargo builds the client for wasm32, wasm-bindgen writes its JavaScript,
# npm's wasm-opt shrinks it and tools/finish-dist.mjs assembles and
# precompresses frontend/dist (no trunk); then the release server.
# Stage 2 only runs.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo xtask dist

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/courier --create-home courier
COPY --from=build /src/target/release/courier /usr/local/bin/courier
COPY --from=build /src/frontend/dist /usr/share/courier/web
USER courier
ENV COURIER_LISTEN=0.0.0.0:8080 \
    COURIER_DATA_DIR=/var/lib/courier \
    COURIER_WEB_DIR=/usr/share/courier/web \
    COURIER_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# SIGTERM drains: sockets close with 1012 and clients reconnect elsewhere.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/courier"]
