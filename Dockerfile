# syntax=docker/dockerfile:1
#
# usercenter in a container: a static binary on a minimal, shell-less image,
# running as a non-root user with its data in the volume /data.
#
#   docker build -t usercenter --build-arg VERSION=$(git describe --always --dirty) .
#   docker run -d -p 8080:8080 -v usercenter-data:/data usercenter
#   docker exec <container> /usercenter app create --name myapp
#
# This repository's CI does not build it (there is no container builder on
# its machines); see docs/deployment.md.

FROM golang:1.26 AS build
WORKDIR /src
# The modules first, so that a change of the code reuses their layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The SQLite driver is pure Go, so the binary needs no C library: static.
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X usercenter/cli.Version=${VERSION}" -o /out/usercenter ./cmd/usercenter
# The data directory, private to the runtime user (nonroot is 65532).
RUN mkdir -m 0700 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/usercenter /usercenter
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# The database and the master key live in /data; the server listens on
# every interface of the container.
ENV USERCENTER_DATA=/data \
    USERCENTER_ADDR=0.0.0.0:8080
VOLUME ["/data"]
EXPOSE 8080
# The image has no shell or curl: the binary asks its own /healthz, at
# USERCENTER_ADDR.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usercenter", "healthcheck"]
# SIGTERM lets in-flight requests finish (up to 30 s): stop with -t 40.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usercenter"]
CMD ["serve"]
