# dts-gate container image, for CI systems other than GitHub Actions (GitLab, Jenkins, ...).
#
#   docker build -t dts-gate .                  # compiles from source (default target "image")
#   docker buildx build --target release ...    # release.yml: copies binaries built per arch
#
# Base images are pinned by tag and digest; Dependabot (docker ecosystem) moves both.
# The digests were taken offline from public Dockerfiles pinning the same tags, not pulled here.

# Build stage. The host target of rust:*-alpine is *-linux-musl, so the binary is static with no
# cross toolchain; the image already has gcc and musl-dev, which ring's C code needs.
FROM rust:1.95.0-alpine3.23@sha256:606fd313a0f49743ee2a7bd49a0914bab7deedb12791f3a846a34a4711db7ed2 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && cp target/release/dts-gate /dts-gate

# Runtime base. Alpine, not scratch or distroless: GitLab and Jenkins run the job script inside
# the job image, so it needs /bin/sh. The alpine base already ships the CA bundle
# (ca-certificates-bundle: /etc/ssl/certs/ca-certificates.crt) for anything the job script calls.
# No RUN instructions from here on, so release.yml can assemble arm64 and amd64 images without
# emulating either.
FROM alpine:3.23.6@sha256:85fe1e81d6758c208f3e1eed4338a1997e19d4be002d4dd32d3100c9a8c010a0 AS runtime
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="dts-gate" \
      org.opencontainers.image.description="Gate CI/CD pipelines on Tencent Cloud DTS migration checks" \
      org.opencontainers.image.source="https://github.com/dts-gate/dts-gate" \
      org.opencontainers.image.url="https://github.com/dts-gate/dts-gate" \
      org.opencontainers.image.documentation="https://github.com/dts-gate/dts-gate#docker-image-and-other-ci" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# Numeric, so Kubernetes runAsNonRoot can verify it without an /etc/passwd entry. (As a GitHub
# *docker* action this would fail: those must run as root. That is one reason action.yml is a
# composite action.)
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/dts-gate"]

# Release image: dist/linux-<arch>/dts-gate are the static musl binaries release.yml compiled
# natively per architecture (never under QEMU); the archives keep their 0755 mode.
FROM runtime AS release
ARG TARGETARCH
COPY dist/linux-${TARGETARCH}/dts-gate /usr/local/bin/dts-gate

# Default target: built from this checkout.
FROM runtime AS image
COPY --from=build /dts-gate /usr/local/bin/dts-gate
